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
      at: 'suites/pop3/dele-marks-deleted.yaml:20:9',
      expected: '-ERR',
      actual: '+OK 312 octets\\x07\\x1b[2J\\ud800\\u202egpj.exe',
      step: 'RETR 1 after DELE 1',
    });
    expect(String(failed['rfc'])).toMatch(/^RFC 1939 §6 DELE/);
    const transcript = String(failed['transcript']).trimEnd().split('\n');
    expect(transcript).toHaveLength(16); // 15 lines and the "earlier lines not shown" note
    expect(transcript.at(-4)).toBe('+   13ms [laptop] C: RETR 1');

    expect(diagnostic(render(), 3)).toMatchObject({ severity: 'error', code: 'ETLS', phase: 'tls', at: 'suites/pop3/stls-upgrade.yaml:9:5' });
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
});
