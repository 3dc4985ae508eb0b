import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ImapProxy } from '../../fixtures/servers/imap-proxy.js';
import { closeAll, directClient, labImap } from '../imap-proxy/lab-imap.js';
import { startLabProxy } from '../support/lab-proxy.js';
import { cleanUpLabRun, REPO_ROOT, runSuite, summarize } from '../support/run-suite.js';
import { replaceFlags } from '../support/expect-helpers.js';

/**
 * imap/idle-push judges push latency against the host's own promise, not an
 * RFC bound (RFC 2177 sets none), and reports when the EXISTS came even if it
 * came late: after DONE, with the command that ended the IDLE.
 */
const SCENARIO = join(REPO_ROOT, 'suites', 'imap', 'idle-push.yaml');
const PUSH_BOUND_MS = 2_000;

describe('imap/idle-push through the proxy', () => {
  let proxy: ImapProxy;
  let targetFile: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    ({ proxy, targetFile, env } = await startLabProxy(inject('lab'), 'idle-push'));
    // A short bound keeps the late case quick; the lab pushes within milliseconds.
    const doc = parseDocument(await readFile(targetFile, 'utf8'));
    doc.setIn(['timeouts', 'push'], PUSH_BOUND_MS);
    await writeFile(targetFile, doc.toString());
  });
  afterAll(async () => {
    await proxy?.close();
  });

  const run = async (swallowIdleNotifications: boolean) => {
    replaceFlags(proxy.mutations, swallowIdleNotifications ? { swallowIdleNotifications } : {});
    try {
      return (await runSuite({ targetFile, env, paths: [SCENARIO] })).result;
    } finally {
      replaceFlags(proxy.mutations, {});
    }
  };

  it('records the latency of a push that arrives while idling', async () => {
    const result = await run(false);
    const scenario = result.scenarios[0]!;
    expect(scenario.state, summarize(result)).toBe('passed');
    expect(scenario.properties.idle_push_arrived).toBe('during IDLE');
    expect(Number(scenario.properties.idle_push_latency_ms)).toBeLessThan(PUSH_BOUND_MS);
  });

  it('fails a push held until the next command against the host promise, and records when it came', async () => {
    const result = await run(true);
    const scenario = result.scenarios[0]!;
    expect(scenario.state, summarize(result)).toBe('failed');
    if (scenario.state !== 'failed') return;
    expect(scenario.failure.rfc).toMatch(/RFC 2177 §3 sets no bound/);
    expect(scenario.failure.rfc).toMatch(/host's promise/);
    expect(scenario.failure.message).toMatch(/no EXISTS within timeouts\.push/);
    // The EXISTS came after all, with the NOOP that ended the IDLE: that is reported, with when.
    expect(scenario.properties.idle_push_arrived).toMatch(/^after DONE/);
    expect(Number(scenario.properties.idle_push_latency_ms)).toBeGreaterThanOrEqual(PUSH_BOUND_MS);
    expect(scenario.leftovers, summarize(result)).toEqual([]);
    expect(await cleanUpLabRun(inject('lab'), result.runId)).toEqual([]);
  });
});

/**
 * imap.wait-for spends each pause between its looks in IDLE when the server offers it: a push ends the pause
 * at once (early_wakeups), where a held one leaves the wait to its next look. The message is appended from a
 * second, direct session while the wait is in its pauses (they grow towards interval_ms, here a minute). It
 * carries the run's header, and the wait that found it claims it for the run's cleanup; should a wait fail, the
 * test deletes it itself.
 */
describe('imap.wait-for through the proxy', () => {
  let proxy: ImapProxy;
  let targetFile: string;
  let env: Record<string, string>;
  let dir: string;

  beforeAll(async () => {
    ({ proxy, targetFile, env, dir } = await startLabProxy(inject('lab'), 'wait-for-idle'));
  });
  afterAll(async () => {
    await proxy?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const waitUnder = async (swallowIdleNotifications: boolean, expectations: string[]) => {
    const runId = `20261203t000000-${String(Math.floor(Math.random() * 1e6)).padStart(6, '0')}`;
    const messageId = `<wait-for-idle.${runId}@lab.test>`;
    const scenario = join(dir, `wait-for-${swallowIdleNotifications ? 'held' : 'pushed'}.yaml`);
    await writeFile(
      scenario,
      [
        'name: imap.wait-for and IDLE',
        'sessions:',
        '  laptop: { protocol: imap, endpoint: imaps, account: primary }',
        'steps:',
        '  - name: wait for the appended message',
        '    action: imap.wait-for',
        '    session: laptop',
        `    with: { mailbox: INBOX, message_id: "${messageId}", interval_ms: 60000, timeout_ms: 20000 }`,
        '    expect:',
        '      - { that: arrived, equals: true }',
        '      - { that: idle, equals: true }',
        ...expectations.map((e) => `      - ${e}`),
        'cleanup:',
        '  - { action: imap.cleanup, session: laptop }',
        '',
      ].join('\n'),
    );
    const lab = await labImap();
    const other = await directClient(lab);
    replaceFlags(proxy.mutations, swallowIdleNotifications ? { swallowIdleNotifications } : {});
    try {
      const running = runSuite({ targetFile, env, paths: [scenario], runId });
      try {
        // As the wait begins an IDLE, after enough looks that its pauses are about a second long (25 ms, growing
        // by half): the message arrives at the start of a pause, not during a look (whose own SEARCH would find it
        // without a push), and the pause outlasts the push: Dovecot 2.3 sent it about 0.5 s after the IDLE began.
        await new Promise((resolveLater) => setTimeout(resolveLater, 3_000));
        const begun = proxy.idleStarts();
        for (const started = Date.now(); proxy.idleStarts() === begun; ) {
          if (Date.now() - started > 10_000) throw new Error('the wait began no IDLE');
          await new Promise((resolveLater) => setTimeout(resolveLater, 2));
        }
        const message = [
          `From: ${lab.user}@lab.test`,
          `To: ${lab.user}@lab.test`,
          'Subject: wait-for idle',
          `Message-ID: ${messageId}`,
          `X-Mailprobe-Run: ${runId}`,
          '',
          'body',
          '',
        ].join('\r\n');
        await other.append('INBOX', Buffer.from(message));
      } finally {
        // Should the append not happen, the wait still ends (timeout_ms), and the run with it.
        await running.catch(() => undefined);
      }
      return (await running).result;
    } finally {
      replaceFlags(proxy.mutations, {});
      await other.mailboxOpen('INBOX');
      const uids = await other.search({ header: { 'message-id': messageId } }, { uid: true });
      if (uids && uids.length > 0) await other.messageDelete(uids, { uid: true });
      await closeAll(other);
    }
  };

  it('ends a pause at the EXISTS pushed during IDLE', { timeout: 60_000 }, async () => {
    const result = await waitUnder(false, ['{ that: early_wakeups, at_least: 1 }']);
    expect(result.scenarios[0]?.state, summarize(result)).toBe('passed');
  });

  it('still finds the message at its next look when the push is held until DONE', { timeout: 60_000 }, async () => {
    const result = await waitUnder(true, ['{ that: early_wakeups, equals: 0 }']);
    expect(result.scenarios[0]?.state, summarize(result)).toBe('passed');
  });
});
