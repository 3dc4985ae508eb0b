import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { JUnitReporter } from '../../src/reporters/junit-reporter.js';
import { renderJUnit } from '../../src/reporters/junit.js';
import { redactRun } from '../../src/reporters/redact-result.js';
import type { RunResult, ScenarioResult } from '../../src/runner/results.js';
import { buildSampleRun, sampleRedactor } from '../support/sample-results.js';
import { gitlabCases, mikepenzAnnotations } from '../support/junit-consumers.js';
import { GOLDEN_DIR, captureContext, expectGolden, volatileSampleRun } from './support.js';

// The Jenkins xunit plugin's schema (MIT, notice kept in the file).
const XSD = fileURLToPath(new URL('../../fixtures/junit/junit-10.xsd', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'mailprobe-junit-'));

function xmllint(xml: string, args: string[] = []): { status: number | null; stderr: string } {
  const file = join(dir, `out-${Math.random().toString(16).slice(2)}.xml`);
  writeFileSync(file, xml, 'utf8');
  const result = spawnSync('xmllint', ['--noout', ...args, file], { encoding: 'utf8' });
  return { status: result.status, stderr: result.stderr };
}

function render(run: RunResult = buildSampleRun(), strict = false): string {
  return renderJUnit(redactRun(run, sampleRedactor()), { strict, cwd: process.cwd() });
}

describe('JUnit reporter', () => {
  it('matches the golden files, default and strict', async () => {
    const { run, normalise } = volatileSampleRun();
    await expectGolden('junit.xml', normalise(render(run)));
    await expectGolden('junit-strict.xml', normalise(render(run, true)));
  });

  it('golden files themselves are valid: default well-formed, strict schema-valid', () => {
    expect(spawnSync('xmllint', ['--noout', join(GOLDEN_DIR, 'junit.xml')]).status).toBe(0);
    expect(spawnSync('xmllint', ['--noout', '--schema', XSD, join(GOLDEN_DIR, 'junit-strict.xml')]).status).toBe(0);
  });

  it('default flavour is well-formed XML and carries testcase file and line', () => {
    const xml = render();
    expect(xmllint(xml)).toMatchObject({ status: 0 });
    expect(xml).toContain('file="suites/pop3/dele-marks-deleted.yaml" line="20"');
  });

  it('strict flavour validates against the Jenkins xunit schema (junit-10.xsd)', () => {
    const result = xmllint(render(buildSampleRun(), true), ['--schema', XSD]);
    expect(result.stderr).toContain('validates');
    expect(result.status).toBe(0);
  });

  it('the schema check is live: the default flavour is rejected by it for testcase file/line', () => {
    const result = xmllint(render(), ['--schema', XSD]);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/attribute 'file' is not allowed|attribute 'line' is not allowed/);
  });

  it('counts verdicts on the root and each suite, inconclusive as skipped', () => {
    const xml = render();
    expect(xml).toMatch(/<testsuites name="mailprobe" tests="5" failures="1" errors="1" skipped="2" time="1\.790">/);
    expect(xml.match(/<testsuite /g)).toHaveLength(5);
    expect(xml).toContain(
      '<failure message="RETR of a message marked deleted must fail, but the server sent it (and 1 more failed check)" type="expectation">',
    );
    expect(xml).toMatch(/<error message="TLS handshake with [^"]*" type="ETLS">/);
    expect(xml).toContain(
      '<skipped message="requires capability SASL CRAM-MD5; the server offers SASL PLAIN LOGIN">requires capability SASL CRAM-MD5; the server offers SASL PLAIN LOGIN</skipped>',
    );
    expect(xml).toContain('<skipped message="inconclusive: server said -ERR [IN-USE]');
    expect(xml).toContain('<property name="verdict" value="inconclusive"/>');
  });

  it('uses the id folder as classname and protocol time in plain decimal seconds', () => {
    const xml = render();
    expect(xml).toContain('<testcase classname="mailprobe.pop3.auth" name="AUTH CRAM-MD5 login" time="0.006"');
    expect(xml).toContain('<testcase classname="mailprobe.pop3" name="UIDL stays the same across sessions" time="1.504"');
  });

  it('puts target, greeting, insecure flag and run id in the suite properties', () => {
    const xml = render();
    for (const property of [
      '<property name="target.host" value="mail.example.test"/>',
      '<property name="target.name" value="staging-pop"/>',
      '<property name="insecure" value="true"/>',
      '<property name="run.id" value="mp-20240501-7f3a9c"/>',
      '<property name="greeting.laptop" value="+OK Dovecot ready."/>',
      '<property name="delivery.ms" value="840"/>',
    ]) {
      expect(xml).toContain(property);
    }
  });

  it('groups scenarios of the same file into one suite', () => {
    const run = buildSampleRun();
    const [first, second] = run.scenarios as [ScenarioResult, ScenarioResult];
    const twice: RunResult = { ...run, scenarios: [first, { ...second, file: first.file }] };
    const xml = render(twice);
    expect(xml.match(/<testsuite /g)).toHaveLength(1);
    expect(xml).toMatch(/<testsuite name="suites\/pop3\/login-user-pass.yaml" tests="2" failures="1" errors="0" skipped="0"/);
    expect(xmllint(render(twice, true), ['--schema', XSD]).status).toBe(0);
  });

  it('escapes control bytes and lone surrogates so the XML still parses', () => {
    const run = buildSampleRun();
    const nasty = '\u0000NUL \u0007BEL \u001b[31mESC \u0008BS \ud800 lone \udc00 low \ufffe, tab\tkept';
    const scenarios = run.scenarios.map((s) =>
      s.state === 'failed' ? { ...s, name: `${s.name} ${nasty}`, failure: { ...s.failure, message: nasty, actual: nasty } } : s,
    );
    const xml = render({ ...run, scenarios });
    expect(xml).toContain('\\x00NUL \\x07BEL \\x1b[31mESC \\x08BS \\ud800 lone \\udc00 low \\ufffe');
    expect(xml).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/);
    expect(xmllint(xml)).toMatchObject({ status: 0 });
    expect(xmllint(render({ ...run, scenarios }, true), ['--schema', XSD]).status).toBe(0);
  });

  it('writes its file in onRunEnd, creating parent folders', async () => {
    const ctx = captureContext({ cwd: dir, outFile: 'nested/deeper/junit.xml' });
    const reporter = new JUnitReporter(ctx, { strict: true });
    await reporter.onRunEnd(buildSampleRun());
    expect(ctx.stdout.text).toBe('');
    execFileSync('xmllint', ['--noout', '--schema', XSD, join(dir, 'nested/deeper/junit.xml')], { stdio: 'pipe' });
  });
});

/**
 * Issue 10 §2: the report as mikepenz/action-junit-report and GitLab read it
 * (their parsing re-implemented in test/support/junit-consumers.ts).
 */
describe('JUnit as its consumers read it', () => {
  const failedName = 'RETR of a message marked deleted answers -ERR';
  const erroredName = 'STLS upgrades the session to TLS';

  it('mikepenz annotates a failure on the line of the failing check, in both flavours', () => {
    for (const strict of [false, true]) {
      const annotations = mikepenzAnnotations(render(buildSampleRun(), strict));
      const failed = annotations.find((a) => a.name === failedName);
      // The first failing check is at suites/pop3/dele-marks-deleted.yaml:20:9; the scenario's name: is on line 2.
      expect(failed, `strict=${strict}`).toMatchObject({ path: 'suites/pop3/dele-marks-deleted.yaml', line: 20, level: 'failure' });
      expect(failed?.message).toMatch(/^RETR of a message marked deleted must fail/);
      // An error is annotated where its step is written (stls-upgrade.yaml:9:5).
      expect(
        annotations.find((a) => a.name === erroredName),
        `strict=${strict}`,
      ).toMatchObject({ path: 'suites/pop3/stls-upgrade.yaml', line: 9 });
    }
  });

  it('default flavour: testcase@line is the failing check, not the scenario line', () => {
    const xml = render();
    expect(xml).toContain(`name="${failedName}" time="0.041" file="suites/pop3/dele-marks-deleted.yaml" line="20"`);
    // A case that passed or was skipped keeps the scenario's line.
    expect(xml).toContain('file="suites/pop3/login-user-pass.yaml" line="2"');
  });

  it('GitLab shows the failure message as the first line of the failure details', () => {
    const cases = gitlabCases(render());
    const failed = cases.find((c) => c.name === failedName);
    expect(failed?.status).toBe('failed');
    expect(failed?.details?.split('\n')[0]).toBe('message:  RETR of a message marked deleted must fail, but the server sent it');
    const errored = cases.find((c) => c.name === erroredName);
    expect(errored?.details).toMatch(/^code: {5}ETLS\n(.*\n)*message: {2}TLS handshake with /);
  });

  it('GitLab shows the skip reason (and the inconclusive reason) as the skipped details', () => {
    const cases = gitlabCases(render());
    expect(cases.find((c) => c.name === 'AUTH CRAM-MD5 login')).toMatchObject({
      status: 'skipped',
      details: 'requires capability SASL CRAM-MD5; the server offers SASL PLAIN LOGIN',
    });
    const inconclusive = cases.find((c) => c.name === 'UIDL stays the same across sessions');
    expect(inconclusive?.details?.split('\n')[0]).toBe(
      'message:  inconclusive: server said -ERR [IN-USE]: maildrop locked by another session; try again later',
    );
  });

  it('attaches a saved message copy as [[ATTACHMENT|path]], relative to the report file', async () => {
    const root = mkdtempSync(join(tmpdir(), 'mailprobe-attach-'));
    const copy = join(root, 'reports', 'messages', 'mp-1', 'pop3_dele', 'laptop-msg1.eml');
    const run = buildSampleRun();
    const scenarios = run.scenarios.map((s) => (s.state === 'failed' ? { ...s, properties: { ...s.properties, saved_copy: copy } } : s));
    const ctx = captureContext({ cwd: root, outFile: 'reports/junit.xml' });
    await new JUnitReporter(ctx).onRunEnd({ ...run, scenarios });
    const xml = readFileSync(join(root, 'reports', 'junit.xml'), 'utf8');
    // Jenkins: the tag alone on its line; GitLab: the first tag in <system-out>.
    expect(xml).toMatch(/<system-out>\[\[ATTACHMENT\|messages\/mp-1\/pop3_dele\/laptop-msg1\.eml\]\]\n/);
    expect(gitlabCases(xml).find((c) => c.name === failedName)?.attachment).toBe('messages/mp-1/pop3_dele/laptop-msg1.eml');
    // Without a saved copy there is no attachment.
    expect(gitlabCases(xml).find((c) => c.name === erroredName)?.attachment).toBeUndefined();
    // Written to stdout, the path is relative to the working directory.
    expect(renderJUnit(redactRun({ ...run, scenarios }, sampleRedactor()), { cwd: root })).toContain(
      '[[ATTACHMENT|reports/messages/mp-1/pop3_dele/laptop-msg1.eml]]',
    );
  });
});
