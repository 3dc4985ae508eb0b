import { afterEach, describe, expect, it } from 'vitest';
import { runPop3Load } from '../../src/load/pop3-load.js';
import { loadExitCode } from '../../src/load/render.js';
import { FakeLineServer, type FakeSession } from '../support/fake-line-server.js';

/**
 * A maildrop shared by a fake IMAP server (APPEND only, with LITERAL+) and a
 * fake POP3 server, to show what `load --protocol pop3` does with a server
 * that answers wrongly: one that hides the run's header, one that locks the
 * maildrop, one whose APPEND takes longer than the window (and lands however
 * the connection ends, as Dovecot's did), and an honest one for contrast.
 */
type Mode = 'honest' | 'strip-run-header' | 'in-use' | 'slow-append';

async function fakeHost(mode: Mode) {
  const drop: { text: string; deleted: boolean }[] = [];
  const pending = new Map<FakeSession, { tag: string; need: number; got: string[]; done: boolean }>();
  const imap = await FakeLineServer.start({
    greeting: '* OK [CAPABILITY IMAP4rev1 LITERAL+ UIDPLUS] fake\r\n',
    fallback: async (s, _args, line) => {
      const p = pending.get(s);
      if (p !== undefined) {
        if (!p.done) {
          p.got.push(line);
          if (p.got.join('\r\n').length + 2 >= p.need) p.done = true;
          return;
        }
        pending.delete(s);
        if (mode === 'slow-append') await new Promise((r) => setTimeout(r, 150));
        drop.push({ text: `${p.got.join('\r\n')}\r\n`, deleted: false });
        await s.write(`${p.tag} OK [APPENDUID 1 ${drop.length}] done\r\n`);
        return;
      }
      const [tag, command] = line.split(' ');
      const literal = /\{(\d+)\+\}$/.exec(line);
      if (command?.toUpperCase() === 'APPEND' && literal) pending.set(s, { tag: tag as string, need: Number(literal[1]), got: [], done: false });
      else if (command?.toUpperCase() === 'LOGOUT') s.end(`* BYE\r\n${tag} OK bye\r\n`);
      else await s.write(`${tag} OK done\r\n`);
    },
  });
  let passes = 0;
  const listing = () => drop.map((m, i) => ({ ...m, msg: i + 1 })).filter((m) => !m.deleted);
  const shown = (text: string) => (mode === 'strip-run-header' ? text.replace(/^X-Mailprobe-Run: .*\r\n/m, '') : text);
  const pop3 = await FakeLineServer.start({
    greeting: '+OK fake\r\n',
    commands: {
      CAPA: (s) => s.write('+OK\r\nUSER\r\nUIDL\r\nTOP\r\n.\r\n'),
      USER: (s) => s.write('+OK\r\n'),
      // 'in-use': locked for the clients' first logins (each client stops at its first refusal), free for cleanup.
      PASS: (s) => s.write(mode === 'in-use' && ++passes <= 2 ? '-ERR [IN-USE] maildrop locked\r\n' : '+OK\r\n'),
      STAT: (s) => s.write(`+OK ${listing().length} 0\r\n`),
      LIST: (s) =>
        s.write(
          `+OK\r\n${listing()
            .map((m) => `${m.msg} ${m.text.length}\r\n`)
            .join('')}.\r\n`,
        ),
      UIDL: (s) =>
        s.write(
          `+OK\r\n${listing()
            .map((m) => `${m.msg} u${m.msg}\r\n`)
            .join('')}.\r\n`,
        ),
      TOP: (s, args) => s.write(`+OK\r\n${shown(drop[Number(args.split(' ')[0]) - 1]!.text).split('\r\n\r\n')[0]}\r\n\r\n.\r\n`),
      RETR: (s, args) => s.write(`+OK\r\n${shown(drop[Number(args) - 1]!.text)}.\r\n`),
      DELE: (s, args) => {
        drop[Number(args) - 1]!.deleted = true;
        return s.write('+OK\r\n');
      },
      QUIT: (s) => s.end('+OK bye\r\n'),
    },
  });
  return { imap, pop3, drop };
}

let servers: FakeLineServer[] = [];
afterEach(async () => {
  for (const s of servers) await s.close();
  servers = [];
});

async function run(mode: Mode, durationMs = 300) {
  const host = await fakeHost(mode);
  servers.push(host.imap, host.pop3);
  const endpoint = (port: number) => ({ host: '127.0.0.1', port, security: 'none' as const });
  const result = await runPop3Load({
    runId: '20261202t000000-abcdef',
    pop3: endpoint(host.pop3.port),
    imap: endpoint(host.imap.port),
    accounts: [{ role: 'primary', user: 'alice', password: 'secret-pass' }],
    clients: 2,
    durationMs,
    maxConnectionsPerHost: 4,
    connectRate: 500,
    signal: new AbortController().signal,
  });
  const sent = host.pop3.sessions.flatMap((s) => s.received);
  return { result, sent, drop: host.drop };
}

describe('load --protocol pop3 against fake servers', () => {
  it('an honest server: every cycle retrieves and deletes its own message, cleanup leaves none', async () => {
    const { result, drop } = await run('honest');
    const by = new Map(result.commands.map((c) => [c.command, c]));
    expect(by.get('RETR')!.count).toBeGreaterThan(0);
    // A cycle whose DELE was answered before the deadline and its QUIT after counts the DELE only: at most one per client.
    const dele = by.get('DELE')!.count;
    const quit = by.get('QUIT')!.count;
    expect(dele).toBeGreaterThanOrEqual(quit);
    expect(dele - quit).toBeLessThanOrEqual(2);
    expect(result.logins).toBe(by.get('LOGIN')!.count);
    expect(result.firstError).toBeUndefined();
    expect(result.leftovers).toEqual([]);
    expect(drop.length).toBeGreaterThan(0);
    expect(drop.every((m) => m.deleted)).toBe(true);
    expect(loadExitCode(result)).toBe(0);
  });

  it('a server that hides the run header: FIND fails, and nothing is RETRieved or DELEted', async () => {
    const { result, sent, drop } = await run('strip-run-header');
    expect(result.firstError?.command).toBe('FIND');
    expect(result.firstError?.outcome).toBe('failed');
    expect(sent.some((l) => /^(RETR|DELE)\b/.test(l))).toBe(false);
    expect(drop.some((m) => m.deleted)).toBe(false);
    expect(loadExitCode(result)).toBe(1);
  });

  it('a locked maildrop (-ERR [IN-USE]) is inconclusive, not failed', async () => {
    const { result, drop } = await run('in-use');
    expect(result.commands.find((c) => c.command === 'LOGIN')?.inconclusive).toBeGreaterThan(0);
    expect(result.firstError?.outcome).toBe('inconclusive');
    // The messages APPENDed before the refused logins were removed by cleanup once the lock was free.
    expect(result.leftovers).toEqual([]);
    expect(drop.length).toBeGreaterThan(0);
    expect(drop.every((m) => m.deleted)).toBe(true);
    expect(loadExitCode(result)).toBe(4);
  });

  it('an APPEND still running when the window ends is waited for, and its message deleted by cleanup', async () => {
    // Each APPEND takes 150 ms and the window 100 ms: the deadline falls inside each client's first one.
    const { result, drop } = await run('slow-append', 100);
    await new Promise((r) => setTimeout(r, 400)); // anything the server still had would have landed by now
    expect(drop.length).toBeGreaterThanOrEqual(2);
    expect(drop.every((m) => m.deleted)).toBe(true);
    expect(result.leftovers).toEqual([]);
    expect(result.firstError).toBeUndefined();
  });
});
