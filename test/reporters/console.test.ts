import { describe, expect, it } from 'vitest';
import { ConsoleReporter } from '../../src/reporters/console.js';
import { buildSampleRun } from '../support/sample-results.js';
import { captureContext, expectGolden, volatileSampleRun } from './support.js';

async function runConsole(run = buildSampleRun(), color = false) {
  const ctx = captureContext({ color });
  const reporter = new ConsoleReporter(ctx);
  reporter.onRunStart({ runId: run.runId, target: run.target, scenarioCount: run.scenarios.length, startedAt: run.startedAt });
  for (const scenario of run.scenarios) await reporter.onScenarioEnd(scenario);
  reporter.onRunEnd(run);
  return ctx;
}

describe('console reporter', () => {
  it('matches the golden output (colour off)', async () => {
    const { run, normalise } = volatileSampleRun();
    const ctx = await runConsole(run);
    await expectGolden('console.txt', normalise(ctx.stderr.text));
  });

  it('writes nothing to stdout, so TAP or JSON can be piped from it', async () => {
    const ctx = await runConsole();
    expect(ctx.stdout.text).toBe('');
    expect(ctx.stderr.text.length).toBeGreaterThan(0);
  });

  it('prints one progress line per scenario with symbol, name and time or reason', async () => {
    const ctx = await runConsole();
    const lines = ctx.stderr.text.split('\n');
    expect(lines).toContain('✓ USER/PASS login reaches TRANSACTION state  pop3/login-user-pass  14ms');
    expect(lines).toContain('✗ RETR of a message marked deleted answers -ERR  pop3/dele-marks-deleted  41ms');
    expect(lines).toContain('! STLS upgrades the session to TLS  pop3/stls-upgrade  126ms');
    expect(
      lines.some((l) => l.startsWith('↓ AUTH CRAM-MD5 login  pop3/auth/sasl-cram-md5  6ms  skipped:') && l.includes(' requires capability SASL CRAM-MD5')),
    ).toBe(true);
    expect(
      lines.some(
        (l) => l.startsWith('? UIDL stays the same across sessions  pop3/uidl-stable  1.50s  inconclusive:') && l.includes(' server said -ERR [IN-USE]'),
      ),
    ).toBe(true);
  });

  it('shows where and why a failure happened, with the transcript tail', async () => {
    const out = (await runConsole()).stderr.text;
    expect(out).toContain('at       suites/pop3/dele-marks-deleted.yaml:20:9');
    expect(out).toContain('expected -ERR');
    expect(out).toContain('actual   +OK 312 octets\\x07\\x1b[2J\\ud800');
    expect(out).toContain('rfc      RFC 1939 §6 DELE');
    expect(out).toContain('(4 earlier lines not shown)');
    expect(out).toContain('+   13ms [laptop] C: RETR 1');
    // The tail is capped at 15 lines: the greeting (line 2 of 19) is not in it.
    const failureBlock = out.slice(out.indexOf('✗'), out.indexOf('! STLS'));
    expect(failureBlock).not.toContain('+OK Dovecot ready.');
  });

  it('shows code, phase and message for an error', async () => {
    const out = (await runConsole()).stderr.text;
    expect(out).toContain('error    ETLS in phase tls');
    expect(out).toContain('message  TLS handshake with pop3://alice:[redacted]@mail.example.test:40110 failed');
  });

  it('summarises counts and wall time, and says when TLS verification was off or the run was interrupted', async () => {
    const out = (await runConsole(buildSampleRun({ insecure: true, interrupted: true }))).stderr.text;
    expect(out).toContain('1 passed, 1 failed, 1 errored, 1 skipped, 1 inconclusive (5 scenarios) in 1.79s');
    expect(out).toContain('insecure: TLS certificate verification was OFF for this run');
    expect(out).toContain('interrupted: the run was stopped early; cleanup ran');
    const hurried = (await runConsole(buildSampleRun({ interrupted: true, cleanupStopped: true }))).stderr.text;
    expect(hurried).toContain('cleanup was cut short by a second interrupt');
    expect(hurried).not.toContain('cleanup ran');
    const secure = (await runConsole(buildSampleRun({ insecure: false, interrupted: false }))).stderr.text;
    expect(secure).not.toContain('insecure');
    expect(secure).not.toContain('interrupted');
  });

  it('uses colour only when asked, and never lets server control bytes through', async () => {
    const plain = (await runConsole(buildSampleRun(), false)).stderr.text;
    const coloured = (await runConsole(buildSampleRun(), true)).stderr.text;
    expect(plain).not.toContain('\u001b');
    expect(plain).not.toContain('\u0007');
    expect(plain).not.toContain('\u202e');
    expect(plain).toContain('\\u202egpj.exe');
    expect(coloured).toContain('\u001b[');
    // With colours stripped, the coloured output says the same thing.
    expect(coloured.replace(/\u001b\[\d+m/g, '')).toBe(plain);
  });
});
