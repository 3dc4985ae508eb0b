import type { CheckResult, FailedCheck, ScenarioResult, StepResult } from './results.js';
import type { TranscriptEntry } from '../transport/transcript.js';

type Common = Omit<ScenarioResult, 'state' | 'failure' | 'error' | 'reason' | 'transcript'>;

/** The scenario's verdict is that of its first step that did not pass. */
export function scenarioVerdict(common: Common, steps: readonly StepResult[], transcript: readonly TranscriptEntry[]): ScenarioResult {
  const first = steps.find((s) => s.state !== 'passed');
  if (!first) return { ...common, state: 'passed' } as ScenarioResult;
  switch (first.state) {
    case 'failed': {
      // Every failed check of the step is reported: a mail admin fixing the first should see the others too.
      const failed = first.checks.filter((c) => !c.passed).map((c) => failedCheck(c, first));
      const [check] = failed;
      if (check === undefined) throw new Error(`step '${first.name}' is failed without a failed check`);
      return {
        ...common,
        state: 'failed',
        failure: { step: first.name, ...check, checks: failed, transcript: first.transcript },
      } as ScenarioResult;
    }
    case 'errored':
      return {
        ...common,
        state: 'errored',
        error: { ...first.problem, step: first.name, source: first.source, transcript: first.transcript.length > 0 ? first.transcript : transcript.slice(-30) },
      } as ScenarioResult;
    case 'inconclusive':
      return { ...common, state: 'inconclusive', reason: `${first.name}: ${first.reason}`, transcript: first.transcript } as ScenarioResult;
    case 'skipped':
      return { ...common, state: 'skipped', reason: first.reason } as ScenarioResult;
  }
}

function failedCheck(check: CheckResult, step: StepResult): FailedCheck {
  return {
    message: check.description,
    source: check.source ?? step.source,
    expected: check.expected,
    actual: check.actual,
    ...(check.rfc ? { rfc: check.rfc } : {}),
  };
}
