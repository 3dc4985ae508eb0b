import type { z } from 'zod';
import type { ActionContext } from '../actions/context.js';
import { actions } from '../actions/registry.js';
import { MATCHERS, type MatcherName } from '../expectations/matchers.js';
import { describeValue, readPath } from '../expectations/values.js';
import { protocols } from '../protocols/registry.js';
import type { Redactor } from '../transport/redact.js';
import type { Transcript } from '../transport/transcript.js';
import { classifyError, type RefusalInfo } from './classify.js';
import { RunProblem } from '../protocols/outcomes.js';
import type { CheckResult, StepResult } from './results.js';
import type { Expectation, Scenario, Step } from '../scenario/model.js';
import type { SourcePos } from '../core/source.js';
import { missingItem } from './dependencies.js';
import { stepIdentity } from './step-gate.js';

/** Resolves ${…} in a parsed tree; supplied by the scenario runner with the current scopes. */
export type Resolve = (tree: unknown, path: readonly (string | number)[]) => unknown;

export interface StepEnvironment {
  readonly scenario: Scenario;
  readonly transcript: Transcript;
  readonly redactor: Redactor;
  readonly resolve: Resolve;
  readonly captures: Record<string, unknown>;
  readonly context: (step: Step) => ActionContext;
  /**
   * The run's interrupt (Ctrl-C; in cleanup, the second one). A step it cuts
   * short is reported as interrupted and not judged: a wait that ended early
   * says nothing about the server, neither a failure nor a pass.
   */
  readonly interrupt?: AbortSignal;
}

/**
 * Runs one step: interpolate its params, validate them, run the action, judge
 * its expectations, store its captures. Every outcome becomes a StepResult;
 * nothing escapes as an exception.
 */
export async function runStep(step: Step, env: StepEnvironment): Promise<StepResult> {
  const started = performance.now();
  const result = await runAndJudge(step, env, started);
  if (env.interrupt?.aborted !== true) return result;
  const waited = Math.round(performance.now() - started);
  return {
    name: result.name,
    action: result.action,
    ...(result.session !== undefined ? { session: result.session } : {}),
    source: result.source,
    durationMs: waited,
    transcript: result.transcript,
    state: 'errored',
    problem: { code: 'EINTERRUPTED', message: `${interruptReason(env.interrupt)} after ${waited} ms, before the step could be judged` },
    checks: [],
  };
}

/** The interrupt's own words ("interrupted by SIGINT"), or a plain "interrupted". */
function interruptReason(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  return reason instanceof Error && reason.name !== 'AbortError' ? reason.message : 'interrupted';
}

async function runAndJudge(step: Step, env: StepEnvironment, started: number): Promise<StepResult> {
  const mark = env.transcript.mark();
  const common = () => ({
    ...stepIdentity(step),
    durationMs: Math.round(performance.now() - started),
    transcript: env.redactor.entries(env.transcript.since(mark)),
  });

  let output: Record<string, unknown>;
  try {
    const action = actions[step.action];
    if (!action) throw new RunProblem('EUNKNOWN_ACTION', `unknown action '${step.action}'`);
    const params = parseParams(action.params, env.resolve(step.with ?? {}, [...step.path, 'with']), step);
    const result = (await action.run(env.context(step), params)) as Record<string, unknown> | undefined;
    output = { ok: true, ...result };
  } catch (err) {
    const outcome = classifyError(err);
    switch (outcome.kind) {
      case 'reply':
        // The server said no. Whether that breaks the promise is for the expectations to judge.
        output = { ok: false, error: outcome.error };
        break;
      case 'inconclusive':
        return { ...common(), state: 'inconclusive', reason: outcome.reason, checks: [] };
      case 'skipped':
        return { ...common(), state: 'skipped', reason: outcome.reason, checks: [] };
      case 'failed':
        return { ...common(), state: 'failed', checks: [outcome.check] };
      case 'errored':
        return { ...common(), state: 'errored', problem: outcome.problem, checks: [] };
    }
  }

  const { judged, notJudged, absence, missing } = splitByAbsence(step, output, env.captures);
  let checks: CheckResult[];
  try {
    checks = [...judgeStep({ ...step, expect: judged }, output, env.resolve), ...notJudged];
  } catch (err) {
    const outcome = classifyError(err);
    const problem = outcome.kind === 'errored' ? outcome.problem : { code: 'EEXPECT', message: (err as Error).message };
    return { ...common(), state: 'errored', problem, checks: [] };
  }
  const storeCaptures = () => {
    for (const [name, path] of Object.entries(step.capture)) env.captures[name] = readPath(output, path);
  };
  if (checks.every((c) => c.passed)) {
    storeCaptures();
    return { ...common(), state: 'passed', checks };
  }
  // Failures that only say "the server did not send X" let the scenario go on with what it did send.
  if (checks.every((c) => c.passed || notJudged.includes(c) || (c.source !== undefined && absence.has(c.source)))) {
    storeCaptures();
    return { ...common(), state: 'failed', checks, missing };
  }
  return { ...common(), state: 'failed', checks };
}

/**
 * Sorts a step's expectations by what the server sent. An `exists: true` on
 * an item the output lacks is judged (and fails: that is the report of the
 * missing item, with its clause); any other expectation on that item, or one
 * whose operand needs an item an earlier step never got, is not judged and
 * says so, so that one missing item is one failure, not an interpolation
 * error or a cascade of wrong comparisons.
 */
function splitByAbsence(step: Step, output: Record<string, unknown>, captures: Readonly<Record<string, unknown>>) {
  const absent = new Set(step.expect.filter((e) => e.matcher === 'exists' && e.value === true && readPath(output, e.that) === undefined).map((e) => e.that));
  const judged: Expectation[] = [];
  const notJudged: CheckResult[] = [];
  const absence = new Set<SourcePos>();
  const missing: string[] = [];
  for (const expectation of step.expect) {
    if (expectation.matcher === 'exists' && absent.has(expectation.that)) {
      judged.push(expectation);
      absence.add(expectation.source);
      missing.push(expectation.that);
      continue;
    }
    const item = absent.has(expectation.that) ? expectation.that : missingItem(expectation.value, captures);
    if (item === undefined) {
      judged.push(expectation);
      continue;
    }
    missing.push(item);
    const operand = typeof expectation.value === 'string' ? expectation.value : describeValue(expectation.value);
    const wanted = `${expectation.that} ${expectation.matcher.replace(/_/g, ' ')} ${operand}`;
    notJudged.push({
      description: expectation.because ?? wanted,
      passed: false,
      expected: wanted,
      actual: `not judged: the server did not send ${item}`,
      ...(expectation.rfc ? { rfc: expectation.rfc } : {}),
      source: expectation.source,
      id: expectation.id,
      notJudged: item,
    });
  }
  return { judged, notJudged, absence, missing: [...new Set(missing)] };
}

function parseParams(schema: z.ZodType, value: unknown, step: Step): unknown {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const where = issue.path.length > 0 ? ` at with.${issue.path.join('.')}` : '';
  throw new RunProblem('EINVALID_PARAMS', `step '${step.name}': after interpolation, parameter${where} is invalid: ${issue.message}`);
}

/**
 * Judges a step's output: the implicit "the server accepts it" check when no
 * expectation speaks of the reply, then every expectation in order.
 * Exported for the unit tests; the runner calls it through runStep.
 */
export function judgeStep(step: Step, output: Record<string, unknown>, resolve: Resolve): CheckResult[] {
  const checks: CheckResult[] = [];
  const judgesReply = step.expect.some((e) => e.that === 'ok' || e.that === 'error' || e.that.startsWith('error.'));
  if (!judgesReply) {
    // With no expectation about the reply, a refusal is itself the failure. It cites the
    // clause of the command the server refused, which the protocol's own table knows.
    const error = output.error as Partial<RefusalInfo> | undefined;
    const rfc = output.ok === true ? undefined : protocols.clauseOfRefusedCommand(error?.protocol ?? actions[step.action]?.protocol, error?.command);
    checks.push({
      description: `the server accepts ${step.action}`,
      passed: output.ok === true,
      expected: 'a positive reply',
      actual: output.ok === true ? 'a positive reply' : (error?.reply ?? describeValue(output.error)),
      ...(rfc ? { rfc } : {}),
      source: step.source,
    });
  }
  step.expect.forEach((expectation) => {
    const expected = resolve(expectation.value, expectation.path);
    const actual = readPath(output, expectation.that);
    const matcher = MATCHERS[expectation.matcher as MatcherName];
    if (!matcher) throw new RunProblem('EUNKNOWN_MATCHER', `unknown matcher '${expectation.matcher}'`);
    const verdict = matcher(actual, expected);
    checks.push({
      description: expectation.because ?? `${expectation.that} ${expectation.matcher.replaceAll('_', ' ')} ${describeValue(expected)}`,
      passed: verdict.passed,
      expected: verdict.expected,
      actual: verdict.actual,
      ...(expectation.rfc ? { rfc: expectation.rfc } : {}),
      source: expectation.source,
      ...(expectation.id ? { id: expectation.id } : {}),
    });
  });
  return checks;
}
