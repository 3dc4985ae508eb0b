import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { probeRunResult } from '../../src/cli/probe-results.js';
import { renderJUnit } from '../../src/reporters/junit.js';
import { redactRun } from '../../src/reporters/redact-result.js';
import { Redactor } from '../../src/transport/redact.js';
import { SAMPLE_HOST, sampleHostReport } from '../support/probe-sample.js';

/** JUnit of a `mailprobe probe`, checked by xmllint (a child process, hence not in the unit project). */
const XSD = fileURLToPath(new URL('../../fixtures/junit/junit-10.xsd', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'mailprobe-probe-junit-'));

function xmllint(xml: string, args: string[] = []): { status: number | null; stderr: string; stdout: string } {
  const file = join(dir, `out-${Math.random().toString(16).slice(2)}.xml`);
  writeFileSync(file, xml, 'utf8');
  const result = spawnSync('xmllint', [...args, file], { encoding: 'utf8' });
  return { status: result.status, stderr: result.stderr, stdout: result.stdout };
}

function render(strict: boolean): string {
  const run = probeRunResult([sampleHostReport()], { runId: 'r1', startedAt: Date.UTC(2026, 11, 1), durationMs: 2500, version: '0.1.0' });
  return renderJUnit(redactRun(run, new Redactor()), { strict, cwd: process.cwd() });
}

/** The value of an XPath expression over the document, by xmllint itself. */
function xpath(xml: string, expression: string): string {
  const result = xmllint(xml, ['--xpath', expression]);
  expect(result.status, result.stderr).toBe(0);
  return result.stdout.trim();
}

describe('JUnit of a probe', () => {
  it('strict flavour validates against junit-10.xsd; the default one is well-formed', () => {
    const strict = xmllint(render(true), ['--noout', '--schema', XSD]);
    expect(strict.stderr).toContain('validates');
    expect(strict.status).toBe(0);
    expect(xmllint(render(false), ['--noout']).status).toBe(0);
  });

  it('one suite per host, one testcase per port and check, no file or line attributes', () => {
    const xml = render(false);
    expect(xpath(xml, 'count(//testsuite)')).toBe('1');
    expect(xpath(xml, 'string(//testsuite/@name)')).toBe(SAMPLE_HOST);
    expect(xpath(xml, 'count(//testsuite/@file)')).toBe('0');
    expect(xpath(xml, 'count(//testcase)')).toBe('6');
    expect(xpath(xml, 'count(//testcase/@file | //testcase/@line)')).toBe('0');
    expect(xpath(xml, 'string(/testsuites/@tests)')).toBe('6');
    expect(xpath(xml, 'string(/testsuites/@failures)')).toBe('1');
    expect(xpath(xml, 'string(/testsuites/@errors)')).toBe('0');
    expect(xpath(xml, 'string(/testsuites/@skipped)')).toBe('2');
  });

  it('a fail finding is a <failure>: message = title, body = severity, evidence and hint', () => {
    const xml = render(false);
    const tc = "//testcase[@name='[::1]:993 tls-expired']";
    expect(xpath(xml, `string(${tc}/@classname)`)).toBe('mailprobe.probe');
    expect(xpath(xml, `string(${tc}/failure/@message)`)).toBe('certificate expired');
    const body = xpath(xml, `string(${tc}/failure)`);
    expect(body).toContain('severity: fail');
    expect(body).toContain('evidence: certificate has expired (notAfter 2020-01-01T00:00:00Z)');
    expect(body).toContain('hint:     certificate expired 9 days ago; renew it');
    expect(xpath(xml, `count(${tc}/system-out)`)).toBe('0');
  });

  it('a warn finding passes but shows in <system-out>; an unprobed port is <skipped> with the reason', () => {
    const xml = render(false);
    const warn = "//testcase[@name='127.0.0.1:587 plaintext-auth-before-tls']";
    expect(xpath(xml, `count(${warn}/failure | ${warn}/error | ${warn}/skipped)`)).toBe('0');
    expect(xpath(xml, `string(${warn}/system-out)`)).toMatch(/^severity: warn\ntitle: {4}plaintext login is offered before TLS on port 587\n/);
    const refused = "//testcase[@name='127.0.0.1:110 tcp-refused']";
    expect(xpath(xml, `string(${refused}/skipped/@message)`)).toBe('not probed: port 110 refused the connection');
    expect(xpath(xml, `string(${refused}/system-out)`)).toContain('hint:');
  });
});
