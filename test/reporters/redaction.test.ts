import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createReporter, REPORTER_NAMES } from '../../src/reporters/index.js';
import { redactScenario, redactTitle } from '../../src/reporters/redact-result.js';
import { ReporterMultiplexer } from '../../src/runner/reporter-multiplexer.js';
import { Redactor } from '../../src/transport/redact.js';
import { Transcript } from '../../src/transport/transcript.js';
import { QuietableTranscript } from '../../src/protocols/imap/raw/quiet-transcript.js';
import type { ScenarioResult } from '../../src/runner/results.js';
import { buildSampleRun, CANARY_PASSWORD, sampleRedactor } from '../support/sample-results.js';
import { captureContext } from './support.js';

/** The HTML report's text as a reader sees it: its five entities decoded (a secret must not hide behind &quot;). */
function unescapeHtml(page: string): string {
  return page
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** Every format, driven through the same hooks the runner calls. */
async function renderAll(): Promise<Record<string, string>> {
  const run = buildSampleRun();
  const out: Record<string, string> = {};
  const dir = mkdtempSync(join(tmpdir(), 'mailprobe-redaction-'));
  for (const name of REPORTER_NAMES) {
    const ctx = captureContext({ cwd: dir });
    // html needs a file; the others write to stdout without one.
    const reporter = new ReporterMultiplexer([createReporter(name === 'html' ? `html=${name}.html` : name, ctx)], { stderr: ctx.stderr });
    await reporter.onRunStart({ runId: run.runId, target: run.target, scenarioCount: run.scenarios.length, startedAt: run.startedAt });
    for (const scenario of run.scenarios) await reporter.onScenarioEnd(scenario);
    await reporter.onRunEnd(run);
    expect(reporter.crashed).toBe(false);
    out[name] = ctx.stdout.text + ctx.stderr.text + (name === 'html' ? unescapeHtml(readFileSync(join(dir, 'html.html'), 'utf8')) : '');
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
    for (const name of ['junit', 'junit-strict', 'json', 'html']) expect(all[name]).toMatch(/PASS \[redacted\]/);
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

describe('the Redactor covers the exact forms a login sends', () => {
  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
  const quote = (s: string) => `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`;
  // Not 'u' or 'x', which the user names are made of, so the checks below see only the password's forms.
  const pw = (n: number) => Array.from({ length: n }, (_, i) => 'Kq"7\\W%z{ }9'[i % 12]).join('');

  it('replaces every SASL PLAIN, AUTH LOGIN and quoted form whole, for every short password and user length', () => {
    for (let userLength = 1; userLength <= 6; userLength++) {
      const user = `u${'x'.repeat(userLength - 1)}`;
      for (let length = 1; length <= 12; length++) {
        const password = pw(length);
        const redactor = new Redactor([{ user, password }]);
        const tokens = [b64(`\0${user}\0${password}`), b64(`${user}\0${user}\0${password}`), b64(password)];
        for (const token of [...tokens, ...tokens.map((t) => t.replace(/=+$/, ''))]) {
          // As a hostile server echoes it: right after the command, and glued to other text.
          expect(redactor.text(`-ERR rejected AUTH PLAIN ${token} (x)`), `${user}/${JSON.stringify(password)} ${token}`).toBe(
            '-ERR rejected AUTH PLAIN [redacted] (x)',
          );
          expect(redactor.text(`xx${token}xx`)).toBe('xx[redacted]xx');
        }
        expect(redactor.text(`A1 NO rejected A1 LOGIN ${quote(user)} ${quote(password)}`)).toBe(`A1 NO rejected A1 LOGIN ${quote(user)} [redacted]`);
      }
    }
  });

  it('leaves no fragment of a token that an occurrence of the password overlaps', () => {
    // The password "AA" right before its own SASL PLAIN token "AHUAQUE=": "AAHUAQUE=".
    // Replacing the password first would leave "HUAQUE=" (most of the token) behind.
    const redactor = new Redactor([{ user: 'u', password: 'AA' }]);
    expect(b64('\0u\0AA')).toBe('AHUAQUE=');
    expect(redactor.text('echo AAHUAQUE= end')).toBe('echo [redacted] end');
  });

  it('does not search inside the marker it wrote', () => {
    // A password made of marker letters must not turn "[redacted]" into "[r[redacted]d…".
    const redactor = new Redactor([
      { user: 'u', password: 'e' },
      { user: 'v', password: 'd' },
    ]);
    expect(redactor.text('-ERR d or e')).toBe('-ERR [redacted] or [redacted]');
  });

  it('scrubs any token a client marked secret on the transcript, whatever the mechanism', () => {
    const redactor = new Redactor([{ user: 'alice', password: 'long-enough-password' }]);
    const transcript = new Transcript({ secrets: redactor });
    // A mechanism the Redactor cannot derive (a challenge-response digest, a token).
    transcript.client('box', 'AUTH X-FUTURE 9f86d081884c7d65', { secret: '9f86d081884c7d65' });
    transcript.client('box', 'AUTH PLAIN 0123abcd4567', { secretAfter: 'AUTH PLAIN '.length });
    expect(transcript.entries.map((e) => e.text)).toEqual(['AUTH X-FUTURE [redacted]', 'AUTH PLAIN [redacted]']);
    expect(redactor.text('-ERR bad token 9f86d081884c7d65, and 0123abcd4567')).toBe('-ERR bad token [redacted], and [redacted]');
  });

  it('a secret sent while the raw IMAP client keeps lines out of the transcript is still registered', () => {
    const redactor = new Redactor([]);
    const quiet = new QuietableTranscript(new Transcript({ secrets: redactor }));
    quiet.quietly(() => quiet.client('box', 'A1 AUTHENTICATE X dG9rZW4tMTIz', { secret: 'dG9rZW4tMTIz' }));
    quiet.secret('b3RoZXItdG9rZW4');
    expect(quiet.entries).toEqual([]);
    expect(redactor.text('A1 NO bad dG9rZW4tMTIz b3RoZXItdG9rZW4')).toBe('A1 NO bad [redacted] [redacted]');
  });

  it('the LOGIN line pattern reads a quoted user with escapes and spaces', () => {
    const redactor = new Redactor([]);
    expect(redactor.text('A1 LOGIN "a\\"b c" "p\\"w"')).toBe('A1 LOGIN "a\\"b c" [redacted]');
    expect(redactor.text('A1 LOGIN alice hunter2')).toBe('A1 LOGIN alice [redacted]');
  });
});
