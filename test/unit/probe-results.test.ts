import { describe, expect, it } from 'vitest';
import { findingCases, hostCases, probeRunResult } from '../../src/cli/probe-results.js';
import type { Finding } from '../../src/probe/findings.js';
import { renderConsoleScenario, renderJson, renderTap } from '../../src/reporters/index.js';
import type { ScenarioResult } from '../../src/runner/results.js';
import { Redactor } from '../../src/transport/redact.js';
import { redactRun } from '../../src/reporters/redact-result.js';
import pc from 'picocolors';
import { SAMPLE_HOST, sampleHostReport } from '../support/probe-sample.js';
import { parseTap } from '../support/tap-parse.js';

/**
 * `mailprobe probe` results in the reporters' model (src/cli/probe-results.ts),
 * and the file-less formats on them: TAP read back by a strict TAP 14 reader,
 * JSON parsed, console rows. JUnit (xmllint) is in test/reporters/probe-junit.test.ts.
 */
const META = { runId: '20261201t164000-abcdef', startedAt: Date.UTC(2026, 11, 1, 16, 40), durationMs: 1234, version: '0.1.0' };
const run = () => probeRunResult([sampleHostReport()], META);
const byName = (cases: readonly ScenarioResult[], name: string) => {
  const found = cases.find((c) => c.name === name);
  if (found === undefined) throw new Error(`no case ${name} among ${cases.map((c) => c.name).join(', ')}`);
  return found;
};

describe('probe findings as result cases', () => {
  it('one case per address:port and finding id, in one suite named by the host, no file or line', () => {
    const cases = run().scenarios;
    expect(cases.map((c) => c.name)).toEqual([
      '127.0.0.1:25 tcp-timeout',
      '127.0.0.1:587 port-ok',
      '127.0.0.1:587 plaintext-auth-before-tls',
      '[::1]:993 port-ok',
      '[::1]:993 tls-expired',
      '127.0.0.1:110 tcp-refused',
    ]);
    for (const c of cases) {
      expect(c.suite).toBe(SAMPLE_HOST);
      expect(c.file).toBeUndefined();
      expect(c.line).toBeUndefined();
    }
    expect(new Set(cases.map((c) => c.id)).size).toBe(cases.length);
  });

  it('fail → failed with the title as message and severity, evidence and hint as remarks', () => {
    const c = byName(run().scenarios, '[::1]:993 tls-expired');
    expect(c.state).toBe('failed');
    if (c.state !== 'failed') return;
    expect(c.failure.message).toBe('certificate expired');
    expect(c.remarks).toEqual([
      { label: 'severity', text: 'fail' },
      { label: 'evidence', text: 'certificate has expired (notAfter 2020-01-01T00:00:00Z)' },
      { label: 'hint', text: 'certificate expired 9 days ago; renew it', prose: true },
    ]);
  });

  it('warn → passed but with its severity, title, evidence and hint; ok → passed', () => {
    const cases = run().scenarios;
    const warn = byName(cases, '127.0.0.1:587 plaintext-auth-before-tls');
    expect(warn.state).toBe('passed');
    expect(warn.remarks?.map((r) => `${r.label}=${r.text}`)).toEqual([
      'severity=warn',
      'title=plaintext login is offered before TLS on port 587',
      'evidence=EHLO before STARTTLS: 250-AUTH PLAIN LOGIN',
      expect.stringMatching(/^hint=plaintext login is offered before TLS on port 587: /),
    ]);
    expect(byName(cases, '127.0.0.1:587 port-ok').state).toBe('passed');
  });

  it('a port that could not be probed (refused, timed out) → skipped: not judged', () => {
    const cases = run().scenarios;
    for (const [name, reason] of [
      ['127.0.0.1:25 tcp-timeout', 'not probed: port 25 did not answer the connection'],
      ['127.0.0.1:110 tcp-refused', 'not probed: port 110 refused the connection'],
    ] as const) {
      const c = byName(cases, name);
      expect(c.state).toBe('skipped');
      if (c.state === 'skipped') expect(c.reason).toBe(reason);
    }
  });

  it('findings with no address or port (DNS, discovery) map too; a repeated id at one place gets #2', () => {
    const dns = (id: string, severity: Finding['severity']): Finding => ({
      id,
      severity,
      host: 'example.test',
      title: `${id} title`,
      evidence: '',
      hint: `${id} hint`,
    });
    const cases = findingCases([dns('mx-null', 'warn'), dns('srv-mismatch', 'fail'), dns('srv-mismatch', 'fail')], { suite: 'example.test', startedAt: 0 });
    expect(cases.map((c) => [c.name, c.state])).toEqual([
      ['example.test mx-null', 'passed'],
      ['example.test srv-mismatch', 'failed'],
      ['example.test srv-mismatch #2', 'failed'],
    ]);
    // No evidence, no empty "evidence:" line.
    expect(cases[0]!.remarks?.map((r) => r.label)).toEqual(['severity', 'title', 'hint']);
  });

  it('hostCases skips only the ports that never connected', () => {
    const report = sampleHostReport();
    const states = hostCases(report, 0).map((c) => c.state);
    expect(states).toEqual(['skipped', 'passed', 'passed', 'passed', 'failed', 'skipped']);
  });
});

describe('reporters on a probe result', () => {
  const redacted = () => redactRun(run(), new Redactor());

  it('TAP: a valid TAP 14 stream; fail is not ok with its hint, warn is ok with diagnostics, unprobed ports SKIP', () => {
    const tap = parseTap(renderTap(redacted(), { cwd: process.cwd() }));
    expect(tap.plan).toBe(6);
    const point = (description: string) => tap.points.find((p) => p.description === description)!;
    expect(point('[::1]:993 tls-expired')).toMatchObject({
      ok: false,
      diagnostics: {
        message: 'certificate expired',
        severity: 'fail',
        evidence: expect.stringContaining('expired'),
        hint: expect.stringContaining('renew it'),
      },
    });
    expect(point('127.0.0.1:587 plaintext-auth-before-tls')).toMatchObject({
      ok: true,
      diagnostics: { severity: 'warn', title: 'plaintext login is offered before TLS on port 587' },
    });
    expect(point('127.0.0.1:110 tcp-refused')).toMatchObject({ ok: true, directive: { kind: 'SKIP', text: 'not probed: port 110 refused the connection' } });
    expect(point('127.0.0.1:25 tcp-timeout').diagnostics).toMatchObject({ severity: 'warn', hint: expect.stringContaining('587') });
  });

  it('JSON: parses, keeps every verdict and remark, and has no file or line on probe cases', () => {
    const json = JSON.parse(renderJson(redacted())) as { counts: Record<string, number>; scenarios: Array<Record<string, unknown>> };
    expect(json.counts).toEqual({ total: 6, passed: 3, failed: 1, errored: 0, skipped: 2, inconclusive: 0 });
    for (const c of json.scenarios) {
      expect(c).not.toHaveProperty('file');
      expect(c).not.toHaveProperty('line');
    }
    expect(json.scenarios.find((c) => c['name'] === '[::1]:993 tls-expired')).toMatchObject({
      suite: SAMPLE_HOST,
      state: 'failed',
      remarks: expect.any(Array),
    });
  });

  it('redaction: known secrets go everywhere; a prose remark keeps its words, server evidence gets the command patterns', () => {
    const base = run();
    const secret = 'S3cr3t-pw';
    const c = {
      ...base.scenarios[2]!,
      remarks: [
        { label: 'title', text: `plaintext login is offered (${secret})`, prose: true as const },
        { label: 'evidence', text: 'plaintext login is offered' },
      ],
    };
    const out = redactRun({ ...base, scenarios: [c] }, new Redactor([secret])).scenarios[0]!;
    expect(out.remarks?.[0]?.text).toBe('plaintext login is offered ([redacted])');
    // The same words as server text: the credential-command patterns apply (the safe way round).
    expect(out.remarks?.[1]?.text).not.toBe('plaintext login is offered');
    expect(out.remarks?.map((r) => r.label)).toEqual(['title', 'evidence']);
  });

  it('console: a failed finding shows its hint; a passed warning still shows its remarks', () => {
    const colors = pc.createColors(false);
    const cases = redacted().scenarios;
    const failed = renderConsoleScenario(byName(cases, '[::1]:993 tls-expired'), colors, process.cwd());
    expect(failed).toMatch(/^✗ \[::1\]:993 tls-expired/);
    expect(failed).toMatch(/message +certificate expired/);
    expect(failed).toMatch(/hint +certificate expired 9 days ago; renew it/);
    const warn = renderConsoleScenario(byName(cases, '127.0.0.1:587 plaintext-auth-before-tls'), colors, process.cwd());
    expect(warn).toMatch(/^✓ /);
    expect(warn).toMatch(/severity +warn/);
  });
});
