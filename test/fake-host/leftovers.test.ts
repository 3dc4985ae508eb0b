import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FakeMailHost } from '../../fixtures/servers/fake-mail-host.js';
import { closedPort, startFakeHostWithTarget } from '../support/cli.js';
import { POP3_SUITE, REPO_ROOT, runSuite, summarize } from '../support/run-suite.js';
import { replaceFlags } from '../support/expect-helpers.js';

/**
 * What a run leaves behind, and what it says about it. Leftovers are named by
 * Message-ID from the run's own record of what it sent, a scenario that leaves
 * anything is never passed, and a run that created nothing says nothing about
 * leftovers. A reading session that cannot connect stops a scenario before any
 * mail is sent, so a closed POP3 port strands nothing.
 */
describe('leftovers are named from the run record, and only when something was created', () => {
  let host: FakeMailHost;
  let dir: string;
  let targetFile: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    ({ host, dir, targetFile, env } = await startFakeHostWithTarget({ accounts: { alice: { password: 'alice-Secret-1', address: 'alice@fake.test' } } }));
  });
  afterAll(async () => {
    await host?.close();
  });
  afterEach(() => {
    replaceFlags(host.faults, {});
  });

  /** A copy of the target with some endpoints moved to (or added on) a port nothing listens on. */
  const targetWithClosed = async (name: string, endpoints: string[], added: Record<string, string> = {}): Promise<string> => {
    const doc = parseDocument(await readFile(targetFile, 'utf8'));
    const port = await closedPort();
    for (const endpoint of endpoints) doc.setIn(['endpoints', endpoint, 'port'], port);
    for (const [endpoint, security] of Object.entries(added)) doc.setIn(['endpoints', endpoint], doc.createNode({ port, security }));
    const file = join(dir, name);
    await writeFile(file, doc.toString());
    return file;
  };

  const scenario = async (name: string, text: string): Promise<string> => {
    const file = join(dir, name);
    await writeFile(file, text);
    return file;
  };

  it('an unreachable POP3 port errors every scenario before any mail is sent, and claims no leftovers', async () => {
    const before = host.maildrop('alice').length;
    const closed = await targetWithClosed('pop3-closed.yaml', ['pop3', 'pop3s']);
    const { result } = await runSuite({ targetFile: closed, env, paths: [POP3_SUITE] });
    expect(host.maildrop('alice').length - before, 'messages delivered into the maildrop').toBe(0);
    for (const s of result.scenarios) {
      expect(s.state, summarize(result)).toBe('errored');
      expect(s.leftovers, `${s.id}: nothing was created, so nothing is left`).toEqual([]);
    }
    const sending = result.scenarios.filter((s) => s.steps.some((step) => step.action === 'smtp.send'));
    expect(sending.length, 'scenarios that would have sent mail').toBeGreaterThan(0);
    for (const s of sending) expect(s.state === 'errored' && s.error.code, s.id).toBe('ECONNREFUSED');
  });

  it('an unreachable IMAP port errors every IMAP scenario, delivers nothing, and claims no leftovers', async () => {
    const before = host.maildrop('alice').length;
    const closed = await targetWithClosed('imap-closed.yaml', [], { imap: 'starttls', imaps: 'tls' });
    const { result } = await runSuite({ targetFile: closed, env, paths: [join(REPO_ROOT, 'suites', 'imap')] });
    expect(host.maildrop('alice').length - before, 'messages delivered').toBe(0);
    for (const s of result.scenarios) {
      expect(s.state, summarize(result)).toBe('errored');
      expect(s.leftovers, s.id).toEqual([]);
    }
  });

  it('a scenario skipped for a missing capability (its cleanup skipped too) claims no leftovers', async () => {
    const file = await scenario(
      'needs-capability.yaml',
      [
        'name: needs a capability the host lacks',
        'requires: { capabilities: { pop3: [XNOTHERE] } }',
        'sessions:',
        '  laptop: { protocol: pop3, endpoint: pop3s, account: primary }',
        'steps:',
        '  - { action: pop3.stat, session: laptop }',
        '  - action: smtp.send',
        '    with: { account: primary, to: ["alice@fake.test"] }',
        'cleanup:',
        '  - { action: pop3.cleanup, session: laptop }',
        '',
      ].join('\n'),
    );
    const { result } = await runSuite({ targetFile, env, paths: [file] });
    const [s] = result.scenarios;
    expect(s?.state, summarize(result)).toBe('skipped');
    expect(s?.leftovers).toEqual([]);
  });

  const sendAndWait = (cleanupSession: string, extraSessions: string[] = []) =>
    [
      'name: send one message and clean it up',
      'sessions:',
      '  laptop: { protocol: pop3, endpoint: pop3s, account: primary }',
      ...extraSessions,
      'steps:',
      '  - action: smtp.send',
      '    with: { account: primary, to: ["alice@fake.test"] }',
      '    capture: { sent: "$" }',
      '  - action: pop3.wait-for',
      '    session: laptop',
      '    with: { message_id: "${captures.sent.message_id}" }',
      '    expect: [{ that: arrived, equals: true }]',
      'cleanup:',
      `  - { action: pop3.cleanup, session: ${cleanupSession} }`,
      '',
    ].join('\n');

  it('a cleanup that cannot connect names the Message-IDs the run sent, and the scenario is not passed', async () => {
    const closed = await targetWithClosed('pop3-plain-closed.yaml', ['pop3']);
    const file = await scenario('cleanup-refused.yaml', sendAndWait('cleaner', ['  cleaner: { protocol: pop3, endpoint: pop3, account: primary }']));
    const { result } = await runSuite({ targetFile: closed, env, paths: [file] });
    const [s] = result.scenarios;
    const sent = host
      .maildrop('alice')
      .map((m) => /^message-id:\s*(\S+)/im.exec(m.raw.toString('latin1'))?.[1])
      .filter(Boolean);
    expect(s?.state, summarize(result)).toBe('failed');
    if (s?.state === 'failed') expect(s.failure.message).toBe('cleanup removed everything this run created');
    // The message is really still there (nothing could remove it), and the report names it.
    const messageId = sent.at(-1)!;
    expect(s?.leftovers.join('\n')).toContain(messageId);
    expect(s?.leftovers.join('\n')).not.toMatch(/look for messages/);
  });

  it('a message the server keeps after cleanup is named by Message-ID and fails a scenario that otherwise passed', async () => {
    const file = await scenario('kept.yaml', sendAndWait('laptop'));
    host.faults.keepAfterQuit = true;
    const { result } = await runSuite({ targetFile, env, paths: [file] });
    const [s] = result.scenarios;
    expect(s?.state, summarize(result)).toBe('failed');
    if (s?.state === 'failed') {
      expect(s.failure.message).toBe('cleanup removed everything this run created');
      expect(s.failure.actual).toMatch(/<[^>]+@mailprobe\.invalid>/);
    }
    expect(s?.leftovers.some((l) => /<[^>]+@mailprobe\.invalid>/.test(l))).toBe(true);
  });
});
