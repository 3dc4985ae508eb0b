/**
 * After a replay: does any POP3 maildrop it touched still hold a message of the replayed run? Reads headers only
 * (TOP n 0, which never marks a message read), over POP3S with the lab CA. And over IMAPS: is any folder of the
 * run's subtree left, or a message of the run in INBOX, Drafts or Sent? (EXAMINE and SEARCH: nothing is marked \Seen.)
 */
import { connect, type TLSSocket } from 'node:tls';
import { readImapAnswer, readPop3Answer, WireReader } from './replay-framing.js';
import type { Credentials } from './replay-plan.js';
import type { ReplayTls } from './replay-run.js';

/** A verified TLS connection for a leftover check, which gives up when the server is silent for 15 s. */
function openChecked(endpoint: { host: string; port: number }, tls: ReplayTls, what: string): Promise<TLSSocket> {
  return new Promise<TLSSocket>((resolve, reject) => {
    const s = connect({ host: endpoint.host, port: endpoint.port, ca: tls.ca, servername: tls.servername }, () => resolve(s));
    s.once('error', reject);
    s.setTimeout(15_000, () => s.destroy(new Error(`${what} got no answer within 15 s`)));
  });
}

export async function leftoverMessages(
  endpoint: { host: string; port: number },
  tls: ReplayTls,
  accounts: readonly Credentials[],
  secrets: Readonly<Record<string, string>>,
  runId: string,
): Promise<string[]> {
  const left: string[] = [];
  for (const account of accounts) {
    const password = secrets[account.passwordEnv];
    if (password === undefined) continue;
    const socket = await openChecked(endpoint, tls, 'the leftover check');
    const reader = new WireReader(socket);
    const lines: string[] = [];
    const ask = async (command: string, collect = false) => {
      socket.write(`${command}\r\n`);
      if (!collect) return readPop3Answer(reader, command);
      lines.length = 0;
      const status = await reader.line();
      if (!status.startsWith('+OK')) throw new Error(`${command}: ${status}`);
      for (let line = await reader.line(); line !== '.'; line = await reader.line()) lines.push(line);
      return lines.length;
    };
    try {
      await reader.line();
      socket.write(`AUTH PLAIN ${Buffer.from(`\0${account.user}\0${password}`).toString('base64')}\r\n`);
      const auth = await reader.line();
      if (!auth.startsWith('+OK')) throw new Error(`leftover check: login of ${account.user} refused`);
      await ask('LIST', true);
      const numbers = lines.map((l) => l.split(' ', 1)[0]!);
      for (const n of numbers) {
        await ask(`TOP ${n} 0`, true);
        if (lines.some((l) => l.toLowerCase() === `x-mailprobe-run: ${runId}`)) left.push(`${account.user} message ${n}`);
      }
      socket.write('QUIT\r\n');
      await reader.line();
    } finally {
      socket.destroy();
    }
  }
  return left;
}

/** The mailboxes a run's messages may land in besides its own folders: delivery, drafts, the sent copy. */
const RUN_MAILBOXES = ['INBOX', 'Drafts', 'Sent'];

export async function leftoverImap(
  endpoint: { host: string; port: number },
  tls: ReplayTls,
  accounts: readonly Credentials[],
  secrets: Readonly<Record<string, string>>,
  runId: string,
): Promise<string[]> {
  const left: string[] = [];
  for (const account of accounts) {
    const password = secrets[account.passwordEnv];
    if (password === undefined) continue;
    const socket = await openChecked(endpoint, tls, 'the IMAP leftover check');
    const reader = new WireReader(socket);
    let n = 0;
    const ask = async (command: string): Promise<string[]> => {
      const tag = `V${++n}`;
      socket.write(`${tag} ${command}\r\n`);
      const lines: string[] = [];
      await readImapAnswer(reader, tag, lines);
      return lines;
    };
    try {
      await readImapAnswer(reader, undefined);
      const login = await ask(`LOGIN "${account.user}" "${password.replace(/["\\]/g, (c) => `\\${c}`)}"`);
      if (!/^\S+ OK/i.test(login.at(-1) ?? '')) throw new Error(`IMAP leftover check: login of ${account.user} refused`);
      for (const line of await ask(`LIST "" "mailprobe-${runId}*"`)) if (/^\* LIST /i.test(line)) left.push(`${account.user} folder ${line.slice(7)}`);
      for (const box of RUN_MAILBOXES) {
        const opened = await ask(`EXAMINE ${box}`);
        if (!/^\S+ OK/i.test(opened.at(-1) ?? '')) continue; // no such mailbox on this server
        const found = (await ask(`UID SEARCH HEADER X-Mailprobe-Run ${runId}`)).find((l) => /^\* SEARCH \d/i.test(l));
        if (found !== undefined) left.push(`${account.user} ${box} UIDs ${found.slice(9)}`);
      }
      await ask('LOGOUT');
    } finally {
      socket.destroy();
    }
  }
  return left;
}
