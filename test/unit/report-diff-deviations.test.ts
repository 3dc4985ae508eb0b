import { describe, expect, it } from 'vitest';
import { diffReports, parseJsonReport } from '../../src/reporters/diff.js';
import { renderDiff } from '../../src/reporters/diff-render.js';
import { renderJson } from '../../src/reporters/json.js';
import type { DeviationResult, RunResult, ScenarioResult } from '../../src/runner/results.js';
import { buildSampleRun } from '../support/sample-results.js';

/** `report diff` and known deviations: a new one is shown, never a regression; one that went is news for the profile. */
const known: DeviationResult = {
  check: 'pop3/login-user-pass#pass-accepted',
  status: 'known',
  reason: 'answers PASS late',
  rfc: 'RFC 1939 §7',
  step: 'login',
  expected: '+OK',
  actual: '-ERR',
};

function report(shape: (s: ScenarioResult) => ScenarioResult): ReturnType<typeof parseJsonReport> {
  const base = buildSampleRun({ insecure: false });
  const passed = base.scenarios.find((s) => s.state === 'passed')!;
  const run: RunResult = { ...base, scenarios: [shape(passed)] };
  return parseJsonReport(renderJson(run));
}
const failedVersion = (s: ScenarioResult): ScenarioResult =>
  ({
    ...s,
    state: 'failed',
    failure: {
      message: 'PASS accepted',
      checks: [{ message: 'PASS accepted', source: { file: 'f', line: 1, col: 1 }, expected: '+OK', actual: '-ERR' }],
      transcript: [],
    },
  }) as ScenarioResult;

describe('report diff with known deviations', () => {
  it('a failure that became a listed deviation: newly passing, a new known deviation, no regression', () => {
    const diff = diffReports(
      report(failedVersion),
      report((s) => ({ ...s, deviations: [known] })),
    );
    expect(diff.states.map((s) => s.kind)).toEqual(['newly-passing']);
    expect(diff.deviations).toEqual([
      { id: 'pop3/login-user-pass', check: known.check, kind: 'appeared', other: 'not listed or not judged', rfc: 'RFC 1939 §7', reason: 'answers PASS late' },
    ]);
    expect(diff.regressed).toBe(false);
    const text = renderDiff(diff, 'console');
    expect(text).toContain("New known deviations (listed in the target's deviations):");
    expect(text).toContain('pop3/login-user-pass#pass-accepted');
    expect(text).toMatch(/no regression\n$/);
    expect(renderDiff(diff, 'markdown')).toContain('#### New known deviations');
  });

  it('a deviation that is fixed now is listed as no longer seen, and is no regression', () => {
    const diff = diffReports(
      report((s) => ({ ...s, deviations: [known] })),
      report((s) => ({ ...s, deviations: [{ ...known, status: 'fixed', actual: '+OK' }] })),
    );
    expect(diff.states).toEqual([]);
    expect(diff.deviations.map((d) => [d.kind, d.other])).toEqual([['gone', 'fixed']]);
    expect(diff.regressed).toBe(false);
    expect(renderDiff(diff, 'console')).toContain('Known deviations no longer seen:');
  });

  it('a scenario with a known deviation that now fails another check is a regression', () => {
    const diff = diffReports(
      report((s) => ({ ...s, deviations: [known] })),
      report((s) => ({ ...failedVersion(s), deviations: [known] })),
    );
    expect(diff.states.map((s) => s.kind)).toEqual(['newly-failing']);
    expect(diff.deviations).toEqual([]);
    expect(diff.regressed).toBe(true);
  });
});
