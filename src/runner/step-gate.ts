import type { Step } from '../scenario/model.js';
import { blockedBy, missingItem, type Unavailable } from './dependencies.js';
import type { CheckResult, StepResult } from './results.js';
import type { SessionPool } from './sessions.js';

/**
 * Decides, before and after each main step, whether a scenario goes on.
 *
 * Before: a step whose own `requires` is unmet is skipped with the reason
 * (failed when the target lists the capability under capabilities_required);
 * a step that uses the captures of a skipped step is skipped too; a step whose
 * `with` needs an item the server never sent does not run and fails, naming it.
 *
 * After: the scenario goes on past a pass, a step skipped on its own, and a
 * failure that only reports missing items; captures such a step left unset
 * become unavailable, so what depends on them is skipped rather than errored.
 */
export class StepGate {
  readonly #unavailable: Unavailable = new Map();
  /** Results the gate made itself: their steps never ran, so set no captures. */
  readonly #notRun = new WeakSet<StepResult>();

  constructor(
    private readonly pool: SessionPool,
    private readonly captures: Readonly<Record<string, unknown>>,
    private readonly setProperty: (key: string, value: string) => void,
  ) {}

  /** A result for a step that must not run as written, or undefined to run it. */
  async before(step: Step): Promise<StepResult | undefined> {
    const result = await this.#judge(step);
    if (result) this.#notRun.add(result);
    if (result?.state === 'skipped') this.setProperty(`step_skipped.${step.index + 1}`, `${step.name}: ${result.reason}`);
    return result;
  }

  /** True when the scenario goes on after this step's result. */
  after(step: Step, result: StepResult): boolean {
    const goesOn =
      result.state === 'passed' || (result.state === 'skipped' && result.stepOnly === true) || (result.state === 'failed' && result.missing !== undefined);
    const ran = !this.#notRun.has(result);
    for (const name of Object.keys(step.capture)) {
      if (ran) this.#unavailable.delete(name);
      else this.#unavailable.set(name, `step '${step.name}' ${result.state === 'skipped' ? `was skipped (${result.reason})` : 'did not run'}`);
    }
    return goesOn;
  }

  async #judge(step: Step): Promise<StepResult | undefined> {
    const blocked = blockedBy(step, this.#unavailable);
    if (blocked !== undefined) return skipped(step, blocked);
    const missing = missingItem(step.with, this.captures);
    if (missing !== undefined) return { ...shell(step), state: 'failed', checks: [notRunCheck(step, missing)], missing: [missing] };
    if (!step.requires || !step.session) return undefined;
    let verdict;
    try {
      verdict = await this.pool.stepRequirement(step.session, step.requires.capabilities);
    } catch {
      return undefined; // could not even open the session: the step itself runs into it and reports it
    }
    if (verdict?.kind === 'skipped') return skipped(step, verdict.reason);
    if (verdict?.kind === 'failed') return { ...shell(step), state: 'failed', checks: [{ ...verdict.check, source: step.source }] };
    return undefined;
  }
}

/** The fields of a step's result that say which step it is, in report order. */
export function stepIdentity(step: Step) {
  return {
    name: step.name,
    action: step.action,
    ...(step.session ? { session: step.session } : {}),
    source: step.source,
  };
}

/** The fields of a result for a step that did not run. */
export function shell(step: Step) {
  return {
    ...stepIdentity(step),
    durationMs: 0,
    checks: [],
    transcript: [],
  };
}

function skipped(step: Step, reason: string): StepResult {
  return { ...shell(step), state: 'skipped', reason, stepOnly: true };
}

/** The check of a step that could not run because an earlier answer lacked an item it needs. */
function notRunCheck(step: Step, item: string): CheckResult {
  return {
    description: `step '${step.name}' has what it needs from earlier answers`,
    passed: false,
    expected: `${item} in an earlier step's output`,
    actual: `not run: the server did not send ${item}`,
    source: step.source,
    notJudged: item,
  };
}
