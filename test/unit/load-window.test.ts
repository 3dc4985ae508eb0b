import { afterEach, describe, expect, it } from 'vitest';
import { runImapLoad } from '../../src/load/imap-load.js';
import { parseMix } from '../../src/load/mix.js';
import { FakeLineServer } from '../support/fake-line-server.js';

/**
 * How a load run ends, against a fake IMAP server that finishes an APPEND the
 * way Dovecot 2.3 did: whatever became of the connection meanwhile, and by
 * making the folder again when it had been deleted. A run that cut its
 * connections at the window's end let such an APPEND land after cleanup had
 * deleted the folder and checked it gone: the folder outlived the run.
 */
const RUN = '20261202t000000-abcdef';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function slowAppendServer(appendMs: number) {
  const folders = new Map<string, number>();
  const appends = { started: 0, landed: 0 };
  const pending = new Map<number, { tag: string; folder: string; need: number; got: number }>();
  const server = await FakeLineServer.start({
    greeting: '* OK [CAPABILITY IMAP4rev1 LITERAL+ UIDPLUS] fake\r\n',
    fallback: async (s, _args, line) => {
      const p = pending.get(s.id);
      if (p !== undefined) {
        p.got += Buffer.byteLength(line) + 2;
        if (p.got < p.need + 2) return; // the literal's lines, then the line that ends the command
        pending.delete(s.id);
        appends.started++;
        await sleep(appendMs);
        // Finished whether or not the client is still there; the folder is made again if it is gone.
        folders.set(p.folder, (folders.get(p.folder) ?? 0) + 1);
        appends.landed++;
        if (!s.closed) await s.write(`${p.tag} OK [APPENDUID 1 ${folders.get(p.folder)}] done\r\n`);
        return;
      }
      const m = /^(\S+) (\S+)(?: (.*))?$/.exec(line);
      const [tag, command, rest] = [m?.[1] ?? '*', (m?.[2] ?? '').toUpperCase(), m?.[3] ?? ''];
      const name = /^"?([^" ]+)"?/.exec(rest)?.[1] ?? '';
      switch (command) {
        case 'APPEND': {
          const literal = /\{(\d+)\+\}$/.exec(rest);
          pending.set(s.id, { tag, folder: name, need: Number(literal?.[1]), got: 0 });
          return;
        }
        case 'CREATE':
          folders.set(name, 0);
          return s.write(`${tag} OK done\r\n`);
        case 'DELETE':
          folders.delete(name);
          return s.write(`${tag} OK done\r\n`);
        case 'SELECT':
          return s.write(`* ${folders.get(name) ?? 0} EXISTS\r\n* OK [UIDVALIDITY 1] ok\r\n${tag} OK [READ-WRITE] done\r\n`);
        case 'LIST': {
          const prefix = (/"([^"]*)\*"$/.exec(rest)?.[1] ?? /(\S*)\*$/.exec(rest)?.[1]) as string;
          const names = [...folders.keys()].filter((f) => f.startsWith(prefix));
          return s.write(`${names.map((f) => `* LIST () "." "${f}"\r\n`).join('')}${tag} OK done\r\n`);
        }
        case 'LOGOUT':
          return s.end(`* BYE\r\n${tag} OK bye\r\n`);
        default:
          return s.write(`${tag} OK done\r\n`);
      }
    },
  });
  return { server, folders, appends };
}

let servers: FakeLineServer[] = [];
afterEach(async () => {
  for (const s of servers) await s.close();
  servers = [];
});

async function run(appendMs: number, durationMs: number, interrupt?: { afterMs: number; graceMs: number }) {
  const host = await slowAppendServer(appendMs);
  servers.push(host.server);
  const ctrlC = new AbortController();
  if (interrupt !== undefined) setTimeout(() => ctrlC.abort(), interrupt.afterMs);
  const result = await runImapLoad({
    runId: RUN,
    endpoint: { host: '127.0.0.1', port: host.server.port, security: 'none' },
    accounts: [{ role: 'primary', user: 'alice', password: 'secret-pass' }],
    clients: 2,
    durationMs,
    mix: parseMix('APPEND=1'),
    reconnect: false,
    sessionCommands: 6,
    maxConnectionsPerHost: 4,
    connectRate: 500,
    seedMessages: 0,
    signal: ctrlC.signal,
    ...(interrupt === undefined ? {} : { graceMs: interrupt.graceMs }),
  });
  return { result, ...host };
}

describe('load: the end of the window and Ctrl-C never leave a folder behind', () => {
  it('an APPEND still running at the deadline is waited for, then logged out, before cleanup deletes the folder', async () => {
    // Every APPEND takes 150 ms and the window 100 ms: the deadline falls inside each client's first one.
    const { result, folders, appends } = await run(150, 100);
    await sleep(400); // anything the server still had would have landed by now
    expect(appends.started).toBeGreaterThanOrEqual(2);
    expect(appends.landed).toBe(appends.started);
    expect([...folders.keys()].filter((f) => f.includes(RUN))).toEqual([]);
    expect(result.leftovers).toEqual([]);
    // Answered after the deadline: not counted.
    expect(result.commands.find((c) => c.command === 'APPEND')).toBeUndefined();
    expect(result.firstError).toBeUndefined();
  });

  it('after Ctrl-C, connections still busy when the grace runs out are dropped, and cleanup looks again for what lands late', async () => {
    // APPENDs take 900 ms; Ctrl-C at 200 ms; the grace is 200 ms, so both clients are dropped mid-APPEND.
    const { result, folders, appends } = await run(900, 10_000, { afterMs: 200, graceMs: 200 });
    await sleep(1200); // past the late APPENDs, however early the run ended
    expect(result.interrupted).toBe(true);
    expect(appends.landed).toBe(appends.started);
    expect(appends.started).toBeGreaterThanOrEqual(2);
    // Both APPENDs landed after the first DELETE (the folder made again); the second look deleted it.
    expect([...folders.keys()].filter((f) => f.includes(RUN))).toEqual([]);
    expect(result.leftovers).toEqual([]);
  });
});
