/**
 * `mailprobe load` for IMAP: N clients, each on its own folder under the run's
 * name (`<prefix>mailprobe-<run id>-load-<n>`), running a weighted mix of
 * commands for a set time over mailprobe's raw client (src/protocols/imap/raw),
 * which shows the wire and does no work of its own per command.
 *
 * Safety, as for scenarios: a client only touches messages it APPENDed into
 * its own folder (by UID), reads with BODY.PEEK, and every message carries
 * X-Mailprobe-Run. Cleanup deletes the folders the run recorded creating,
 * then LISTs the run's names to check each is gone; it runs at the end, after
 * a failure and after Ctrl-C (the signal only stops the clients).
 *
 * The transcript of each client keeps only its last lines (a ring filled from
 * the transcript's live hook, no entry list); the first error's lines are
 * copied out for the report.
 */
import { RUN_HEADER, runPrefix } from '../core/run-identity.js';
import { astringPart, ImapRawClient, type ImapResponse } from '../protocols/imap/raw/index.js';
import { ConnectionBudget, type ConnectGate } from '../transport/budget.js';
import type { ConnectOptions } from '../transport/connect.js';
import { Transcript, type TranscriptEntry } from '../transport/transcript.js';
import { type Mix, type MixCommand, formatMix, picker } from './mix.js';
import type { LoadFirstError, LoadResult, LoadSettings } from './result.js';
import { CommandStats, type Outcome, summarise } from './stats.js';
import { LoadWindow, settleBeforeRecheck } from './window.js';

export interface LoadAccount {
  readonly role: string;
  readonly user: string;
  readonly password: string;
}

export interface ImapLoadOptions {
  readonly runId: string;
  readonly endpoint: Pick<ConnectOptions, 'host' | 'port' | 'security' | 'tls' | 'timeouts'>;
  readonly accounts: readonly LoadAccount[];
  readonly clients: number;
  readonly durationMs: number;
  readonly mix: Mix;
  readonly reconnect: boolean;
  readonly sessionCommands: number;
  readonly maxConnectionsPerHost: number;
  readonly connectRate: number;
  /** Ctrl-C: stops the clients; cleanup still runs. */
  readonly signal: AbortSignal;
  /** Messages each client APPENDs before the measured window, so that FETCH and STORE have something to work on. */
  readonly seedMessages?: number;
  /**
   * Persistent clients: at most this many FETCH and STORE commands in flight at
   * once (RFC 9051 §5.5), each on a distinct message of the client's own
   * folder, so none depends on another's result. 1: one command at a time.
   */
  readonly pipeline?: number;
  readonly now?: () => number;
  /** After Ctrl-C, how long clients may finish their commands before their connections are dropped (default GRACE_MS). */
  readonly graceMs?: number;
}

/** RFC 5530 codes that mean "not now" (as in src/protocols/imap/errors.ts). */
const TEMPORARY = /^(UNAVAILABLE|INUSE|LIMIT)\b/i;
const RING = 40;
const ORDER: readonly string[] = ['LOGIN', 'SELECT', 'FETCH', 'STORE', 'APPEND', 'EXPUNGE', 'NOOP', 'LOGOUT'];

export class CommandFailure extends Error {
  constructor(
    readonly command: string,
    readonly outcome: 'failed' | 'inconclusive',
    message: string,
  ) {
    super(message);
  }
}

/** The last RING lines of one client's wire exchange, kept without growing. */
export class Ring {
  readonly #entries: (TranscriptEntry | undefined)[] = new Array(RING);
  #next = 0;
  push(entry: TranscriptEntry): void {
    this.#entries[this.#next % RING] = entry;
    this.#next++;
  }
  lines(): TranscriptEntry[] {
    const out: TranscriptEntry[] = [];
    for (let i = Math.max(0, this.#next - RING); i < this.#next; i++) out.push(this.#entries[i % RING] as TranscriptEntry);
    return out;
  }
}

/** Everything the clients share: the statistics, the record of created folders, the first error. */
export class LoadBook {
  readonly stats: Map<string, CommandStats>;
  readonly created = new Set<string>();
  logins = 0;
  /** Set while the window is open: only commands it counts are recorded. */
  window: LoadWindow | undefined;
  firstError: LoadFirstError | undefined;

  /** `order`: the commands in the order the table shows them. */
  constructor(order: readonly string[] = ORDER) {
    this.stats = new Map(order.map((c) => [c, new CommandStats()]));
  }

  record(command: string, outcome: Outcome, ms: number): void {
    if (this.window === undefined || !this.window.counts()) return;
    let s = this.stats.get(command);
    if (s === undefined) this.stats.set(command, (s = new CommandStats()));
    s.record(outcome, ms);
    if (command === 'LOGIN' && outcome === 'ok') this.logins++;
  }

  noteError(command: string, outcome: LoadFirstError['outcome'], message: string, ring: Ring): void {
    if (this.firstError === undefined) this.firstError = { command, outcome, message, transcript: ring.lines() };
  }

  /** The run's result from what the book holds: each command that ran, in the table's order, and the totals. */
  result(
    run: Pick<LoadResult, 'runId' | 'startedAt' | 'measuredMs' | 'settings' | 'interrupted' | 'leftovers'> & { readonly setupError?: string | undefined },
  ): LoadResult {
    const commands = [...this.stats.entries()].filter(([, s]) => s.samples.count + s.errors > 0).map(([name, s]) => summarise(name, s));
    const { setupError, ...rest } = run;
    return {
      ...rest,
      commands,
      totalCommands: commands.reduce((n, c) => n + c.count, 0),
      logins: this.logins,
      ...(this.firstError !== undefined ? { firstError: this.firstError } : {}),
      ...(setupError !== undefined ? { setupError } : {}),
    };
  }
}

/** One message of the run: its own Message-ID, the run header, a small text body. */
export function loadMessage(runId: string, client: number, n: number, user: string): Buffer {
  return Buffer.from(
    [
      `From: mailprobe load <${user}@mailprobe.invalid>`,
      `To: <${user}@mailprobe.invalid>`,
      `Subject: [${runPrefix(runId)}] load ${client}.${n}`,
      `Message-ID: <load-${runId}-${client}-${n}@mailprobe.invalid>`,
      `${RUN_HEADER}: ${runId}`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=us-ascii',
      '',
      `mailprobe load message ${n} of client ${client}; deleted when the run ends.`,
      'x'.repeat(600),
      '',
    ].join('\r\n'),
    'latin1',
  );
}

export function expectOk(command: string, r: ImapResponse): ImapResponse {
  if (r.status === 'OK') return r;
  const temporary = r.status === 'NO' && r.code !== undefined && TEMPORARY.test(r.code);
  throw new CommandFailure(
    command,
    temporary ? 'inconclusive' : 'failed',
    `${command} answered ${r.status}${r.code ? ` [${r.code}]` : ''} ${r.text}`.trimEnd(),
  );
}

/** The personal namespace's prefix ("" on Dovecot, "INBOX." on Courier): the run's folders go under it. */
async function namespacePrefix(client: ImapRawClient): Promise<string> {
  if (!client.hasCapability('NAMESPACE')) return '';
  const r = await client.command('NAMESPACE');
  const ns = r.untagged.find((u) => u.kind === 'NAMESPACE');
  const m = ns === undefined ? null : /^\*\s+NAMESPACE\s+\(\("((?:[^"\\]|\\.)*)"/i.exec(ns.raw);
  return m?.[1] ?? '';
}

interface ClientContext {
  readonly index: number;
  readonly account: LoadAccount;
  readonly folder: string;
  readonly gate: ConnectGate;
  readonly ring: Ring;
  readonly uids: number[];
  appended: number;
  flagToggle: boolean;
  /** A mix command drawn but not yet run (it ended a pipelined batch). */
  carried?: MixCommand;
}

export async function runImapLoad(options: ImapLoadOptions): Promise<LoadResult> {
  const now = options.now ?? (() => performance.now());
  const book = new LoadBook();
  const budget = new ConnectionBudget({ maxPerHost: options.maxConnectionsPerHost, connectsPerSecond: options.connectRate });
  const lease = budget.lease();
  const window = new LoadWindow(options.signal, now, options.graceMs);
  const startedAt = Date.now();
  const settings: LoadSettings = {
    protocol: 'imap',
    clients: options.clients,
    durationMs: options.durationMs,
    mix: formatMix(options.mix),
    reconnect: options.reconnect,
    sessionCommands: options.sessionCommands,
    pipeline: options.reconnect ? 1 : (options.pipeline ?? 1),
    accounts: [...new Set(options.accounts.map((a) => a.role))],
    maxConnectionsPerHost: options.maxConnectionsPerHost,
    connectRate: options.connectRate,
    endpoint: `${options.endpoint.host}:${options.endpoint.port}`,
  };
  const open = async (c: ClientContext): Promise<ImapRawClient> => {
    const transcript = new Transcript({ maxEntries: 0, onEntry: (e) => c.ring.push(e) });
    const t0 = now();
    const client = await ImapRawClient.connect({ ...options.endpoint, transcript, session: `load-${c.index}`, signal: window.signal, gate: c.gate });
    try {
      const r = await client.login(c.account.user, c.account.password);
      if (r.status !== 'OK') {
        book.record('LOGIN', 'failed', 0);
        expectOk('LOGIN', r);
      }
      book.record('LOGIN', 'ok', now() - t0);
      return client;
    } catch (err) {
      client.drop();
      throw err;
    }
  };
  const timed = async (client: ImapRawClient, command: string, send: () => Promise<ImapResponse>): Promise<ImapResponse> => {
    const t0 = now();
    const r = await send();
    if (r.status !== 'OK') {
      try {
        expectOk(command, r);
      } catch (err) {
        book.record(command, (err as CommandFailure).outcome, 0);
        throw err;
      }
    }
    book.record(command, 'ok', now() - t0);
    void client;
    return r;
  };
  const append = async (client: ImapRawClient, c: ClientContext): Promise<void> => {
    const r = await timed(client, 'APPEND', () => client.append(c.folder, loadMessage(options.runId, c.index, ++c.appended, c.account.user)));
    const uid = /^APPENDUID\s+\d+\s+(\d+)$/i.exec(r.code ?? '')?.[1];
    if (uid !== undefined) c.uids.push(Number(uid));
    else {
      // No UIDPLUS: find the message by its own Message-ID (in the client's own folder, so only its own mail is there).
      const s = await client.command(`UID SEARCH HEADER Message-ID "load-${options.runId}-${c.index}-${c.appended}@mailprobe.invalid"`);
      const found =
        s.untagged
          .find((u) => u.kind === 'SEARCH')
          ?.raw.match(/\d+/g)
          ?.map(Number) ?? [];
      c.uids.push(...found);
    }
  };
  const oneCommand = async (client: ImapRawClient, c: ClientContext, command: MixCommand): Promise<ImapRawClient> => {
    const uid = c.uids.length === 0 ? undefined : c.uids[Math.floor(Math.random() * c.uids.length)];
    switch (command) {
      case 'FETCH': {
        if (uid === undefined) return append(client, c).then(() => client);
        const r = await timed(client, 'FETCH', () => client.command(`UID FETCH ${uid} (FLAGS BODY.PEEK[])`));
        if (!r.untagged.some((u) => u.kind === 'FETCH' && u.literals.length > 0)) {
          book.record('FETCH', 'failed', 0);
          throw new CommandFailure('FETCH', 'failed', `UID FETCH ${uid} of a message the run appended returned no body`);
        }
        return client;
      }
      case 'STORE': {
        if (uid === undefined) return append(client, c).then(() => client);
        c.flagToggle = !c.flagToggle;
        await timed(client, 'STORE', () => client.command(`UID STORE ${uid} ${c.flagToggle ? '+' : '-'}FLAGS.SILENT (\\Flagged)`));
        return client;
      }
      case 'APPEND':
        await append(client, c);
        return client;
      case 'EXPUNGE': {
        // Keep a few messages for FETCH and STORE; below that, grow the folder instead.
        if (uid === undefined || c.uids.length <= 3) return append(client, c).then(() => client);
        await timed(client, 'STORE', () => client.command(`UID STORE ${uid} +FLAGS.SILENT (\\Deleted)`));
        // The folder holds only this client's own messages, and only this one is \Deleted.
        await timed(client, 'EXPUNGE', () => client.command('EXPUNGE'));
        c.uids.splice(c.uids.indexOf(uid), 1);
        return client;
      }
      case 'SELECT':
        await timed(client, 'SELECT', () => client.select(c.folder));
        return client;
      case 'NOOP':
        await timed(client, 'NOOP', () => client.noop());
        return client;
      case 'LOGOUT': {
        await timed(client, 'LOGOUT', () => client.logout());
        const next = await open(c);
        await timed(next, 'SELECT', () => next.select(c.folder));
        return next;
      }
    }
  };
  /** FETCH and STORE commands at once, each on a distinct UID of the client's own messages: no command depends on another. */
  const pipelined = async (client: ImapRawClient, c: ClientContext, batch: readonly MixCommand[]): Promise<void> => {
    const uids = [...c.uids].sort(() => Math.random() - 0.5).slice(0, batch.length);
    const texts = batch.map((command, i) => {
      if (command === 'FETCH') return `UID FETCH ${uids[i]} (FLAGS BODY.PEEK[])`;
      c.flagToggle = !c.flagToggle;
      return `UID STORE ${uids[i]} ${c.flagToggle ? '+' : '-'}FLAGS.SILENT (\\Flagged)`;
    });
    const results = await client.pipeline(texts);
    // Untagged responses go to the oldest command in flight: a FETCH's body is looked for by its UID among them all.
    const fetched = new Set<number>();
    for (const r of results)
      for (const u of r.response.untagged) {
        const uid = u.kind === 'FETCH' && u.literals.length > 0 ? /\bUID\s+(\d+)/i.exec(u.raw)?.[1] : undefined;
        if (uid !== undefined) fetched.add(Number(uid));
      }
    results.forEach((r, i) => {
      const command = batch[i] as MixCommand;
      if (r.response.status !== 'OK') {
        try {
          expectOk(command, r.response);
        } catch (err) {
          book.record(command, (err as CommandFailure).outcome, 0);
          throw err;
        }
      }
      if (command === 'FETCH' && !fetched.has(uids[i] as number)) {
        book.record('FETCH', 'failed', 0);
        throw new CommandFailure('FETCH', 'failed', `UID FETCH ${uids[i]} of a message the run appended returned no body`);
      }
      book.record(command, 'ok', r.answeredAt - r.sentAt);
    });
  };
  /** One step of a persistent client: a pipelined batch of FETCH/STORE when --pipeline allows, else one command. */
  const step = async (client: ImapRawClient, c: ClientContext): Promise<ImapRawClient> => {
    const depth = Math.min(options.pipeline ?? 1, c.uids.length);
    let next = c.carried ?? pick();
    c.carried = undefined;
    if (depth <= 1 || (next !== 'FETCH' && next !== 'STORE')) return oneCommand(client, c, next);
    const batch: MixCommand[] = [];
    while ((next === 'FETCH' || next === 'STORE') && batch.length < depth) {
      batch.push(next);
      next = pick();
    }
    c.carried = next;
    if (batch.length === 1) return oneCommand(client, c, batch[0] as MixCommand);
    await pipelined(client, c, batch);
    return client;
  };
  const pick = picker(options.mix);
  const pickInSession = picker(
    options.mix.filter((e) => e.command !== 'LOGOUT').length > 0 ? options.mix.filter((e) => e.command !== 'LOGOUT') : [{ command: 'NOOP', weight: 1 }],
  );

  let prefix = '';
  let setupError: string | undefined;
  const contexts: ClientContext[] = [];
  let measuredMs = 0;
  try {
    // Set-up, not measured: each client's folder and a few messages in it.
    const first = await open({
      index: 0,
      account: options.accounts[0] as LoadAccount,
      folder: '',
      gate: lease.gate(options.endpoint.host),
      ring: new Ring(),
      uids: [],
      appended: 0,
      flagToggle: false,
    });
    prefix = await namespacePrefix(first);
    for (let i = 1; i <= options.clients; i++) {
      contexts.push({
        index: i,
        account: options.accounts[(i - 1) % options.accounts.length] as LoadAccount,
        folder: `${prefix}${runPrefix(options.runId)}-load-${i}`,
        gate: lease.gate(options.endpoint.host),
        ring: new Ring(),
        uids: [],
        appended: 0,
        flagToggle: false,
      });
    }
    // The folders are made one after another on one connection per account: Dovecot 2.3 answered some of 50
    // concurrent CREATEs of distinct new names with NO [ALREADYEXISTS].
    const creators = new Map<string, ImapRawClient>([[(options.accounts[0] as LoadAccount).user, first]]);
    try {
      for (const c of contexts) {
        let creator = creators.get(c.account.user);
        if (creator === undefined) creators.set(c.account.user, (creator = await open(c)));
        const client = creator;
        // Recorded before it is sent: cleanup tries to delete it even when the answer never came.
        book.created.add(`${c.account.user}\n${c.folder}`);
        expectOk(`CREATE ${c.folder}`, await client.command(['CREATE ', astringPart(c.folder)]));
      }
    } finally {
      for (const client of creators.values()) await logoutOrDrop(client, window);
    }
    // Every client's set-up is waited for, failed or not: none may still be appending when cleanup runs.
    const settled = await Promise.allSettled(
      contexts.map(async (c) => {
        const client = await open(c);
        try {
          await timed(client, 'SELECT', () => client.select(c.folder));
          for (let n = 0; n < (options.seedMessages ?? 5); n++) await append(client, c);
        } catch (err) {
          window.noteUnclean();
          client.drop();
          throw err;
        }
        if (options.reconnect) {
          await logoutOrDrop(client, window);
          return undefined;
        }
        return client;
      }),
    );
    const sessions = settled.map((s) => (s.status === 'fulfilled' ? s.value : undefined));
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed !== undefined || window.stopping) {
      for (const client of sessions) if (client !== undefined) await logoutOrDrop(client, window);
      throw failed === undefined ? new Error('interrupted during set-up') : failed.reason;
    }
    book.window = window;
    const t0 = window.open(options.durationMs);
    try {
      await Promise.all(
        contexts.map(async (c, i) => {
          let client = sessions[i];
          try {
            while (window.running) {
              if (options.reconnect) {
                client = await open(c);
                await timed(client, 'SELECT', () => (client as ImapRawClient).select(c.folder));
                for (let n = 0; n < options.sessionCommands && window.running; n++) client = await oneCommand(client, c, pickInSession());
                await timed(client, 'LOGOUT', () => (client as ImapRawClient).logout());
                client = undefined;
              } else {
                client = await step(client as ImapRawClient, c);
              }
            }
          } catch (err) {
            if (window.dropped && !(err instanceof CommandFailure)) return; // Ctrl-C's grace ran out mid-command
            if (err instanceof CommandFailure) book.noteError(err.command, err.outcome, err.message, c.ring);
            else {
              book.record('(connection)', 'errored', 0);
              book.noteError('(connection)', 'errored', (err as Error).message, c.ring);
            }
          } finally {
            if (client !== undefined) await logoutOrDrop(client, window);
          }
        }),
      );
    } finally {
      measuredMs = Math.min(now(), window.deadline) - t0;
      book.window = undefined;
    }
  } catch (err) {
    setupError = (err as Error).message;
  } finally {
    window.close();
  }
  const leftovers = await cleanup(options, book, prefix, window);
  return book.result({ runId: options.runId, startedAt, measuredMs, settings, interrupted: options.signal.aborted, leftovers, setupError });
}

/**
 * Ends a client's session with LOGOUT; a session that is already gone, or
 * whose LOGOUT is not answered, is dropped and noted unclean: the server may
 * still be finishing a command of it (see LoadWindow).
 */
export async function logoutOrDrop(client: ImapRawClient, window: LoadWindow): Promise<void> {
  if (client.closed) {
    window.noteUnclean();
    return;
  }
  try {
    await client.logout();
  } catch {
    window.noteUnclean();
    client.drop();
  }
}

/** The names a LIST answer lists (quoted or atom, the last field of each untagged LIST). */
function listedNames(listed: ImapResponse): Set<string> {
  return new Set(
    listed.untagged
      .filter((u) => u.kind === 'LIST')
      .map(
        (u) =>
          /"((?:[^"\\]|\\.)*)"\s*$|(\S+)\s*$/
            .exec(u.raw)
            ?.slice(1)
            .find((x) => x !== undefined) ?? '',
      ),
  );
}

/**
 * Deletes each folder the run recorded creating, per account, then LISTs the
 * run's own names (`<prefix>mailprobe-<run>-load*`) and reports any still there.
 * When a session ended without its own logout, it looks again after a pause
 * and deletes what is back under a recorded name (settleBeforeRecheck).
 * Never DELETEs a name it did not record.
 */
async function cleanup(options: ImapLoadOptions, book: LoadBook, prefix: string, window: LoadWindow): Promise<string[]> {
  const byUser = new Map<string, string[]>();
  for (const key of book.created) {
    const [user, folder] = key.split('\n') as [string, string];
    byUser.set(user, [...(byUser.get(user) ?? []), folder]);
  }
  const leftovers: string[] = [];
  for (const [user, folders] of byUser) {
    const account = options.accounts.find((a) => a.user === user) as LoadAccount;
    let client: ImapRawClient | undefined;
    try {
      client = await ImapRawClient.connect({ ...options.endpoint, transcript: new Transcript({ maxEntries: 0 }), session: 'load-cleanup' });
      expectOk('LOGIN', await client.login(account.user, account.password));
      const pattern = ['LIST "" ', astringPart(`${prefix}${runPrefix(options.runId)}-load*`)];
      for (const folder of folders) await client.command(['DELETE ', astringPart(folder)]);
      let still = listedNames(await client.command(pattern));
      if (await settleBeforeRecheck(window)) {
        // What is listed after the pause under a recorded name: still there, or made again by a late command.
        const back = listedNames(await client.command(pattern));
        for (const folder of folders) if (back.has(folder)) await client.command(['DELETE ', astringPart(folder)]);
        still = listedNames(await client.command(pattern));
      }
      for (const folder of folders) if (still.has(folder)) leftovers.push(`${user}:${folder}`);
      await client.logout().catch(() => client?.drop());
    } catch (err) {
      client?.drop();
      leftovers.push(...folders.map((f) => `${user}:${f} (${(err as Error).message})`));
    }
  }
  return leftovers;
}
