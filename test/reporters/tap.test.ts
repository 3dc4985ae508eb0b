import { Parser, type Result } from 'tap-parser';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { redactRun } from '../../src/reporters/redact-result.js';
import { TapReporter, renderTap } from '../../src/reporters/tap.js';
import type { RunResult } from '../../src/runner/results.js';
import { buildSampleRun, sampleRedactor } from '../support/sample-results.js';
import { captureContext, expectGolden, volatileSampleRun } from './support.js';

function render(run: RunResult = buildSampleRun()): string {
  return renderTap(redactRun(run, sampleRedactor()), { cwd: process.cwd() });
}

/** The YAML diagnostic block after test point `n`, parsed. */
function diagnostic(tap: string, n: number): Record<string, unknown> {
  const lines = tap.split('\n');
  const start = lines.findIndex((l) => new RegExp(`^(not )?ok ${n} `).test(l));
  expect(lines[start + 1]).toBe('  ---');
  const end = lines.indexOf('  ...', start);
  return parse(
    lines
      .slice(start + 2, end)
      .map((l) => l.slice(2))
      .join('\n'),
  ) as Record<string, unknown>;
}

describe('TAP reporter', () => {
  it('matches the golden output', async () => {
    const { run, normalise } = volatileSampleRun();
    await expectGolden('report.tap', normalise(render(run)));
  });

  it('has a TAP 14 header, a plan, and one test point per scenario', () => {
    const lines = render().split('\n');
    expect(lines[0]).toBe('TAP version 14');
    expect(lines).toContain('1..5');
    const points = lines.filter((l) => /^(not )?ok \d+ - /.test(l));
    expect(points.map((p) => p.split(' - ')[0])).toEqual(['ok 1', 'not ok 2', 'not ok 3', 'ok 4', 'not ok 5']);
  });

  it('marks skipped with # SKIP and inconclusive with # TODO, keeping the reason', () => {
    const tap = render();
    expect(tap).toContain('ok 4 - AUTH CRAM-MD5 login # SKIP requires capability SASL CRAM-MD5; the server offers SASL PLAIN LOGIN\n');
    expect(tap).toContain('not ok 5 - UIDL stays the same across sessions # TODO inconclusive: server said -ERR [IN-USE]');
  });

  it('writes parseable YAML diagnostics with message, severity, at, expected, actual, rfc and transcript tail', () => {
    const failed = diagnostic(render(), 2);
    expect(failed).toMatchObject({
      severity: 'fail',
      at: { file: 'suites/pop3/dele-marks-deleted.yaml', line: 20, column: 9 },
      expected: '-ERR',
      actual: '+OK 312 octets\\x07\\x1b[2J\\ud800\\u202egpj.exe',
      step: 'RETR 1 after DELE 1',
    });
    expect(String(failed['rfc'])).toMatch(/^RFC 1939 §6 DELE/);
    const transcript = String(failed['transcript']).trimEnd().split('\n');
    expect(transcript).toHaveLength(16); // 15 lines and the "earlier lines not shown" note
    expect(transcript.at(-4)).toBe('+   13ms [laptop] C: RETR 1');

    expect(diagnostic(render(), 3)).toMatchObject({
      severity: 'error',
      code: 'ETLS',
      phase: 'tls',
      at: { file: 'suites/pop3/stls-upgrade.yaml', line: 9, column: 5 },
    });
    expect(diagnostic(render(), 5)).toMatchObject({ severity: 'todo', verdict: 'inconclusive' });
  });

  it('escapes # and backslash in descriptions so they cannot start a directive', () => {
    const run = buildSampleRun();
    const [first] = run.scenarios;
    const tap = render({ ...run, scenarios: [{ ...first!, name: 'LIST #1 \\ stays' }] });
    expect(tap).toContain('ok 1 - LIST \\#1 \\\\ stays # time=14ms');
  });

  it('notes an insecure and an interrupted run', () => {
    const tap = render(buildSampleRun({ insecure: true, interrupted: true }));
    expect(tap).toContain('# insecure: TLS certificate verification was OFF');
    expect(tap).toContain('# interrupted: the run was stopped early; cleanup ran');
    expect(render(buildSampleRun({ interrupted: true, cleanupStopped: true }))).toContain('cleanup was cut short by a second interrupt');
    const calm = render(buildSampleRun({ insecure: false, interrupted: false }));
    expect(calm).not.toContain('# insecure');
    expect(calm).not.toContain('# interrupted');
  });

  it('writes to stdout when no file is given', async () => {
    const ctx = captureContext();
    await new TapReporter(ctx).onRunEnd(buildSampleRun());
    expect(ctx.stdout.text.startsWith('TAP version 14\n')).toBe(true);
    expect(ctx.stderr.text).toBe('');
  });

  /**
   * Issue 10 §2: node-tap's own parser (tap-parser, the one tap-mocha-reporter
   * and node-tap's reporters read with) sees every test point and its
   * diagnostics: `at` as node-tap writes it, a {file, line, column} mapping,
   * and `found`/`wanted`, the keys tap-mocha-reporter turns into a diff.
   */
  it('tap-parser reads the diagnostics: at as {file, line, column}, found and wanted', () => {
    const asserts = Parser.parse(render())
      .filter((event) => event[0] === 'assert')
      .map((event) => event[1] as Result);
    expect(asserts.map((a) => [a.id, a.ok, a.skip !== false, a.todo !== false])).toEqual([
      [1, true, false, false],
      [2, false, false, false],
      [3, false, false, false],
      [4, true, true, false],
      [5, false, false, true],
    ]);
    const failed = asserts[1]?.diag as Record<string, unknown>;
    expect(failed['at']).toEqual({ file: 'suites/pop3/dele-marks-deleted.yaml', line: 20, column: 9 });
    expect(failed).toMatchObject({ expected: '-ERR', wanted: '-ERR', found: failed['actual'], severity: 'fail' });
    expect(failed['found']).toBe('+OK 312 octets\\x07\\x1b[2J\\ud800\\u202egpj.exe');
    expect((failed['also'] as Array<Record<string, unknown>>)[0]).toMatchObject({
      at: { file: 'suites/pop3/dele-marks-deleted.yaml', line: 23, column: 9 },
      expected: '(nothing)',
      wanted: '(nothing)',
      found: '<312 octets>',
    });
    // An error has a place but no expected/actual, so no found/wanted either.
    const errored = asserts[2]?.diag as Record<string, unknown>;
    expect(errored['at']).toEqual({ file: 'suites/pop3/stls-upgrade.yaml', line: 9, column: 5 });
    expect(errored).not.toHaveProperty('found');
    expect(errored).not.toHaveProperty('wanted');
  });
});
