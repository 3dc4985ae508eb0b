import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeMailHost } from '../../fixtures/servers/fake-mail-host.js';
import { startFakeHostWithTarget } from '../support/cli.js';
import { runSuite, summarize } from '../support/run-suite.js';

/**
 * A POP3 server that advertises UTF8 (RFC 6856) may show a client that never
 * sent UTF8 a notice in place of a message with UTF-8 header fields; Courier
 * does ("Subject: Cannot display Unicode content"). The harness reads mail as
 * a UTF-8-capable client, so it sends UTF8 when CAPA offers it, and a message
 * that arrived is found. The fake host serves the notice without UTF8 and the
 * message itself after it.
 */
describe('POP3 sessions send UTF8 when CAPA advertises it', () => {
  let host: FakeMailHost;
  let dir: string;
  let targetFile: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    ({ host, dir, targetFile, env } = await startFakeHostWithTarget({
      accounts: { alice: { password: 'alice-Secret-1', address: 'alice@fake.test' } },
      pop3Utf8: true,
    }));
  });
  afterAll(async () => {
    await host?.close();
  });

  const scenario = [
    'name: a message with a UTF-8 From and Subject arrives',
    'sessions:',
    '  client: { protocol: smtp, endpoint: submission, account: primary }',
    '  mailbox: { protocol: pop3, endpoint: pop3s, account: primary }',
    'steps:',
    '  - { action: smtp.mail, session: client, with: { body: 8BITMIME } }',
    '  - { action: smtp.rcpt, session: client, with: { to: "alice@fake.test" } }',
    '  - action: smtp.data',
    '    session: client',
    '    with: { from: "Prüfung <pruefung@fake.test>", subject: "Grüße ${run.id}", encoding: 8bit, text: "Grüße\\n" }',
    '    capture: { sent: "$" }',
    '  - { action: smtp.quit, session: client }',
    '  - action: pop3.wait-for',
    '    session: mailbox',
    '    with: { message_id: "${captures.sent.message_id}", timeout_ms: 1500 }',
    '    expect: [{ id: arrives, that: arrived, equals: true }]',
    'cleanup:',
    '  - { action: pop3.cleanup, session: mailbox }',
    '',
  ].join('\n');

  it('finds the delivered message, and the transcript shows UTF8 sent before the login', async () => {
    const file = join(dir, 'utf8-arrives.yaml');
    await writeFile(file, scenario);
    const { result } = await runSuite({ targetFile, env, paths: [file] });
    const [s] = result.scenarios;
    expect(s?.state, summarize(result)).toBe('passed');
    const wait = s?.steps.find((step) => step.action === 'pop3.wait-for');
    expect(wait?.checks.every((c) => c.passed)).toBe(true);
    // Each poll's session: UTF8 is sent, taken, and comes before the login (AUTHORIZATION state).
    const lines = (wait?.transcript ?? []).map((e) => `${e.direction} ${e.text}`);
    const utf8At = lines.indexOf('client UTF8');
    expect(utf8At, lines.join('\n')).toBeGreaterThan(-1);
    expect(lines[utf8At + 1]).toBe('server +OK UTF8 mode on');
    const loginAt = lines.findIndex((l) => /^client (AUTH PLAIN|USER) /.test(l));
    expect(loginAt, lines.join('\n')).toBeGreaterThan(utf8At);
    expect(s?.leftovers).toEqual([]);
  });
});

/** A server that advertises UTF8 and then refuses it is not judged for that: the session goes on in ASCII mode. */
describe('a refused UTF8', () => {
  let host: FakeMailHost;
  let dir: string;
  let targetFile: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    ({ host, dir, targetFile, env } = await startFakeHostWithTarget({
      accounts: { alice: { password: 'alice-Secret-1', address: 'alice@fake.test' } },
      pop3Utf8: true,
      pop3Overrides: {
        UTF8: (_args, io) => {
          io.reply('-ERR UTF8 not available now');
          return true;
        },
      },
    }));
  });
  afterAll(async () => {
    await host?.close();
  });

  it('leaves the session in ASCII mode, says so in the transcript, and an ASCII message is still found', async () => {
    const file = join(dir, 'utf8-refused.yaml');
    await writeFile(
      file,
      [
        'name: a plain message arrives though UTF8 was refused',
        'sessions:',
        '  mailbox: { protocol: pop3, endpoint: pop3s, account: primary }',
        'steps:',
        '  - action: smtp.send',
        '    with: { account: primary, to: ["alice@fake.test"] }',
        '    capture: { sent: "$" }',
        '  - action: pop3.wait-for',
        '    session: mailbox',
        '    with: { message_id: "${captures.sent.message_id}", timeout_ms: 1500 }',
        '    expect: [{ that: arrived, equals: true }]',
        'cleanup:',
        '  - { action: pop3.cleanup, session: mailbox }',
        '',
      ].join('\n'),
    );
    const { result } = await runSuite({ targetFile, env, paths: [file] });
    const [s] = result.scenarios;
    expect(s?.state, summarize(result)).toBe('passed');
    const lines = (s?.steps.find((step) => step.action === 'pop3.wait-for')?.transcript ?? []).map((e) => `${e.direction} ${e.text}`);
    expect(lines).toContain('server -ERR UTF8 not available now');
    expect(
      lines.some((l) => /^info the server refused UTF8 \(UTF8 not available now\); the session stays in ASCII mode$/.test(l)),
      lines.join('\n'),
    ).toBe(true);
  });
});
