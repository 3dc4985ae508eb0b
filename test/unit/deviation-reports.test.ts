import { Parser, type Result } from 'tap-parser';
import { describe, expect, it } from 'vitest';
import { renderConsoleScenario, renderConsoleSummary } from '../../src/reporters/console.js';
import { renderHtml } from '../../src/reporters/html.js';
import { renderJson } from '../../src/reporters/json.js';
import { renderJUnit } from '../../src/reporters/junit.js';
import { renderTap } from '../../src/reporters/tap.js';
import type { DeviationResult, RunResult, ScenarioResult } from '../../src/runner/results.js';
import { buildSampleRun } from '../support/sample-results.js';
import pc from 'picocolors';

/**
 * A known deviation, a fixed one, and a failure beside a known deviation, in every format:
 * each shows the check id, the reason and the clause, and the verdicts keep their meaning
 * for the tools that read them (JUnit failures, TAP's TODO, the JSON state).
 */
const REASON = 'Courier sends UIDNEXT only in STATUS';
const CLAUSE = 'RFC 9051 §6.3.2';
const known: DeviationResult = {
  check: 'imap/uid-stability#uidnext-in-select',
  status: 'known',
  reason: REASON,
  rfc: CLAUSE,
  step: 'laptop opens it',
  source: { file: 'suites/imap/uid-stability.yaml', line: 31, col: 9 },
  expected: 'present',
  actual: '(absent)',
  notJudged: 1,
};
const fixed: DeviationResult = { ...known, check: 'imap/uid-stability#uidnext-in-reselect', status: 'fixed', actual: '7', expected: 'present' };
const { notJudged: _n, ...knownPlain } = known;

function run(): RunResult {
  const base = buildSampleRun({ insecure: false });
  const passed = base.scenarios.find((s) => s.state === 'passed')!;
  const failed = base.scenarios.find((s) => s.state === 'failed')! as Extract<ScenarioResult, { state: 'failed' }>;
  const withKnown: ScenarioResult = { ...passed, id: 'imap/uid-stability', name: 'UIDs are stable', deviations: [known] };
  const withFixed: ScenarioResult = { ...passed, id: 'imap/fixed', file: 'suites/imap/fixed.yaml', name: 'UIDNEXT came back', deviations: [fixed] };
  const failedToo: ScenarioResult = {
    ...failed,
    failure: {
      ...failed.failure,
      check: 'pop3/dele-marks-deleted#retr-refused',
      checks: failed.failure.checks.map((c, i) => (i === 0 ? { ...c, check: 'pop3/dele-marks-deleted#retr-refused' } : c)),
    },
    deviations: [{ ...knownPlain, check: 'pop3/dele-marks-deleted#stat-before' }],
  };
  return { ...base, scenarios: [withKnown, withFixed, failedToo] };
}

describe('known deviations in every format', () => {
  it('console: the scenario line says so, the rows give check, clause and reason, the summary counts them apart', () => {
    const colors = pc.createColors(false);
    const r = run();
    const line = renderConsoleScenario(r.scenarios[0]!, colors, process.cwd());
    expect(line).toMatch(/^✓ UIDs are stable {2}imap\/uid-stability {2}\S+ {2}1 known deviation\n/);
    expect(line).toContain(
      `known deviation imap/uid-stability#uidnext-in-select (${CLAUSE}): ${REASON}; step 'laptop opens it', expected present, actual (absent)`,
    );
    expect(renderConsoleScenario(r.scenarios[1]!, colors, process.cwd())).toContain(
      "deviation fixed imap/uid-stability#uidnext-in-reselect (RFC 9051 §6.3.2): Courier sends UIDNEXT only in STATUS; the check passes now (7): remove it from the target's deviations",
    );
    const failedText = renderConsoleScenario(r.scenarios[2]!, colors, process.cwd());
    expect(failedText).toContain('check    pop3/dele-marks-deleted#retr-refused');
    expect(failedText).toContain('known deviation pop3/dele-marks-deleted#stat-before');
    const summary = renderConsoleSummary(r, colors);
    expect(summary).toContain('2 passed, 1 failed');
    expect(summary).toContain('2 known deviations (listed in the target file; not counted as failures)');
    expect(summary).toContain("1 deviation fixed: the listed check passes now; remove it from the target's deviations");
  });

  it('JUnit: a known deviation passes its case, with a property and the reason in system-out; a failure names its check', () => {
    const xml = renderJUnit(run(), { cwd: process.cwd() });
    expect(xml).toMatch(/<testsuites name="mailprobe" tests="3" failures="1" errors="0"/);
    expect(xml).toContain(`<property name="deviation.imap/uid-stability#uidnext-in-select" value="known deviation: ${CLAUSE}: ${REASON}"/>`);
    expect(xml).toContain(`<property name="deviation.imap/uid-stability#uidnext-in-reselect" value="deviation fixed: ${CLAUSE}: ${REASON}"/>`);
    expect(xml).toMatch(/<system-out>known deviation: imap\/uid-stability#uidnext-in-select \(RFC 9051 §6\.3\.2\): Courier sends UIDNEXT only in STATUS/);
    expect(xml).toContain('check:    pop3/dele-marks-deleted#retr-refused');
    expect(xml).toMatch(/<failure [^>]*>[^<]*known deviation: pop3\/dele-marks-deleted#stat-before/);
  });

  it('TAP: a known deviation is not ok # TODO (not counted as a failure), a fixed one ok # TODO, each listed under deviations', () => {
    const tap = renderTap(run(), { cwd: process.cwd() });
    const asserts = Parser.parse(tap)
      .filter((e) => e[0] === 'assert')
      .map((e) => e[1] as Result);
    expect(asserts.map((a) => [a.ok, a.todo])).toEqual([
      [false, `known deviation: imap/uid-stability#uidnext-in-select (${CLAUSE}): ${REASON}`],
      [true, `deviation fixed: imap/uid-stability#uidnext-in-reselect (${CLAUSE}): ${REASON}`],
      [false, false],
    ]);
    const diag = asserts[0]!.diag as { severity: string; deviations: Record<string, unknown>[] };
    expect(diag.severity).toBe('todo');
    expect(diag.deviations[0]).toMatchObject({
      check: known.check,
      status: 'known deviation',
      reason: REASON,
      rfc: CLAUSE,
      not_judged: 1,
      at: { line: 31, column: 9 },
    });
    const failed = asserts[2]!.diag as Record<string, unknown>;
    expect(failed).toMatchObject({ severity: 'fail', check: 'pop3/dele-marks-deleted#retr-refused' });
    expect((failed.deviations as Record<string, unknown>[])[0]).toMatchObject({ check: 'pop3/dele-marks-deleted#stat-before' });
    // tap-parser's own count: the known deviation is a todo, not a failure.
    const parser = new Parser();
    let final: { todo: number; failures: { id: number }[] } | undefined;
    parser.on('complete', (r: { todo: number; failures: { id: number }[] }) => (final = r));
    parser.end(tap);
    expect(final?.todo).toBe(2);
    expect(final?.failures.map((f) => f.id)).toEqual([3]);
  });

  it('JSON: the state stays passed, the deviations and check ids are fields of their own', () => {
    const json = JSON.parse(renderJson(run())) as { counts: Record<string, number>; scenarios: ScenarioResult[] };
    expect(json.counts).toMatchObject({ passed: 2, failed: 1 });
    expect(json.scenarios[0]).toMatchObject({ state: 'passed', deviations: [known] });
    const failed = json.scenarios[2] as Extract<ScenarioResult, { state: 'failed' }>;
    expect(failed.failure.checks[0]?.check).toBe('pop3/dele-marks-deleted#retr-refused');
  });

  it('HTML: the row says so in its summary, and a table gives check, status, reason and clause', () => {
    const page = renderHtml(run(), { cwd: process.cwd() });
    expect(page).toContain('<span class="deviation-note">1 known deviation</span>');
    expect(page).toContain('<span class="deviation-note">1 deviation fixed</span>');
    expect(page).toMatch(
      /<tr class="deviation-known"><td><code class="check-id">imap\/uid-stability#uidnext-in-select<\/code>.*?<td>≈ known deviation<\/td><td>Courier sends UIDNEXT only in STATUS<\/td><td class="rfc">RFC 9051 §6\.3\.2<\/td>/s,
    );
    expect(page).toContain('the check passes now: remove it from the target&#39;s deviations');
    expect(page).toContain('<code class="check-id">pop3/dele-marks-deleted#retr-refused</code>');
  });
});
