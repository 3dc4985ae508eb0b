import { InterpolationError } from '../interpolate/index.js';
import { protocols, type ProtocolRegistry } from '../protocols/registry.js';
import { formatPos } from '../core/source.js';
import { TransportError } from '../transport/errors.js';
import { RequirementFailure, RunProblem, SkipScenario } from '../protocols/outcomes.js';

export type { RefusalInfo } from '../protocols/module.js';
import type { ProtocolOutcome } from '../protocols/module.js';

// A step ends as a protocol module's outcome says (src/protocols/module.ts): one union, written once.
export type StepOutcome = ProtocolOutcome;

/**
 * Turns whatever a step threw into a verdict. This is where "failure ≠ error"
 * is decided:
 * - the server said no (-ERR, 5xx): a reply, judged by the step's expectations
 * - the server said "not now" (4xx, [IN-USE], [SYS/TEMP], [LOGIN-DELAY]): inconclusive
 * - the server broke the protocol's framing: failed
 * - we could not connect, verify TLS, log in, or time ran out: errored
 * Each protocol's own error classes are mapped by its module (src/protocols/<p>/);
 * this function only asks the registry, and names no protocol.
 */
export function classifyError(err: unknown, registry: ProtocolRegistry = protocols): StepOutcome {
  if (err instanceof SkipScenario) return { kind: 'skipped', reason: err.reason };
  if (err instanceof RequirementFailure) return { kind: 'failed', check: err.check };
  const own = registry.classify(err);
  if (own) return own;
  if (err instanceof TransportError) {
    return { kind: 'errored', problem: { code: err.code, message: err.message, phase: err.phase } };
  }
  if (err instanceof RunProblem) return { kind: 'errored', problem: err.info };
  if (err instanceof InterpolationError) {
    return { kind: 'errored', problem: { code: err.code, message: `${formatPos(err.pos)}: ${err.message}` } };
  }
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' ? e.code : 'EINTERNAL';
  return { kind: 'errored', problem: { code, message: typeof e?.message === 'string' ? e.message : String(err) } };
}
