import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { astringPart, ImapRawClient } from '../../src/protocols/imap/raw/index.js';
import { Pop3Client } from '../../src/protocols/pop3/index.js';
import { loadTargetFile, resolveAccountPassword } from '../../src/target/index.js';
import { Transcript } from '../../src/transport/transcript.js';
import { describeRun, runCli, startCli, tempDir } from '../support/cli.js';
import { labEnv } from '../support/run-suite.js';

interface LoadJson {
  runId: string;
  scenarios: { id: string; state: string; properties: Record<string, string> }[];
  load: { totalCommands: number; logins: number; leftovers: string[]; settings: { clients: number } };
}

/** The account's folders whose names carry the run id, as the server lists them now. */
async function foldersOf(runId: string, targetFile: string, env: Record<string, string>): Promise<string[]> {
  const target = await loadTargetFile(targetFile);
  const endpoint = target.endpoints.imap!;
  const account = Object.values(target.accounts)[0]!;
  const client = await ImapRawClient.connect({ ...endpoint, transcript: new Transcript(), session: 'check' });
  try {
    expect((await client.login(account.user, resolveAccountPassword(account, env))).status).toBe('OK');
    const listed = await client.command(['LIST "" ', astringPart(`*${runId}*`)]);
    expect(listed.status).toBe('OK');
    return listed.untagged.filter((u) => u.kind === 'LIST').map((u) => u.raw);
  } finally {
    await client.logout().catch(() => client.drop());
  }
}

/** Per mailbox of the first account (and its stand-ins): how many messages there carry X-Mailprobe-Run: runId. */
async function pop3MessagesOf(runId: string, targetFile: string, env: Record<string, string>): Promise<Record<string, number>> {
  const target = await loadTargetFile(targetFile);
  const endpoint = target.endpoints.pop3!;
  const first = Object.values(target.accounts)[0]!;
  const out: Record<string, number> = {};
  for (const account of [first, ...(first.standIns ?? [])]) {
    const client = await Pop3Client.connect({ ...endpoint, transcript: new Transcript(), session: 'check' });
    try {
      await client.login(account.user, resolveAccountPassword(account, env));
      let n = 0;
      for (const { msg } of await client.list()) if ((await client.top(msg, 0)).toString('latin1').includes(`X-Mailprobe-Run: ${runId}`)) n++;
      out[account.user] = n;
      await client.quit();
    } finally {
      if (!client.closed) client.connection.destroy();
    }
  }
  return out;
}

/** `mailprobe load` against the lab's target and passwords, then `args`. */
function labLoad(lab: { targetFile: string; envFile: string }, args: readonly string[]): string[] {
  return ['load', '--target', lab.targetFile, '--secrets-file', lab.envFile, ...args];
}

describe('mailprobe load against the lab', () => {
  it('runs the mix on real sessions, counts every command, cleans up its folders, and its JSON gates report diff on a doubled p95', async () => {
    const lab = inject('lab');
    const env = await labEnv(lab.envFile);
    const dir = await tempDir('load');
    const json = join(dir, 'load.json');
    const r = await runCli(labLoad(lab, ['--clients', '3', '--duration', '2s', '--json', json]));
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout).toMatch(/^FETCH\s+\d+\s+0\s/m);
    expect(r.stdout).toMatch(/commands\/s/);
    const report = JSON.parse(await readFile(json, 'utf8')) as LoadJson;
    const byId = new Map(report.scenarios.map((s) => [s.id, s]));
    for (const command of ['FETCH', 'STORE', 'APPEND', 'SELECT', 'EXPUNGE']) {
      const s = byId.get(`load/imap/${command}`);
      expect(s, command).toBeDefined();
      expect(s!.state, command).toBe('passed');
      expect(Number(s!.properties.count), command).toBeGreaterThan(0);
      expect(s!.properties.failed).toBe('0');
      expect(s!.properties.errored).toBe('0');
      expect(Number(s!.properties.p95_ms)).toBeGreaterThan(0);
    }
    expect(report.load.settings.clients).toBe(3);
    expect(report.load.leftovers).toEqual([]);
    // The password never reaches the outputs.
    for (const secret of Object.values(env)) if (secret.length >= 6) expect(r.stdout + (await readFile(json, 'utf8'))).not.toContain(secret);
    // Cleanup left nothing: the server lists no folder with the run's id.
    expect(await foldersOf(report.runId, lab.targetFile, env)).toEqual([]);
    // The check can see a folder that exists: it is no check that always finds nothing.
    expect(await foldersOf('INBOX', lab.targetFile, env)).not.toEqual([]);

    // The same report against itself does not gate; with every p95 doubled it does (exit 1).
    const same = await runCli(['report', 'diff', json, json, '--threshold', '50%,0ms']);
    expect(same.code, describeRun(same)).toBe(0);
    const slower = structuredClone(report);
    for (const s of slower.scenarios) if (s.properties.p95_ms !== undefined) s.properties.p95_ms = String(Number(s.properties.p95_ms) * 2);
    const slowerFile = join(dir, 'slower.json');
    await writeFile(slowerFile, JSON.stringify(slower));
    const gated = await runCli(['report', 'diff', json, slowerFile, '--threshold', '50%,0ms']);
    expect(gated.code, describeRun(gated)).toBe(1);
    expect(gated.stdout + gated.stderr).toMatch(/load\/imap\/FETCH/);
    expect(gated.stdout + gated.stderr).toMatch(/p95_ms/);
  }, 60_000);

  it('--reconnect: every session logs in, runs its commands and logs out; logins are counted and nothing is left', async () => {
    const lab = inject('lab');
    const env = await labEnv(lab.envFile);
    const r = await runCli(labLoad(lab, ['--clients', '2', '--duration', '1s', '--reconnect', '--json', '-']));
    expect(r.code, describeRun(r)).toBe(0);
    const report = JSON.parse(r.stdout) as LoadJson;
    const byId = new Map(report.scenarios.map((s) => [s.id, s]));
    expect(Number(byId.get('load/imap/LOGIN')?.properties.count)).toBeGreaterThan(1);
    expect(Number(byId.get('load/imap/LOGOUT')?.properties.count)).toBeGreaterThan(1);
    expect(report.scenarios.every((s) => s.state === 'passed')).toBe(true);
    expect(report.load.logins).toBeGreaterThan(1);
    // The table went to stderr, the JSON alone to stdout.
    expect(r.stderr).toMatch(/reconnecting clients/);
    expect(await foldersOf(report.runId, lab.targetFile, env)).toEqual([]);
  }, 60_000);

  it('--pipeline 4: FETCH and STORE in flight together on distinct own messages, every answer OK, nothing left', async () => {
    const lab = inject('lab');
    const env = await labEnv(lab.envFile);
    const r = await runCli(labLoad(lab, ['--clients', '2', '--duration', '1s', '--pipeline', '4', '--mix', 'FETCH=2,STORE=1', '--json', '-']));
    expect(r.code, describeRun(r)).toBe(0);
    const report = JSON.parse(r.stdout) as LoadJson;
    const byId = new Map(report.scenarios.map((s) => [s.id, s]));
    for (const command of ['FETCH', 'STORE']) {
      expect(byId.get(`load/imap/${command}`)?.state, command).toBe('passed');
      expect(Number(byId.get(`load/imap/${command}`)?.properties.count), command).toBeGreaterThan(0);
    }
    expect(r.stderr).toMatch(/pipeline 4/);
    expect(await foldersOf(report.runId, lab.targetFile, env)).toEqual([]);
  }, 60_000);

  it('--protocol pop3: clients cycle APPEND and a POP3 session over the account and its stand-ins; every own message is deleted', async () => {
    const lab = inject('lab');
    const env = await labEnv(lab.envFile);
    const r = await runCli(labLoad(lab, ['--protocol', 'pop3', '--clients', '2', '--duration', '2s', '--json', '-']));
    expect(r.code, describeRun(r)).toBe(0);
    const report = JSON.parse(r.stdout) as LoadJson;
    const byId = new Map(report.scenarios.map((s) => [s.id, s]));
    for (const command of ['APPEND', 'LOGIN', 'STAT', 'FIND', 'RETR', 'DELE', 'QUIT']) {
      const s = byId.get(`load/pop3/${command}`);
      expect(s, command).toBeDefined();
      expect(s!.state, command).toBe('passed');
      expect(Number(s!.properties.count), command).toBeGreaterThan(0);
    }
    expect(report.load.logins).toBe(Number(byId.get('load/pop3/LOGIN')!.properties.count));
    expect(report.load.leftovers).toEqual([]);
    expect(r.stderr).toMatch(/accounts alice,dave,erin,frank/);
    for (const secret of Object.values(env)) if (secret.length >= 6) expect(r.stdout + r.stderr).not.toContain(secret);
    // Cleanup left nothing in any of the four maildrops.
    const left = await pop3MessagesOf(report.runId, lab.targetFile, env);
    expect(Object.keys(left)).toHaveLength(4);
    expect(
      Object.values(left).every((n) => n === 0),
      JSON.stringify(left),
    ).toBe(true);
  }, 60_000);

  it('--protocol pop3 with --mix is a usage error, before any connection', async () => {
    const lab = inject('lab');
    const r = await runCli(labLoad(lab, ['--protocol', 'pop3', '--mix', 'FETCH=1']));
    expect(r.code, describeRun(r)).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('a bad --mix is a usage error with a one-line reason, before any connection', async () => {
    const lab = inject('lab');
    const r = await runCli(labLoad(lab, ['--mix', 'FECTH=10']));
    expect(r.code, describeRun(r)).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/unknown command 'FECTH'/);
  });

  it('Ctrl-C mid-window: the clients finish their commands and log out, cleanup runs, exit 130, and nothing lands after it', async () => {
    const lab = inject('lab');
    const env = await labEnv(lab.envFile);
    for (const protocol of ['imap', 'pop3'] as const) {
      const mix = protocol === 'imap' ? ['--mix', 'APPEND=3,FETCH=1'] : [];
      const cli = startCli(labLoad(lab, ['--protocol', protocol, '--clients', '3', '--duration', '60s', ...mix, '--json', '-']));
      // Interrupt once the window is surely open: after set-up (well under 5 s on the lab) and mid-APPENDs.
      await new Promise((r) => setTimeout(r, 4_000));
      cli.child.kill('SIGINT');
      const r = await cli.done;
      expect(r.code, describeRun(r)).toBe(130);
      const report = JSON.parse(r.stdout) as LoadJson;
      expect(report.load.totalCommands, protocol).toBeGreaterThan(0);
      expect(report.load.leftovers, protocol).toEqual([]);
      // Past anything the server still had of the clients' sessions.
      await new Promise((r) => setTimeout(r, 1_500));
      if (protocol === 'imap') expect(await foldersOf(report.runId, lab.targetFile, env)).toEqual([]);
      else expect(Object.values(await pop3MessagesOf(report.runId, lab.targetFile, env)).every((n) => n === 0)).toBe(true);
    }
  }, 90_000);
});
