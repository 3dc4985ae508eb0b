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

/**
 * A server answer that breaks the protocol's grammar: a failed check. It
 * cites the clause the answer broke, with its wording, as `expected` and as
 * `rfc` alike (a number's rule, a listing's syntax); an answer that broke no
 * one clause gets the protocol's general reply syntax instead. One shape for
 * every protocol module and both IMAP stacks, so the same broken rule reads
 * the same in a report whichever client met it.
 */
export function grammarFailure(
  description: string,
  actual: string,
  clause: string | undefined,
  general: { readonly expected: string; readonly rfc: string },
): { readonly kind: 'failed'; readonly check: CheckResult } {
  return {
    kind: 'failed',
    check: { description, passed: false, expected: clause ?? general.expected, actual, rfc: clause ?? general.rfc },
  };
}
