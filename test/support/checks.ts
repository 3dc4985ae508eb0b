import { isAbsolute, join } from 'node:path';
import { loadScenarios } from '../../src/runner/load-inputs.js';
import type { ScenarioResult } from '../../src/runner/results.js';
import type { Scenario } from '../../src/scenario/model.js';
import { describeValue } from '../../src/expectations/values.js';
import { REPO_ROOT } from './run-suite.js';

/**
 * Names for the checks of the shipped suites, so a fault test can say which
 * check a broken server must trip first, and the coverage matrix can say
 * which checks no fault has proven yet.
 *
 * A check's key reads `<scenario id> › <step name> › <that> <matcher> <value>`,
 * e.g. `imap/flag-sync › phone sees \Seen and \Flagged › flags contains \Seen`.
 * A step's implicit reply check ("the server accepts …") is `<step> › (reply)`.
 * Keys are built from the YAML, so renaming a step renames its keys and the
 * fault catalogue must follow: that is on purpose, the catalogue names
 * exactly what it proves.
 */
export interface CheckInfo {
  readonly key: string;
  readonly scenario: string;
  readonly step: string;
  readonly rfc?: string;
  /** `file:line:col` of the expectation. */
  readonly at: string;
}

export interface SuiteChecks {
  readonly scenarios: readonly Scenario[];
  /** Every explicit expectation of every step, in file order. */
  readonly checks: readonly CheckInfo[];
  /** Expectation position (`file:line:col`) → key. */
  readonly byPosition: ReadonlyMap<string, string>;
  /** Step position → key of its implicit reply check. */
  readonly replyByStepPosition: ReadonlyMap<string, string>;
  /**
   * `<scenario id> › <step name> › ` of every step and cleanup step: checks an action
   * raises itself (APPENDUID, a refused capability query) and the leftovers check are
   * named after their step and their own description.
   */
  readonly stepPrefixes: ReadonlySet<string>;
}

const at = (pos: { file: string; line: number; col: number }) => `${pos.file}:${pos.line}:${pos.col}`;

/** `suites` are shipped suite names (pop3, imap, smtp) or absolute paths of other scenario files (the examples). */
export async function loadSuiteChecks(suites: readonly string[] = ['pop3', 'imap']): Promise<SuiteChecks> {
  const loaded = await loadScenarios(suites.map((p) => (isAbsolute(p) ? p : join(REPO_ROOT, 'suites', p))));
  if (!loaded.value || loaded.problems.length > 0) throw new Error(`the shipped suites do not load:\n${loaded.problems.join('\n')}`);
  const checks: CheckInfo[] = [];
  const byPosition = new Map<string, string>();
  const replyByStepPosition = new Map<string, string>();
  const stepPrefixes = new Set<string>();
  for (const scenario of loaded.value) {
    for (const step of [...scenario.steps, ...scenario.cleanup]) stepPrefixes.add(`${scenario.id} › ${step.name} › `);
    const seen = new Map<string, number>();
    for (const step of scenario.steps) {
      replyByStepPosition.set(at(step.source), `${scenario.id} › ${step.name} › (reply)`);
      for (const e of step.expect) {
        const base = `${scenario.id} › ${step.name} › ${e.that} ${e.matcher} ${describeOperand(e.value)}`;
        const n = (seen.get(base) ?? 0) + 1;
        seen.set(base, n);
        const key = n === 1 ? base : `${base} #${n}`;
        checks.push({ key, scenario: scenario.id, step: step.name, ...(e.rfc ? { rfc: e.rfc } : {}), at: at(e.source) });
        byPosition.set(at(e.source), key);
      }
    }
  }
  return { scenarios: loaded.value, checks, byPosition, replyByStepPosition, stepPrefixes };
}

function describeOperand(value: unknown): string {
  return typeof value === 'string' ? value : describeValue(value);
}

/**
 * A scenario's verdict in one line: `passed`, `skipped`, `errored <code>`,
 * `inconclusive`, or `failed at <check key>` naming the first failing check.
 */
export function outcomeOf(result: ScenarioResult, checks: SuiteChecks): string {
  switch (result.state) {
    case 'failed': {
      // Scenario failures always name their source; only probe cases have none.
      const pos = result.failure.source === undefined ? '' : at(result.failure.source);
      // A step's own source is also where checks an action raises itself (APPENDUID, a refused
      // capability query) point: only the implicit "the server accepts …" check is its (reply).
      const reply = result.failure.message.startsWith('the server accepts ') ? checks.replyByStepPosition.get(pos) : undefined;
      const key = checks.byPosition.get(pos) ?? reply;
      return `failed at ${key ?? `${result.id} › ${result.failure.step} › ${result.failure.message}`}`;
    }
    case 'errored':
      return `errored ${result.error.code}`;
    default:
      return result.state;
  }
}
