/**
 * The big-mailbox row's floor: what the server itself needs to open a session on the seeded account against the
 * empty one, with no harness at all. A POP3 session (USER, PASS, STAT, QUIT) makes the server read the whole
 * maildrop's listing at login (RFC 1939 §8 has the maildrop locked and its messages numbered from the start), and
 * an IMAP one (LOGIN, SELECT INBOX, LOGOUT) makes it open the big INBOX; a scenario pays that once per session
 * whatever the client does, so a scenario's ratio cannot go below this one. Plain node:net over the lab's plain
 * endpoints, connecting from their own address (Dovecot counts that as secured), with the replay's framing (replay-framing.ts).
 */
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { endpointOf, readLab, readSecrets } from './replay-lab.js';
import { imapQuoted, readImapAnswer, WireReader } from './replay-framing.js';

const ANSWER_TIMEOUT_MS = 15_000;

export interface FloorTimes {
  readonly pop3Ms: number;
  readonly imapMs: number;
}

type Exchange = (send: (line: string) => void, reader: WireReader) => Promise<void>;

async function session(host: string, port: number, exchange: Exchange): Promise<number> {
  const started = performance.now();
  // From the endpoint's own address: Dovecot counts a connection from its own IP as secured (plaintext login allowed).
  const socket = connect({ host, port, localAddress: host });
  socket.setNoDelay(true);
  const timer = setTimeout(() => socket.destroy(new Error(`no answer from ${host}:${port} within ${ANSWER_TIMEOUT_MS} ms`)), ANSWER_TIMEOUT_MS);
  try {
    const reader = new WireReader(socket);
    await exchange((line) => socket.write(`${line}\r\n`), reader);
    return performance.now() - started;
  } finally {
    clearTimeout(timer);
    socket.destroy();
  }
}

/** Fails on any answer but +OK / a tagged OK: a floor measured on refusals would be no floor. */
function expectOk(what: string, lines: readonly string[], ok: RegExp): void {
  const last = lines.at(-1) ?? '';
  if (!ok.test(last)) throw new Error(`server floor: ${what} was answered ${JSON.stringify(last.slice(0, 200))}`);
}

/** One POP3 and one IMAP session of the lab's primary account, each timed from connect to the end of its last answer. */
export async function serverFloor(targetFile: string, secretsFile: string): Promise<FloorTimes> {
  const lab = await readLab(targetFile);
  const secrets = await readSecrets(secretsFile);
  const account = lab.target.accounts.primary;
  const pop3 = endpointOf(lab, 'pop3');
  const imap = endpointOf(lab, 'imap');
  if (account === undefined || pop3 === undefined || imap === undefined) throw new Error(`${targetFile}: no primary account, or no plain pop3 or imap endpoint`);
  const password = secrets[account.password_env];
  if (password === undefined) throw new Error(`${secretsFile}: no ${account.password_env}`);

  const pop3Ms = await session(pop3.host, pop3.port, async (send, reader) => {
    // Every answer here is one status line (none of these commands is multi-line).
    const answer = async (what: string) => expectOk(what, [await reader.line()], /^\+OK/);
    await answer('the greeting');
    send(`USER ${account.user}`);
    await answer('USER');
    send(`PASS ${password}`);
    await answer('PASS');
    send('STAT');
    await answer('STAT');
    send('QUIT');
    await answer('QUIT');
  });
  const imapMs = await session(imap.host, imap.port, async (send, reader) => {
    const answer = async (tag: string | undefined, what: string) => {
      const lines: string[] = [];
      await readImapAnswer(reader, tag, lines);
      expectOk(what, lines, tag === undefined ? /^\* (OK|PREAUTH)/ : new RegExp(`^${tag} OK`));
    };
    await answer(undefined, 'the greeting');
    send(`f1 LOGIN ${imapQuoted(account.user)} ${imapQuoted(password)}`);
    await answer('f1', 'LOGIN');
    send('f2 SELECT INBOX');
    await answer('f2', 'SELECT INBOX');
    send('f3 LOGOUT');
    await answer('f3', 'LOGOUT');
  });
  return { pop3Ms, imapMs };
}
