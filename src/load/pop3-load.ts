/**
 * `mailprobe load --protocol pop3`: N clients, each repeating one cycle for a
 * set time: place a message of the run in the account's INBOX (IMAP APPEND on
 * a connection the client keeps: synchronous, so the message is there when
 * APPEND answers, unlike an SMTP delivery that arrives some time later), then
 * a POP3 session: LOGIN (USER/PASS or AUTH PLAIN, as the client chooses),
 * STAT, FIND (LIST, UIDL and TOP n 0 newest first, through Pop3Session's
 * own-message lookup), RETR, DELE, QUIT.
 *
 * The maildrop lock (RFC 1939 §4): a POP3 session holds its account's
 * maildrop, so two sessions of one account cannot run at once. Clients are
 * spread over the accounts given (and their stand-ins); clients that share an
 * account take turns at its POP3 session (the APPEND does not wait). A
 * -ERR [IN-USE] nonetheless (somebody else's session) counts inconclusive.
 *
 * Safety, as for scenarios: RETR and DELE only touch a message whose headers
 * carry this run's X-Mailprobe-Run (Pop3Session checks them with TOP). Each
 * message's Message-ID is recorded before it is APPENDed and forgotten when a
 * QUIT committed its DELE; cleanup finds each one still recorded by its
 * headers, deletes it, and checks in a fresh session that it is gone.
 */
import { ImapRawClient } from '../protocols/imap/raw/index.js';
import { Pop3Client, Pop3ReplyError, Pop3Session } from '../protocols/pop3/index.js';
import { MaildropMemory } from '../protocols/pop3/maildrop-memory.js';
import { ConnectionBudget, type ConnectGate } from '../transport/budget.js';
import type { ConnectOptions } from '../transport/connect.js';
import { Transcript } from '../transport/transcript.js';
import { CommandFailure, expectOk, type LoadAccount, LoadBook, loadMessage, logoutOrDrop, Ring } from './imap-load.js';
import type { LoadResult, LoadSettings } from './result.js';
import { LoadWindow, settleBeforeRecheck } from './window.js';

type Endpoint = Pick<ConnectOptions, 'host' | 'port' | 'security' | 'tls' | 'timeouts'>;

export interface Pop3LoadOptions {
  readonly runId: string;
  readonly pop3: Endpoint;
  /** Where the messages are placed (APPEND to INBOX, the POP3 maildrop). */
  readonly imap: Endpoint;
  /** Every mailbox the clients may use (the accounts given and their stand-ins), spread round-robin. */
  readonly accounts: readonly LoadAccount[];
  readonly clients: number;
  readonly durationMs: number;
  readonly maxConnectionsPerHost: number;
  readonly connectRate: number;
  readonly signal: AbortSignal;
  readonly now?: () => number;
}

export const POP3_ORDER: readonly string[] = ['APPEND', 'LOGIN', 'STAT', 'FIND', 'RETR', 'DELE', 'QUIT'];

/** RFC 2449 §8.1.1 / RFC 3206: the maildrop is locked by another session, or the server says "not now". */
const TEMPORARY = /^(IN-USE|SYS\/TEMP|LOGIN-DELAY)\b/i;

/** One account's turn at its maildrop: a promise chain, so clients of one account never race for the lock. */
class Turns {
  #tail: Promise<void> = Promise.resolve();
  run<T>(work: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(work);
    this.#tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

interface Mailbox {
  readonly account: LoadAccount;
  readonly turns: Turns;
  readonly memory: MaildropMemory;
  /** Message-IDs of the run's messages that may be in this maildrop (recorded before APPEND). */
  readonly pending: Set<string>;
}

interface Pop3ClientContext {
  readonly index: number;
  readonly mailbox: Mailbox;
  readonly gate: ConnectGate;
  readonly ring: Ring;
  placed: number;
}

function failure(command: string, err: unknown): CommandFailure {
  if (err instanceof CommandFailure) return err;
  if (err instanceof Pop3ReplyError) {
    const code = err.responseCode ?? '';
    return new CommandFailure(command, TEMPORARY.test(code) ? 'inconclusive' : 'failed', `${command}: ${err.message}`);
  }
  throw err;
}

export async function runPop3Load(options: Pop3LoadOptions): Promise<LoadResult> {
  const now = options.now ?? (() => performance.now());
  const book = new LoadBook(POP3_ORDER);
  const budget = new ConnectionBudget({ maxPerHost: options.maxConnectionsPerHost, connectsPerSecond: options.connectRate });
  const lease = budget.lease();
  const window = new LoadWindow(options.signal, now);
  const startedAt = Date.now();
  const mailboxes = new Map<string, Mailbox>();
  for (const account of options.accounts) {
    if (!mailboxes.has(account.user)) mailboxes.set(account.user, { account, turns: new Turns(), memory: new MaildropMemory(), pending: new Set() });
  }
  const boxes = [...mailboxes.values()];
  const settings: LoadSettings = {
    protocol: 'pop3',
    clients: options.clients,
    durationMs: options.durationMs,
    mix: 'APPEND,LOGIN,STAT,FIND,RETR,DELE,QUIT',
    reconnect: true,
    sessionCommands: 1,
    accounts: boxes.map((b) => b.account.user),
    maxConnectionsPerHost: options.maxConnectionsPerHost,
    connectRate: options.connectRate,
    endpoint: `${options.pop3.host}:${options.pop3.port}`,
  };

  /** Runs one command, records its latency from its send, and turns a refusal into a CommandFailure. */
  const timed = async <T>(command: string, send: () => Promise<T>): Promise<T> => {
    const t0 = now();
    try {
      const r = await send();
      book.record(command, 'ok', now() - t0);
      return r;
    } catch (err) {
      const f = failure(command, err);
      book.record(command, f.outcome, 0);
      throw f;
    }
  };

  const openImap = async (c: Pop3ClientContext): Promise<ImapRawClient> => {
    const transcript = new Transcript({ maxEntries: 0, onEntry: (e) => c.ring.push(e) });
    const client = await ImapRawClient.connect({ ...options.imap, transcript, session: `load-${c.index}-imap`, signal: window.signal, gate: c.gate });
    try {
      expectOk('LOGIN (imap)', await client.login(c.mailbox.account.user, c.mailbox.account.password));
      return client;
    } catch (err) {
      client.drop();
      throw err;
    }
  };

  const place = async (imap: ImapRawClient, c: Pop3ClientContext): Promise<string> => {
    const n = ++c.placed;
    const messageId = `<load-${options.runId}-${c.index}-${n}@mailprobe.invalid>`;
    // Recorded before it is sent: cleanup looks for it even when the answer never came.
    c.mailbox.pending.add(messageId);
    await timed('APPEND', async () => expectOk('APPEND', await imap.append('INBOX', loadMessage(options.runId, c.index, n, c.mailbox.account.user))));
    return messageId;
  };

  /** One POP3 session on the client's own message: it is RETRieved and DELEted only once its headers show the run id. */
  const cycle = async (c: Pop3ClientContext, messageId: string): Promise<void> => {
    const transcript = new Transcript({ maxEntries: 0, onEntry: (e) => c.ring.push(e) });
    let pop3: Pop3Client | undefined;
    try {
      pop3 = await timed('LOGIN', async () => {
        const client = await Pop3Client.connect({ ...options.pop3, transcript, session: `load-${c.index}-pop3`, signal: window.signal, gate: c.gate });
        try {
          await client.login(c.mailbox.account.user, c.mailbox.account.password);
          return client;
        } catch (err) {
          client.connection.destroy();
          throw err;
        }
      });
      const client = pop3;
      const session = new Pop3Session(`load-${c.index}`, client, options.runId, () => {}, c.mailbox.memory);
      await timed('STAT', () => client.stat());
      const found = await timed('FIND', () => session.findOwn(messageId));
      if (found === undefined) {
        book.record('FIND', 'failed', 0);
        throw new CommandFailure('FIND', 'failed', `the message APPENDed to INBOX (${messageId}) is not in the POP3 listing`);
      }
      await session.assertOwn(found.msg);
      const body = await timed('RETR', () => client.retr(found.msg));
      if (!body.includes(messageId)) {
        book.record('RETR', 'failed', 0);
        throw new CommandFailure('RETR', 'failed', `RETR ${found.msg} returned a message without ${messageId}`);
      }
      await timed('DELE', () => client.dele(found.msg));
      await timed('QUIT', () => client.quit());
      // RFC 1939 §6: the deletion is committed by the QUIT's +OK (UPDATE state).
      c.mailbox.pending.delete(messageId);
    } finally {
      if (pop3 !== undefined && !pop3.closed) pop3.connection.destroy();
    }
  };

  let setupError: string | undefined;
  let measuredMs = 0;
  const contexts: Pop3ClientContext[] = [];
  for (let i = 1; i <= options.clients; i++) {
    contexts.push({ index: i, mailbox: boxes[(i - 1) % boxes.length] as Mailbox, gate: lease.gate(options.pop3.host), ring: new Ring(), placed: 0 });
  }
  try {
    // Set-up, not measured: each client's IMAP connection for placing its messages.
    const settled = await Promise.allSettled(contexts.map((c) => openImap(c)));
    const imaps = settled.map((s) => (s.status === 'fulfilled' ? s.value : undefined));
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    try {
      if (failed !== undefined || window.stopping) throw failed === undefined ? new Error('interrupted during set-up') : failed.reason;
      book.window = window;
      const t0 = window.open(options.durationMs);
      try {
        await Promise.all(
          contexts.map(async (c, i) => {
            const imap = imaps[i] as ImapRawClient;
            try {
              while (window.running) {
                const messageId = await place(imap, c);
                await c.mailbox.turns.run(() => (window.running ? cycle(c, messageId) : Promise.resolve()));
              }
            } catch (err) {
              if (window.dropped && !(err instanceof CommandFailure)) return; // Ctrl-C's grace ran out mid-command
              if (err instanceof CommandFailure) book.noteError(err.command, err.outcome, err.message, c.ring);
              else {
                book.record('(connection)', 'errored', 0);
                book.noteError('(connection)', 'errored', (err as Error).message, c.ring);
              }
            }
          }),
        );
      } finally {
        measuredMs = Math.min(now(), window.deadline) - t0;
        book.window = undefined;
      }
    } finally {
      for (const imap of imaps) if (imap !== undefined) await logoutOrDrop(imap, window);
    }
  } catch (err) {
    setupError = (err as Error).message;
  } finally {
    window.close();
  }
  const leftovers = await cleanupPop3(options, boxes, window);
  return book.result({ runId: options.runId, startedAt, measuredMs, settings, interrupted: options.signal.aborted, leftovers, setupError });
}

/**
 * For each mailbox with messages still recorded: finds each by its Message-ID
 * among the messages whose headers carry the run id, DELEs it, QUITs; then, in
 * a fresh session, looks for each again and reports any still there. When a
 * session ended without its own logout, an APPEND of it may land late: the
 * find-and-DELE pass runs again after a pause (settleBeforeRecheck).
 */
async function cleanupPop3(options: Pop3LoadOptions, boxes: readonly Mailbox[], window: LoadWindow): Promise<string[]> {
  const leftovers: string[] = [];
  const sessionOf = async (box: Mailbox): Promise<Pop3Session> => {
    const client = await Pop3Client.connect({ ...options.pop3, transcript: new Transcript({ maxEntries: 0 }), session: 'load-cleanup' });
    try {
      await client.login(box.account.user, box.account.password);
    } catch (err) {
      client.connection.destroy();
      throw err;
    }
    return new Pop3Session('load-cleanup', client, options.runId, () => {}, box.memory);
  };
  for (const box of boxes) {
    if (box.pending.size === 0) continue;
    const ids = [...box.pending];
    const deleteOwn = async (): Promise<void> => {
      const session = await sessionOf(box);
      try {
        for (const id of ids) {
          const found = await session.findOwn(id);
          if (found === undefined) continue;
          await session.assertOwn(found.msg);
          await session.client.dele(found.msg);
        }
        await session.client.quit();
      } finally {
        if (!session.closed) session.client.connection.destroy();
      }
    };
    try {
      await deleteOwn();
      if (await settleBeforeRecheck(window)) await deleteOwn();
      const check = await sessionOf(box);
      try {
        for (const id of ids) if ((await check.findOwn(id)) !== undefined) leftovers.push(`${box.account.user}:${id}`);
        await check.client.quit();
      } finally {
        if (!check.closed) check.client.connection.destroy();
      }
    } catch (err) {
      leftovers.push(...ids.map((id) => `${box.account.user}:${id} (${(err as Error).message})`));
    }
  }
  return leftovers;
}
