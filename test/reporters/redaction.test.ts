import { describe, expect, it } from 'vitest';
import { createReporter, REPORTER_NAMES } from '../../src/reporters/index.js';
import { redactScenario, redactTitle } from '../../src/reporters/redact-result.js';
import { ReporterMultiplexer } from '../../src/reporters/multiplexer.js';
import type { ScenarioResult } from '../../src/runner/results.js';
import { buildSampleRun, CANARY_PASSWORD, sampleRedactor } from '../support/sample-results.js';
import { captureContext } from './support.js';

/** Every format, driven through the same hooks the runner calls. */
async function renderAll(): Promise<Record<string, string>> {
  const run = buildSampleRun();
  const out: Record<string, string> = {};
  for (const name of REPORTER_NAMES) {
    const ctx = captureContext();
    const reporter = new ReporterMultiplexer([createReporter(name, ctx)], { stderr: ctx.stderr });
    await reporter.onRunStart({ runId: run.runId, target: run.target, scenarioCount: run.scenarios.length, startedAt: run.startedAt });
    for (const scenario of run.scenarios) await reporter.onScenarioEnd(scenario);
    await reporter.onRunEnd(run);
    expect(reporter.crashed).toBe(false);
    out[name] = ctx.stdout.text + ctx.stderr.text;
  }
  return out;
}

describe('secrets never reach a report', () => {
  it('the sample really carries the canary, so the checks below can fail', () => {
    expect(JSON.stringify(buildSampleRun())).toContain(CANARY_PASSWORD);
  });

  it('no format prints the canary, its base64 forms, or the edges of its AUTH PLAIN encoding', async () => {
    const b64 = Buffer.from(CANARY_PASSWORD).toString('base64');
    const saslTail = Buffer.from(`\0alice\0${CANARY_PASSWORD}`).toString('base64').slice(-4);
    for (const [name, text] of Object.entries(await renderAll())) {
      expect(text.length, name).toBeGreaterThan(100);
      expect(text, name).not.toContain(CANARY_PASSWORD);
      expect(text, name).not.toContain(b64);
      expect(text, name).not.toContain(saslTail);
    }
  });

  it('puts the [redacted] marker where the canary was, in every format', async () => {
    for (const [name, text] of Object.entries(await renderAll())) {
      // A library error quoting a URL with credentials (console/JUnit/TAP message, JSON error.message).
      expect(text, name).toContain('pop3://alice:[redacted]@mail.example.test');
      // A server echoing the password (failure transcript tail).
      expect(text, name).toContain('+OK Logged in as alice ([redacted])');
      // The base64 SASL continuation line, dropped whole.
      expect(text, name).toMatch(/\[phone\] C: \[redacted\]|"text": "\[redacted\]"/);
    }
    const all = await renderAll();
    // The unmarked PASS line of a passing scenario appears where the full transcript is written.
    for (const name of ['junit', 'junit-strict', 'json']) expect(all[name]).toMatch(/PASS \[redacted\]/);
  });

  it('scrubs titles by secret value only, so credential-like titles stay intact', () => {
    const redactor = sampleRedactor();
    expect(redactTitle('IMAP LOGIN with bad password', redactor)).toBe('IMAP LOGIN with bad password');
    expect(redactTitle('PASS before USER is rejected', redactor)).toBe('PASS before USER is rejected');
    expect(redactTitle(`login as alice/${CANARY_PASSWORD}`, redactor)).toBe('login as alice/[redacted]');
    // Protocol text in the same result still gets the command patterns.
    expect(redactor.text('a1 LOGIN alice hunter2')).toBe('a1 LOGIN alice [redacted]');
  });

  it('redacts data fields but leaves ids, files and codes as written', () => {
    const [, failed] = buildSampleRun().scenarios as [ScenarioResult, ScenarioResult];
    const tricky: ScenarioResult = {
      ...failed,
      id: 'imap/login-plain',
      name: 'IMAP LOGIN with bad password',
      properties: { id: `greeting ${CANARY_PASSWORD}`, 'greeting.laptop': `* OK ${CANARY_PASSWORD}` },
    };
    const clean = redactScenario(tricky, sampleRedactor());
    expect(clean.id).toBe('imap/login-plain');
    expect(clean.name).toBe('IMAP LOGIN with bad password');
    expect(clean.file).toBe(failed.file);
    // A property called "id" is still data.
    expect(clean.properties).toEqual({ id: 'greeting [redacted]', 'greeting.laptop': '* OK [redacted]' });
    expect(JSON.stringify(clean)).not.toContain(CANARY_PASSWORD);
  });
});
