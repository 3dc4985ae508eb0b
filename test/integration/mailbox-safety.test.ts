import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';
import { parseDocument } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startImapProxy, type ImapMutations } from '../../fixtures/servers/imap-proxy.js';
import { ImapRawClient } from '../../src/protocols/imap/raw/client.js';
import { Transcript } from '../../src/transport/transcript.js';
import { describeRun, startCli, tempDir } from '../support/cli.js';
import { newRunId } from '../../src/runner/execute.js';
import { cleanUpLabRun, labEnv, REPO_ROOT, runSuite, summarize } from '../support/run-suite.js';
import type { RunResult } from '../../src/runner/results.js';
import { LAB_ACCOUNTS } from '../../src/lab/accounts.js';

/**
 * mailprobe's safety promise on a real mailbox: mail and folders it did not
 * create are never changed. The lab account is seeded with unrelated mail
 * (unread, read, flagged, a \Deleted one not yet expunged, a draft, a sent
 * copy) and folders; after the whole shipped suite has run, and after a run
 * interrupted by SIGINT mid-scenario, every seeded message must be
 * byte-identical with unchanged flags, and nothing of the runs may remain.
 * The same holds through a proxy that breaks what cleanup could wrongly rely
 * on: a server that hides folders from the sessions that did not create them,
 * and one that refuses a repeated DELETE as Cyrus's delayed delete does.
 * Leftovers are always checked directly on the lab, never through mailprobe's
 * own report.
 */
const SEED = `seed-${randomBytes(4).toString('hex')}`;
const FOLDER = `Unrelated-${SEED}`;

interface Seeded {
  mailbox: string;
  flags: string[];
}
const SEEDS: Seeded[] = [
  { mailbox: 'INBOX', flags: [] },
  { mailbox: 'INBOX', flags: ['\\Seen'] },
  { mailbox: 'INBOX', flags: ['\\Flagged'] },
  // A plain EXPUNGE anywhere in INBOX would remove this one.
  { mailbox: 'INBOX', flags: ['\\Deleted'] },
  { mailbox: 'Drafts', flags: ['\\Draft'] },
  { mailbox: 'Sent', flags: ['\\Seen'] },
  { mailbox: FOLDER, flags: [] },
  { mailbox: `${FOLDER}/Child`, flags: ['\\Answered'] },
];

type Snapshot = Record<string, Array<{ uid: number; flags: string[]; sha256: string }>> & { folders?: never };

describe('mailprobe leaves mail it did not create untouched', () => {
  let client: ImapFlow;
  let targetFile: string;
  let env: Record<string, string>;

  const connect = async (user = 'alice', passwordEnv = 'MAILPROBE_LAB_PRIMARY_PASSWORD') => {
    const lab = inject('lab');
    const target = parseDocument(await readFile(lab.targetFile, 'utf8')).toJS() as { endpoints: { imaps: { port: number } }; tls: { ca_file: string } };
    const c = new ImapFlow({
      host: '127.0.0.1',
      port: target.endpoints.imaps.port,
      secure: true,
      tls: { ca: await readFile(target.tls.ca_file, 'utf8'), servername: 'localhost' },
      auth: { user, pass: env[passwordEnv]! },
      logger: false,
      disableAutoIdle: true,
      disableAutoEnable: true,
    });
    await c.connect();
    return c;
  };

  /** Every seeded message, by mailbox: UID, flags, and a hash of BODY.PEEK[] (reading it sets nothing). */
  const snapshot = async (): Promise<{ messages: Snapshot; folders: string[]; subscribed: string[] }> => {
    const messages: Snapshot = {};
    for (const mailbox of new Set(SEEDS.map((s) => s.mailbox))) {
      const lock = await client.getMailboxLock(mailbox);
      try {
        const uids = (await client.search({ header: { 'X-Seed': SEED } }, { uid: true })) || [];
        messages[mailbox] = [];
        for (const uid of uids) {
          const m = await client.fetchOne(String(uid), { uid: true, flags: true, source: true }, { uid: true });
          if (!m) continue;
          messages[mailbox]!.push({
            uid,
            flags: [...(m.flags ?? [])].filter((f) => f !== '\\Recent').sort(),
            sha256: createHash('sha256').update(m.source!).digest('hex'),
          });
        }
      } finally {
        lock.release();
      }
    }
    const listed = await client.list();
    return {
      messages,
      folders: listed
        .filter((m) => m.path.startsWith(FOLDER))
        .map((m) => m.path)
        .sort(),
      subscribed: listed
        .filter((m) => m.subscribed && m.path.startsWith(FOLDER))
        .map((m) => m.path)
        .sort(),
    };
  };

  /** Runs `use` on a raw connection of its own, logged in as alice: straight to the lab, not through mailprobe's sessions. */
  const withRaw = async <T>(use: (raw: ImapRawClient) => Promise<T>): Promise<T> => {
    const lab = inject('lab');
    const target = parseDocument(await readFile(lab.targetFile, 'utf8')).toJS() as { endpoints: { imaps: { port: number } }; tls: { ca_file: string } };
    const raw = await ImapRawClient.connect({
      host: '127.0.0.1',
      port: target.endpoints.imaps.port,
      security: 'tls',
      tls: { ca: await readFile(target.tls.ca_file, 'utf8'), servername: 'localhost' },
      transcript: new Transcript(),
      session: 'safety-raw',
    });
    try {
      expect((await raw.login('alice', env.MAILPROBE_LAB_PRIMARY_PASSWORD!)).status).toBe('OK');
      return await use(raw);
    } finally {
      await raw.logout().catch(() => raw.drop());
    }
  };

  /**
   * Subscriptions whose names match `pattern`, by LSUB (RFC 3501 §6.3.9): a subscription
   * outlives its folder, so LIST does not show one left behind.
   */
  const subscribedNames = (pattern: string): Promise<string[]> =>
    withRaw(async (raw) => {
      const lsub = await raw.command(`LSUB "" "${pattern}"`);
      expect(lsub.status, lsub.text).toBe('OK');
      return lsub.untagged
        .filter((u) => u.kind === 'LSUB')
        .map((u) => /^\* LSUB \([^)]*\) (?:NIL|"(?:[^"\\]|\\.)*") "?(.*?)"?$/i.exec(u.raw)?.[1] ?? u.raw)
        .sort();
    });

  /** What any run left behind: folders and subscriptions under mailprobe-<run id>, messages with its header. */
  const traces = async (runId: string): Promise<string[]> => {
    const found: string[] = [];
    for (const m of await client.list()) if (m.path.startsWith(`mailprobe-${runId}`)) found.push(`folder ${m.path}`);
    for (const name of await subscribedNames(`mailprobe-${runId}*`)) found.push(`subscription ${name}`);
    for (const mailbox of ['INBOX', 'Drafts', 'Sent']) {
      const lock = await client.getMailboxLock(mailbox);
      try {
        const uids = (await client.search({ header: { 'X-Mailprobe-Run': runId } }, { uid: true })) || [];
        for (const uid of uids) found.push(`${mailbox} UID ${uid}`);
      } finally {
        lock.release();
      }
    }
    return found;
  };

  /**
   * The stand-ins of `primary` (a run at --concurrency 4 takes them): in each, one unrelated message
   * seeded in INBOX, and what a run left there (folders under its root, messages with its header).
   */
  const STAND_INS = LAB_ACCOUNTS.filter((a) => a.standIn === true);
  const standInState = async (runId: string): Promise<Record<string, { seeded: string[]; traces: string[] }>> => {
    const out: Record<string, { seeded: string[]; traces: string[] }> = {};
    for (const account of STAND_INS) {
      const c = await connect(account.user, account.passwordEnv);
      try {
        const traces = (await c.list()).filter((m) => m.path.startsWith(`mailprobe-${runId}`)).map((m) => `folder ${m.path}`);
        const seeded: string[] = [];
        const lock = await c.getMailboxLock('INBOX');
        try {
          for (const uid of (await c.search({ header: { 'X-Mailprobe-Run': runId } }, { uid: true })) || []) traces.push(`INBOX UID ${uid}`);
          for (const uid of (await c.search({ header: { 'X-Seed': SEED } }, { uid: true })) || []) {
            const m = await c.fetchOne(String(uid), { uid: true, flags: true, source: true }, { uid: true });
            if (m)
              seeded.push(
                `${uid} ${[...(m.flags ?? [])]
                  .filter((f) => f !== '\\Recent')
                  .sort()
                  .join(' ')} ${createHash('sha256').update(m.source!).digest('hex')}`,
              );
          }
        } finally {
          lock.release();
        }
        out[account.user] = { seeded, traces };
      } finally {
        await c.logout();
      }
    }
    return out;
  };
  let standInsBefore: Awaited<ReturnType<typeof standInState>>;

  let before: Awaited<ReturnType<typeof snapshot>>;
  /** Subscriptions of earlier runs (other test files share the lab): they must stay as they were. */
  let subscribedBefore: string[];

  beforeAll(async () => {
    const lab = inject('lab');
    targetFile = lab.targetFile;
    env = await labEnv(lab.envFile);
    client = await connect();
    await client.mailboxCreate(FOLDER);
    await client.mailboxCreate(`${FOLDER}/Child`);
    for (const [i, seed] of SEEDS.entries()) {
      const raw = Buffer.from(
        [
          `From: someone@lab.test`,
          `To: alice@lab.test`,
          `Subject: unrelated ${i}`,
          `Message-ID: <${SEED}.${i}@lab.test>`,
          `X-Seed: ${SEED}`,
          '',
          `Real mail number ${i}, not mailprobe's.`,
          '.leading dot',
          '',
        ].join('\r\n'),
      );
      await client.append(seed.mailbox, raw, seed.flags);
    }
    for (const account of STAND_INS) {
      const c = await connect(account.user, account.passwordEnv);
      const raw = Buffer.from(
        `From: someone@lab.test\r\nTo: ${account.address}\r\nSubject: unrelated\r\nMessage-ID: <${SEED}.${account.user}@lab.test>\r\nX-Seed: ${SEED}\r\n\r\nReal mail.\r\n`,
      );
      await c.append('INBOX', raw, []);
      await c.logout();
    }
    standInsBefore = await standInState('none');
    expect(Object.values(standInsBefore).map((s) => s.seeded.length)).toEqual(STAND_INS.map(() => 1));
    before = await snapshot();
    expect(Object.values(before.messages).flat()).toHaveLength(SEEDS.length);
    subscribedBefore = await subscribedNames('mailprobe-*');
  });

  afterAll(async () => {
    if (!client) return;
    for (const mailbox of ['INBOX', 'Drafts', 'Sent']) {
      const lock = await client.getMailboxLock(mailbox);
      try {
        const uids = (await client.search({ header: { 'X-Seed': SEED } }, { uid: true })) || [];
        if (uids.length > 0) await client.messageDelete(uids.join(','), { uid: true });
      } finally {
        lock.release();
      }
    }
    await client.mailboxDelete(`${FOLDER}/Child`).catch(() => undefined);
    await client.mailboxDelete(FOLDER).catch(() => undefined);
    await client.logout();
    for (const account of STAND_INS) {
      const c = await connect(account.user, account.passwordEnv);
      const lock = await c.getMailboxLock('INBOX');
      try {
        const uids = (await c.search({ header: { 'X-Seed': SEED } }, { uid: true })) || [];
        if (uids.length > 0) await c.messageDelete(uids.join(','), { uid: true });
      } finally {
        lock.release();
      }
      await c.logout();
    }
  });

  /** Every scenario's verdict at --concurrency 1, for the concurrency-4 run to equal. */
  let serialVerdicts: Record<string, string> | undefined;
  const verdicts = (result: RunResult): Record<string, string> => Object.fromEntries(result.scenarios.map((s) => [s.id, s.state]));

  it('after the whole shipped suite, every seeded message and folder is as it was', async () => {
    const { result } = await runSuite({ targetFile, env, paths: [join(REPO_ROOT, 'suites')] });
    for (const s of result.scenarios) expect(s.state, summarize(result)).toBe('passed');
    expect(await snapshot()).toEqual(before);
    expect(await traces(result.runId)).toEqual([]);
    expect(await subscribedNames('mailprobe-*'), 'no subscription under mailprobe-* was added').toEqual(subscribedBefore);
    serialVerdicts = verdicts(result);
  });

  it('at --concurrency 4 too, with every verdict as at concurrency 1, and scenarios really overlapping', async () => {
    const overlapped: string[] = [];
    const { result } = await runSuite({
      targetFile,
      env,
      paths: [join(REPO_ROOT, 'suites')],
      concurrency: 4,
      onScheduled: (entry, id) => {
        if (entry.alongside.length > 0) overlapped.push(id);
      },
    });
    for (const s of result.scenarios) expect(s.state, summarize(result)).toBe('passed');
    expect(await snapshot()).toEqual(before);
    expect(await traces(result.runId)).toEqual([]);
    expect(await subscribedNames('mailprobe-*'), 'no subscription under mailprobe-* was added').toEqual(subscribedBefore);
    // Results stay in plan order, whatever order the scenarios ended in.
    expect(result.scenarios.map((s) => s.id)).toEqual(Object.keys(serialVerdicts ?? verdicts(result)));
    if (serialVerdicts !== undefined) expect(verdicts(result)).toEqual(serialVerdicts);
    // Not a serial run in disguise: some scenarios did start while others ran.
    expect(overlapped.length, 'scenarios that started alongside another').toBeGreaterThan(0);
    // Some ran on a stand-in of primary, and left nothing there, nor touched its other mail.
    const standIns = result.scenarios.flatMap((s) => (s.properties['stand_in.primary'] === undefined ? [] : [s.properties['stand_in.primary']]));
    expect(standIns.length, 'scenarios that ran on a stand-in mailbox').toBeGreaterThan(0);
    const after = await standInState(result.runId);
    expect(Object.fromEntries(Object.entries(after).map(([u, s]) => [u, s.seeded]))).toEqual(
      Object.fromEntries(Object.entries(standInsBefore).map(([u, s]) => [u, s.seeded])),
    );
    expect(Object.values(after).flatMap((s) => s.traces)).toEqual([]);
  });

  it('cleanup also removes a subscription under the run root that the run never recorded (a server that subscribes by itself)', async () => {
    const runId = newRunId();
    // Subscribed behind mailprobe's back, and its folder deleted (the subscription stays, RFC 9051
    // §6.3.7): ours by name only. Dovecot refuses SUBSCRIBE of a name that does not exist.
    const stray = `mailprobe-${runId}/auto-subscribed`;
    for (const command of [`CREATE "${stray}"`, `SUBSCRIBE "${stray}"`, `DELETE "${stray}"`]) {
      const answer = await withRaw((raw) => raw.command(command));
      expect(answer.status, `${command}: ${answer.text}`).toBe('OK');
    }
    expect(await subscribedNames(`mailprobe-${runId}*`)).toEqual([stray]);
    expect(await cleanUpLabRun(inject('lab'), runId)).toEqual([]);
    expect(await traces(runId)).toEqual([]);
  });

  /** Runs the IMAP suite through a proxy in front of the lab with these mutations. */
  const throughProxy = async (mutations: ImapMutations) => {
    const lab = inject('lab');
    const labTarget = parseDocument(await readFile(lab.targetFile, 'utf8')).toJS() as { endpoints: { imaps: { port: number } }; tls: { ca_file: string } };
    const proxy = await startImapProxy({
      upstream: { host: '127.0.0.1', port: labTarget.endpoints.imaps.port, ca: await readFile(labTarget.tls.ca_file, 'utf8'), servername: 'localhost' },
      mutations,
    });
    try {
      const proxied = join(await tempDir('safety-proxy'), 'target.yaml');
      await proxy.writeTarget(proxied, { labTargetFile: lab.targetFile, as: 'imaps' });
      return (await runSuite({ targetFile: proxied, env, paths: [join(REPO_ROOT, 'suites', 'imap')] })).result;
    } finally {
      await proxy.close();
    }
  };

  it('through a server that hides folders created by other sessions, the IMAP suite leaves nothing and reports no false success', async () => {
    const result = await throughProxy({ hideFoldersCreatedElsewhere: true });
    expect(await traces(result.runId), summarize(result)).toEqual([]);
    expect(await snapshot()).toEqual(before);
    // The folder the phone cannot see is the failure folder-sync names; nothing else is blamed, nothing passes falsely.
    expect(result.scenarios.find((s) => s.id === 'imap/folder-sync')?.state, summarize(result)).toBe('failed');
    for (const s of result.scenarios) {
      expect(s.leftovers, `${s.id} (cleanup works from its own record)`).toEqual([]);
      if (s.id !== 'imap/folder-sync' && s.id !== 'imap/starttls') expect(s.state, summarize(result)).toBe('passed');
    }
  });

  it('through a server that refuses a repeated DELETE within a second (Cyrus delayed delete), cleanup tries again and leaves nothing', async () => {
    const result = await throughProxy({ refuseRepeatedDelete: true });
    expect(await traces(result.runId), summarize(result)).toEqual([]);
    expect(await snapshot()).toEqual(before);
    for (const s of result.scenarios) {
      expect(s.leftovers, s.id).toEqual([]);
      if (s.id !== 'imap/starttls') expect(s.state, summarize(result)).toBe('passed');
    }
    const retried = result.scenarios.flatMap((s) => s.cleanup.flatMap((c) => c.transcript)).filter((e) => /refused; trying again/.test(e.text));
    expect(retried.length, 'the proxy refused at least one DELETE, so the retry was exercised').toBeGreaterThan(0);
  });

  it('after a run at --concurrency 4 interrupted by SIGINT while scenarios run side by side, too', async () => {
    const dir = await tempDir('safety-concurrent');
    const json = join(dir, 'report.json');
    const run = startCli([
      'run',
      join(REPO_ROOT, 'suites'),
      '--target',
      targetFile,
      '--env-from',
      inject('lab').envFile,
      '--concurrency',
      '4',
      '--verbose',
      '--reporter',
      `json=${json}`,
    ]);
    // Interrupt once a scenario has started beside another (--verbose says so), and that one has sent something.
    const sideBySide = () => /^=== \[[^\]]+\] starts alongside/m.test(run.stderrSoFar()) && (run.stderrSoFar().match(/^\[[^\]]+\] .* -> /gm)?.length ?? 0) > 5;
    for (let waited = 0; !sideBySide() && waited < 60_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    expect(sideBySide(), 'two scenarios were under way when the interrupt came').toBe(true);
    run.child.kill('SIGINT');
    const result = await run.done;
    expect(result.code, describeRun(result)).toBe(130);
    const report = JSON.parse(await readFile(json, 'utf8')) as { runId: string; interrupted: boolean; scenarios: Array<{ leftovers: string[] }> };
    expect(report.interrupted).toBe(true);
    expect(report.scenarios.flatMap((s) => s.leftovers)).toEqual([]);
    expect(await snapshot()).toEqual(before);
    expect(await traces(report.runId)).toEqual([]);
    expect(Object.values(await standInState(report.runId)).flatMap((s) => s.traces)).toEqual([]);
  });

  it('after a run interrupted by SIGINT mid-scenario, too', async () => {
    const dir = await tempDir('safety');
    const json = join(dir, 'report.json');
    const run = startCli(['run', join(REPO_ROOT, 'suites', 'imap'), '--target', targetFile, '--env-from', inject('lab').envFile, '--reporter', `json=${json}`]);
    // Interrupt once the first scenario has finished: the second is then under way.
    for (let waited = 0; !/^✓ /m.test(run.stderrSoFar()) && waited < 30_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    run.child.kill('SIGINT');
    const result = await run.done;
    expect(result.code, describeRun(result)).toBe(130);
    const report = JSON.parse(await readFile(json, 'utf8')) as { runId: string; interrupted: boolean };
    expect(report.interrupted).toBe(true);
    expect(await snapshot()).toEqual(before);
    expect(await traces(report.runId)).toEqual([]);
  });
});
