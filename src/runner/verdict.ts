import type { CheckResult, FailedCheck, ScenarioResult, StepResult } from './results.js';
import type { TranscriptEntry } from '../transport/transcript.js';
import { fullCheckId } from '../scenario/check-ids.js';
import { onlyDeviations } from './deviations.js';

type Common = Omit<ScenarioResult, 'state' | 'failure' | 'error' | 'reason' | 'transcript'>;

/**
 * The scenario's verdict is that of its first step that did not pass. A
 * scenario that left anything behind is never passed, nor skipped: either
 * would let a run exit 0 while mail or folders it created stay on a real
 * mailbox. It fails with one check that names every leftover, or, when a
 * second Ctrl-C stopped its cleanup, is errored (interrupted) naming them. A step skipped
 * on its own (its requires unmet) does not decide it: the scenario went on.
 * Nor does a step whose only failed checks are the target's known deviations
 * (deviations.ts): they are listed beside the verdict, in `deviations`.
 */
export function scenarioVerdict(common: Common, steps: readonly StepResult[], transcript: readonly TranscriptEntry[]): ScenarioResult {
  const verdict = stepsVerdict(common, steps, transcript);
  if (common.leftovers.length === 0 || (verdict.state !== 'passed' && verdict.state !== 'skipped')) return verdict;
  // Cleanup stopped by a second Ctrl-C: the leftovers are the user's interrupt, not the server's fault.
  const interrupted = common.cleanup.find((s) => s.state === 'errored' && s.problem.code === 'EINTERRUPTED');
  if (interrupted?.state === 'errored') {
    return {
      ...common,
      state: 'errored',
      error: {
        ...interrupted.problem,
        message: `${interrupted.problem.message}; left on the server: ${common.leftovers.join('; ')}`,
        step: interrupted.name,
        source: interrupted.source,
        transcript: interrupted.transcript,
      },
    } as ScenarioResult;
  }
  return leftoversFailure(common);
}

export const LEFTOVERS_CHECK = 'cleanup removed everything this run created';

function leftoversFailure(common: Common): ScenarioResult {
  const last = common.cleanup.at(-1);
  const check = {
    message: LEFTOVERS_CHECK,
    source: last?.source ?? { file: common.file, line: common.line, col: 1 },
    expected: 'nothing this run created is left on the server',
    actual: common.leftovers.join('; '),
  };
  return {
    ...common,
    state: 'failed',
    failure: { step: last?.name ?? 'cleanup', ...check, checks: [check], transcript: common.cleanup.flatMap((s) => s.transcript) },
  } as ScenarioResult;
}

function stepsVerdict(common: Common, steps: readonly StepResult[], transcript: readonly TranscriptEntry[]): ScenarioResult {
  const first = steps.find(
    (s): s is Exclude<StepResult, { state: 'passed' }> => s.state !== 'passed' && !(s.state === 'skipped' && s.stepOnly) && !onlyDeviations(s),
  );
  if (!first) return { ...common, state: 'passed' } as ScenarioResult;
  switch (first.state) {
    case 'failed': {
      // Every failed check of the step is reported: a mail admin fixing the first should see the others too.
      // A known deviation in the same step is listed in `deviations`, not as a failure.
      const failed = first.checks.filter((c) => !c.passed && c.deviation === undefined).map((c) => failedCheck(c, first, common.id));
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

function failedCheck(check: CheckResult, step: StepResult, scenarioId: string): FailedCheck {
  return {
    ...(check.id !== undefined ? { check: fullCheckId(scenarioId, check.id) } : {}),
    message: check.description,
    source: check.source ?? step.source,
    expected: check.expected,
    actual: check.actual,
    ...(check.rfc ? { rfc: check.rfc } : {}),
  };
}
