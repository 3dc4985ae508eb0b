import type { CheckResult, ProblemInfo } from '../core/checks.js';

/**
 * Signals a step or session raises to end the scenario with a verdict other
 * than "errored". They are thrown from deep inside (e.g. while a session opens
 * and finds a capability missing) and caught by the step runner.
 */
export class SkipScenario extends Error {
  readonly code = 'ESKIP';
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'SkipScenario';
  }
}

/** A requirement the target file marks as mandatory is missing: non-compliance. */
export class RequirementFailure extends Error {
  readonly code = 'EREQUIRED';
  constructor(readonly check: CheckResult) {
    super(check.description);
    this.name = 'RequirementFailure';
  }
}

/** A could-not-run problem with a stable code, raised by the runner itself. */
export class RunProblem extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly phase?: string,
  ) {
    super(message);
    this.name = 'RunProblem';
  }
  get info(): ProblemInfo {
    return { code: this.code, message: this.message, ...(this.phase ? { phase: this.phase } : {}) };
  }
}
