import type { KnownDeviation } from '../core/checks.js';
import { fullCheckId } from '../scenario/check-ids.js';
import type { Scenario, Step } from '../scenario/model.js';
import type { CheckResult, DeviationResult, StepResult } from './results.js';

/**
 * Applies a target's known deviations (its `deviations:`) to the results of
 * one scenario's steps, after they ran. A profile changes verdicts, never
 * what runs: the scenario went on, or stopped, exactly as it would have
 * without the profile.
 *
 * - A listed check that FAILED is marked as that deviation: it no longer
 *   decides the verdict (verdict.ts), and it is listed as 'known' with the
 *   profile's reason and clause. Only a judged failure can be one: an errored,
 *   inconclusive or skipped step has no failed check to list.
 * - When the listed check reports a missing item (`exists: true` on an item
 *   the server did not send, such as Courier's SELECT without [UIDNEXT]), the
 *   scenario goes on as it always does after a missing item, and the checks
 *   later reported "not judged: the server did not send …" for that same item
 *   (in the step, or through its captures) are marked with the deviation too:
 *   they follow from it and are not further failures. Any other failure is
 *   still a failure, and decides the verdict.
 * - A failure that is not a missing item stops a scenario, listed or not: the
 *   deviation then says how many later steps did not run (`stepsNotRun`), so
 *   no report reads the rest as judged.
 * - A listed check that PASSED is reported as 'fixed', so the entry can go.
 */
export function judgeDeviations(
  scenario: Scenario,
  steps: readonly StepResult[],
  profile: readonly KnownDeviation[],
): { steps: StepResult[]; deviations: DeviationResult[] } {
  const prefix = `${scenario.id}#`;
  const listed = new Map(profile.filter((d) => d.check.startsWith(prefix)).map((d) => [d.check.slice(prefix.length), d]));
  if (listed.size === 0) return { steps: [...steps], deviations: [] };
  // Items inside captures whose absence a known deviation reported → that deviation's full id.
  const excused = new Map<string, string>();
  const found: DeviationResult[] = [];
  const notJudgedBy = new Map<string, number>();

  const marked = steps.map((result, i) => {
    const step = scenario.steps[i];
    if (step === undefined) return result;
    // An item of this step's own output ("uidnext") means this step's; one inside a capture ("captures.s1.uidnext") any later step's.
    const local = new Map<string, string>();
    // First the listed checks themselves, so that the missing items they report excuse the step's own "not judged" checks.
    let checks: CheckResult[] = result.checks.map((c) => {
      const entry = c.id !== undefined && c.notJudged === undefined ? listed.get(c.id) : undefined;
      if (entry === undefined || result.state === 'errored' || result.state === 'inconclusive' || result.state === 'skipped') return c;
      found.push(deviationOf(entry, c, result, c.passed ? 'fixed' : 'known'));
      if (c.passed) return c;
      for (const item of absentItems(step, c, result)) (item.startsWith('captures.') ? excused : local).set(item, entry.check);
      return { ...c, deviation: entry.check };
    });
    checks = checks.map((c) => {
      if (c.passed || c.notJudged === undefined) return c;
      const by = excusedBy(c.notJudged.startsWith('captures.') ? excused : local, c.notJudged);
      if (by === undefined) return c;
      notJudgedBy.set(by, (notJudgedBy.get(by) ?? 0) + 1);
      return { ...c, deviation: by };
    });
    return { ...result, checks } as StepResult;
  });

  // A failed step that is not a missing item is where the scenario stopped: say what that left unjudged.
  const last = marked.at(-1);
  const stoppedAfter = last !== undefined && last.state === 'failed' && last.missing === undefined ? scenario.steps.length - marked.length : 0;
  const deviations = found.map((d) => {
    if (d.status !== 'known') return d;
    const notJudged = notJudgedBy.get(d.check);
    const stopped = stoppedAfter > 0 && last?.checks.some((c) => c.deviation === d.check && c.notJudged === undefined);
    return { ...d, ...(notJudged !== undefined ? { notJudged } : {}), ...(stopped ? { stepsNotRun: stoppedAfter } : {}) };
  });
  return { steps: marked, deviations };
}

/** True when a failed step decides nothing: every check of it that failed is a known deviation. */
export function onlyDeviations(step: StepResult): boolean {
  return step.state === 'failed' && step.checks.some((c) => !c.passed) && step.checks.every((c) => c.passed || c.deviation !== undefined);
}

function deviationOf(entry: KnownDeviation, check: CheckResult, step: StepResult, status: 'known' | 'fixed'): DeviationResult {
  return {
    check: entry.check,
    status,
    reason: entry.reason,
    rfc: entry.rfc,
    step: step.name,
    ...(check.source !== undefined ? { source: check.source } : {}),
    expected: check.expected,
    actual: check.actual,
  };
}

/**
 * What a failed `exists: true` check reported missing, as the later "not
 * judged" checks name it: the item itself within its step, and the same item
 * inside each of the step's captures (`captures.s1.uidnext` for `s1: "$"`).
 */
function absentItems(step: Step, check: CheckResult, result: StepResult): string[] {
  const expectation = step.expect.find((e) => e.id === check.id);
  if (expectation === undefined || expectation.matcher !== 'exists' || expectation.value !== true) return [];
  const that = expectation.that;
  if (result.state !== 'failed' || result.missing?.includes(that) !== true) return [];
  const items = [that];
  for (const [name, path] of Object.entries(step.capture)) {
    if (path === '$') items.push(`captures.${name}.${that}`);
    else if (path === that) items.push(`captures.${name}`);
    else if (that.startsWith(`${path}.`)) items.push(`captures.${name}.${that.slice(path.length + 1)}`);
  }
  return items;
}

function excusedBy(excused: ReadonlyMap<string, string>, item: string): string | undefined {
  for (const [missing, by] of excused) if (item === missing || item.startsWith(`${missing}.`)) return by;
  return undefined;
}

/** The profile entries that name one of this scenario's checks, by full id. */
export function profileFor(scenario: Scenario, profile: readonly KnownDeviation[] | undefined): KnownDeviation[] {
  if (profile === undefined) return [];
  const ids = new Set([...scenario.steps, ...scenario.cleanup].flatMap((s) => s.expect.map((e) => fullCheckId(scenario.id, e.id))));
  return profile.filter((d) => ids.has(d.check));
}
