import { setTimeout as sleep } from 'node:timers/promises';
import { describeChange, probeChanges } from '../probe/changes.js';
import type { HostReport } from '../probe/host-probe.js';
import type { ProbeOutcome } from './probe-output.js';
import { oneLine } from '../reporters/escape.js';
import { EXIT } from './exit-codes.js';

export interface WatchHooks {
  /** One probe of every host; throws when a round could not happen (no address, the resolver failed). */
  readonly round: () => Promise<ProbeOutcome>;
  /** After every complete round: the first writes the table, every round rewrites the reporters' files. Returns the exit code it would give. */
  readonly afterRound: (outcome: ProbeOutcome, first: boolean, timing: { startedAt: number; durationMs: number }) => Promise<number>;
  readonly say: (line: string) => void;
  readonly stdout: NodeJS.WritableStream;
  readonly signal: AbortSignal;
  readonly now?: () => Date;
}

export async function watchProbe(seconds: number, hooks: WatchHooks): Promise<number> {
  const now = hooks.now ?? (() => new Date());
  const stamp = () =>
    now()
      .toISOString()
      .replace(/\.\d{3}Z$/, 'Z');
  let previous: ProbeOutcome | undefined;
  for (let n = 1; ; n++) {
    if (n > 1 && !(await pause(seconds * 1000, hooks.signal))) break;
    const startedAt = Date.now();
    let outcome: ProbeOutcome;
    try {
      outcome = await hooks.round();
    } catch (err) {
      if (hooks.signal.aborted) break;
      // A round that could not happen (DNS down) is said once and the watch goes on: the next may work.
      hooks.say(`${stamp()} round ${n}: could not probe: ${oneLine((err as Error).message)}`);
      continue;
    }
    if (hooks.signal.aborted) break;
    if (previous !== undefined) {
      const changes = probeChanges(comparable(previous), comparable(outcome));
      if (changes.length > 0) {
        const lines = changes.map((c) => `  ${describeChange(c, oneLine)}`);
        hooks.stdout.write(`${stamp()} round ${n}: ${changes.length} change${changes.length === 1 ? '' : 's'}\n${lines.join('\n')}\n`);
      }
    } else {
      hooks.stdout.write(`${stamp()} round ${n}; watching every ${seconds} s, printing only what changes (Ctrl-C ends)\n`);
    }
    await hooks.afterRound(outcome, previous === undefined, { startedAt, durationMs: Date.now() - startedAt });
    previous = outcome;
  }
  hooks.say('mailprobe probe: interrupted; the watch ended');
  return EXIT.INTERRUPTED;
}

/** The hosts of a round, and for a domain one more with no ports holding its DNS, discovery and disagreement findings. */
function comparable(outcome: ProbeOutcome): HostReport[] {
  if (outcome.domain === undefined) return [...outcome.hosts];
  const { records, discovery, findings } = outcome.domain;
  return [{ host: outcome.domain.domain, ports: [], findings: [...records.findings, ...discovery.findings, ...findings] }, ...outcome.hosts];
}

/** Waits `ms`; false when the signal ended the wait (the timer is cleared either way). */
async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}
