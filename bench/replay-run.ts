/**
 * Runs a replay plan over plain node:net / node:tls: the same connections, lines, order and delivery waits as the
 * recorded run, reading each answer to its end by framing alone. It returns what it did, so that the table can set
 * its counts beside the harness's.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { connect as tlsConnect } from 'node:tls';
import { DEFAULT_POLL_CAP_MS, pollPauses } from '../dist/actions/awaited-mail.js';
import { readImapAnswer, readPop3Answer, readSmtpAnswer, WireReader } from './replay-framing.js';
import { hiddenPlainUser, imapStatus, type Credentials, type ImapPollGroup, type PlanItem, type Protocol, type ReplayEvent, type ReplayPlan } from './replay-plan.js';
import { answerUids, selectedBy, UidMap, uidKey } from './replay-uids.js';

export interface ReplayTls {
  readonly ca: string;
  readonly servername: string;
}

export interface ReplayResult {
  readonly ms: number;
  readonly clientLines: number;
  readonly connections: number;
  readonly polls: number;
  readonly divergences: readonly string[];
}

/**
 * The harness's delivery waits pause between looks as pollPauses says (25 ms, growing by half, up to the
 * waits' default interval_ms): the replay pauses alike, from the same code, so both wait the same.
 */
const pausesOfAWait = () => pollPauses(DEFAULT_POLL_CAP_MS);
const POLL_TIMEOUT_MS = 30_000;
/** Every read of the replay has a deadline, so a server that stops answering ends the replay with an error. */
const ANSWER_TIMEOUT_MS = 15_000;

interface Connection {
  socket: Socket;
  readonly reader: WireReader;
  readonly protocol: Protocol;
  credentials: Credentials | undefined;
  /** IMAP: the mailbox the replayed lines selected, for the UIDs they name. */
  selected?: string;
  /** IMAP: the tag of a command the server asked to continue ("+"), whose tagged answer is still to come. */
  continuing?: string | undefined;
  continuedStatus?: string | undefined;
}

export class Replayer {
  readonly #plan: ReplayPlan;
  readonly #tls: ReplayTls;
  readonly #secrets: Readonly<Record<string, string>>;
  readonly #conns = new Map<number, Connection>();
  #clientLines = 0;
  #connections = 0;
  #polls = 0;
  #messages = 0;
  /** Lines of the last POP3 LIST answer, for a poll's "is the message there yet". */
  #lastList = 0;
  /** UIDs the last replayed UID SEARCH found, for an IMAP poll's "is the message there yet". */
  #lastSearch = 0;
  readonly #uids = new UidMap();
  /** IMAP answers whose tagged status differed from the recorded one: the replay did other work there. */
  readonly #divergences: string[] = [];

  constructor(plan: ReplayPlan, tls: ReplayTls, secrets: Readonly<Record<string, string>>) {
    this.#plan = plan;
    this.#tls = tls;
    this.#secrets = secrets;
  }

  async run(): Promise<ReplayResult> {
    const started = performance.now();
    try {
      for (const item of this.#plan.items) await this.#item(item);
    } finally {
      for (const conn of this.#conns.values()) conn.socket.destroy();
      this.#conns.clear();
    }
    return {
      ms: performance.now() - started,
      clientLines: this.#clientLines,
      connections: this.#connections,
      polls: this.#polls,
      divergences: this.#divergences,
    };
  }

  async #item(item: PlanItem): Promise<void> {
    if (item.kind === 'event') return this.#event(item.event);
    if (item.kind === 'imap-poll') return this.#imapPoll(item.group);
    const deadline = Date.now() + POLL_TIMEOUT_MS;
    const pauses = pausesOfAWait();
    for (;;) {
      this.#polls++;
      this.#lastList = 0;
      for (const event of item.group.events) await this.#event(event);
      if (this.#lastList >= item.group.listLines) return;
      if (Date.now() > deadline) throw new Error(`${this.#plan.id}: the replayed delivery wait timed out after ${this.#polls} polls`);
      await new Promise((resolve) => setTimeout(resolve, pauses.next().value));
    }
  }

  async #imapPoll(group: ImapPollGroup): Promise<void> {
    const deadline = Date.now() + POLL_TIMEOUT_MS;
    const pauses = pausesOfAWait();
    for (;;) {
      this.#polls++;
      this.#lastSearch = 0;
      for (const event of group.attempt) await this.#event(event);
      if (this.#lastSearch >= group.wantUids) return;
      if (Date.now() > deadline) throw new Error(`${this.#plan.id}: the replayed IMAP delivery wait timed out after ${this.#polls} polls`);
      await new Promise((resolve) => setTimeout(resolve, pauses.next().value));
      for (const event of group.between) await this.#event(event);
    }
  }

  async #event(event: ReplayEvent): Promise<void> {
    switch (event.kind) {
      case 'open':
        return this.#open(event);
      case 'close': {
        this.#conns.get(event.conn)?.socket.destroy();
        this.#conns.delete(event.conn);
        return;
      }
      case 'tls':
        return this.#startTls(this.#conn(event.conn));
      case 'send':
        return this.#send(this.#conn(event.conn), event);
      case 'append':
        return this.#append(this.#conn(event.conn), event);
      case 'await-exists':
        return this.#awaitExists(this.#conn(event.conn));
      case 'data':
        return this.#data(this.#conn(event.conn), event);
    }
  }

  #conn(n: number): Connection {
    const conn = this.#conns.get(n);
    if (conn === undefined) throw new Error(`${this.#plan.id}: connection ${n} is not open`);
    return conn;
  }

  async #open(event: Extract<ReplayEvent, { kind: 'open' }>): Promise<void> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s =
        event.security === 'tls'
          ? tlsConnect({ host: event.host, port: event.port, ca: this.#tls.ca, servername: this.#tls.servername }, () => resolve(s))
          : netConnect({ host: event.host, port: event.port }, () => resolve(s));
      s.once('error', reject);
      s.setTimeout(ANSWER_TIMEOUT_MS, () => s.destroy(new Error(`${this.#plan.id}: no answer within ${ANSWER_TIMEOUT_MS} ms`)));
    });
    this.#connections++;
    const conn: Connection = { socket, reader: new WireReader(socket), protocol: event.protocol, credentials: this.#plan.credentials[event.conn] };
    this.#conns.set(event.conn, conn);
    await this.#answer(conn, undefined);
  }

  async #startTls(conn: Connection): Promise<void> {
    const plain = conn.reader.detach();
    conn.socket = await new Promise<Socket>((resolve, reject) => {
      const s = tlsConnect({ socket: plain, ca: this.#tls.ca, servername: this.#tls.servername }, () => resolve(s));
      s.once('error', reject);
    });
    conn.reader.attach(conn.socket);
  }

  async #send(conn: Connection, event: Extract<ReplayEvent, { kind: 'send' }>): Promise<void> {
    const { lines } = event;
    if (conn.protocol !== 'imap') {
      conn.socket.write(`${lines.map((line) => this.#withSecrets(conn, line)).join('\r\n')}\r\n`);
      this.#clientLines += lines.length;
      for (const line of lines) await this.#answer(conn, line);
      return;
    }
    // IMAP: recorded UIDs become the replay's own (mapped from its earlier answers) before the lines go out.
    const wire = lines.map((line) => {
      const user = conn.credentials?.user;
      const rewritten = user === undefined || conn.selected === undefined ? line : this.#uids.rewrite(line, uidKey(user, conn.selected));
      return this.#withSecrets(conn, rewritten);
    });
    conn.socket.write(`${wire.join('\r\n')}\r\n`);
    this.#clientLines += lines.length;
    for (const [i, line] of lines.entries()) {
      const selecting = selectedBy(line);
      if (selecting !== undefined) conn.selected = selecting;
      const recorded = event.recordedUids?.[i];
      const answer: string[] = [];
      // A line after a continuation request ("+") continues that command (AUTHENTICATE): its tag ends the answer.
      const tag = conn.continuing ?? line.split(' ', 1)[0];
      await readImapAnswer(conn.reader, tag, answer);
      const want = event.recordedStatus?.[i] ?? conn.continuedStatus;
      if (answer.at(-1)?.startsWith('+') === true) {
        // The recorded status belongs to the whole command: it is checked once its continuation is answered.
        conn.continuing = tag;
        conn.continuedStatus = want;
      } else {
        conn.continuing = conn.continuedStatus = undefined;
        if (want !== undefined && imapStatus(answer.at(-1)) !== want) this.#divergences.push(`${line} → ${answer.at(-1)} (recorded ${want})`);
      }
      if (recorded !== undefined) this.#learn(conn, line, answer, recorded);
    }
  }

  /** Reads the idling connection's lines up to a pushed "* N EXISTS" (the socket's timeout bounds the wait). */
  async #awaitExists(conn: Connection): Promise<void> {
    for (;;) if (/^\* \d+ EXISTS$/i.test(await conn.reader.line())) return;
  }

  /** Pairs the UIDs of the replay's answer to LINE with those the recorded answer named. */
  #learn(conn: Connection, line: string, answer: readonly string[], recorded: readonly number[]): void {
    const source = answerUids(line, answer, conn.selected);
    const user = conn.credentials?.user;
    if (source === undefined || user === undefined) return;
    if (/^\S+ UID SEARCH /i.test(line)) this.#lastSearch = source.uids.length;
    // Counts that differ teach nothing: a later line naming such a UID then fails, rather than naming a guess.
    this.#uids.learn(uidKey(user, source.mailbox), recorded, source.uids);
  }

  async #append(conn: Connection, event: Extract<ReplayEvent, { kind: 'append' }>): Promise<void> {
    const tag = event.command.split(' ', 1)[0]!;
    const body = replayMessage(this.#plan.runId, `${this.#plan.id}.${++this.#messages}`, imapShape(event.octets), event.messageId);
    if (body.length !== event.octets) throw new Error(`${this.#plan.id}: the replayed APPEND message is ${body.length} octets, not ${event.octets}`);
    this.#clientLines++;
    const answer: string[] = [];
    if (event.synchronizing) {
      conn.socket.write(`${event.command} {${event.octets}}\r\n`);
      await readImapAnswer(conn.reader, tag, answer);
      if (!answer.at(-1)?.startsWith('+')) throw new Error(`${this.#plan.id}: APPEND got no continuation: ${answer.at(-1)}`);
      conn.socket.write(Buffer.concat([body, Buffer.from('\r\n')]));
    } else conn.socket.write(Buffer.concat([Buffer.from(`${event.command} {${event.octets}+}\r\n`), body, Buffer.from('\r\n')]));
    await readImapAnswer(conn.reader, tag, answer);
    if (imapStatus(answer.at(-1)) !== 'OK') this.#divergences.push(`${event.command} → ${answer.at(-1)} (recorded OK)`);
    this.#learn(conn, `${event.command} {${event.octets}}`, answer, event.recordedUids);
  }

  async #answer(conn: Connection, line: string | undefined): Promise<void> {
    switch (conn.protocol) {
      case 'pop3': {
        const lines = await readPop3Answer(conn.reader, line);
        if (line === 'LIST') this.#lastList = lines;
        return;
      }
      case 'smtp':
        await readSmtpAnswer(conn.reader);
        return;
      case 'imap':
        await readImapAnswer(conn.reader, line?.split(' ', 1)[0]);
        return;
    }
  }

  async #data(conn: Connection, event: Extract<ReplayEvent, { kind: 'data' }>): Promise<void> {
    const body = replayMessage(this.#plan.runId, `${this.#plan.id}.${++this.#messages}`, event, event.messageId);
    // Already CRLF-framed and dot-stuffed by construction: the terminator follows as the recorded "." line.
    conn.socket.write(Buffer.concat([body, Buffer.from('.\r\n')]));
    this.#clientLines++;
    await readSmtpAnswer(conn.reader);
  }

  #withSecrets(conn: Connection, line: string): string {
    const hiddenUser = conn.protocol === 'imap' ? hiddenPlainUser(line) : undefined;
    if (!line.includes('[redacted]') && hiddenUser === undefined) return line;
    const creds = conn.credentials;
    if (creds === undefined) throw new Error(`${this.#plan.id}: a redacted line on a connection with no account: ${line}`);
    const password = this.#secrets[creds.passwordEnv];
    if (password === undefined) throw new Error(`${this.#plan.id}: ${creds.passwordEnv} is not in the secrets file`);
    const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
    // imapflow's AUTHENTICATE PLAIN response, logged with the password replaced inside the base64.
    if (hiddenUser !== undefined) return b64(`\0${hiddenUser}\0${password}`);
    if (/^AUTH PLAIN \[redacted\]$/i.test(line)) return `AUTH PLAIN ${b64(`\0${creds.user}\0${password}`)}`;
    if (line === '[redacted]') return b64(password);
    if (/^PASS \[redacted\]$/i.test(line)) return `PASS ${password}`;
    const login = /^(\S+ LOGIN \S+) \[redacted\]$/i.exec(line);
    if (login !== null) return `${login[1]} "${password.replace(/["\\]/g, (c) => `\\${c}`)}"`;
    throw new Error(`${this.#plan.id}: no rule to restore the secret in: ${line}`);
  }
}

/**
 * A message of exactly the recorded size, line count and dot-stuffed line count, carrying the recorded run's
 * X-Mailprobe-Run header and a Message-ID of that run, so that the recorded find and cleanup lines find it.
 * Returned framed (CRLF lines, leading dots doubled), as it goes on the wire.
 */
export function replayMessage(runId: string, tag: string, size: { octets: number; lines: number; stuffed: number }, messageId?: string): Buffer {
  const header = [
    'From: <replay@mailprobe.invalid>',
    'To: <replay@mailprobe.invalid>',
    `Subject: mailprobe replay ${runId}`,
    `Message-ID: ${messageId ?? `<mailprobe.${runId}.replay-${tag.replace(/[^A-Za-z0-9.-]/g, '-')}@mailprobe.invalid>`}`,
    `X-Mailprobe-Run: ${runId}`,
    '',
  ];
  const bodyLines = Math.max(size.lines - header.length, 1);
  const headerOctets = header.reduce((n, l) => n + l.length + 2, 0);
  // The recorded size is before dot-stuffing: each stuffed line carries one extra "." on the wire only.
  const bodyOctets = Math.max(size.octets - headerOctets, bodyLines * 2);
  const lines: string[] = [];
  let left = bodyOctets;
  for (let i = 0; i < bodyLines; i++) {
    const share = i === bodyLines - 1 ? left : Math.floor(bodyOctets / bodyLines);
    const text = share - 2;
    const stuffed = i < size.stuffed;
    // A stuffed line is ".x…" in the message and "..x…" on the wire.
    lines.push(stuffed ? `..${'x'.repeat(Math.max(text - 1, 0))}` : 'x'.repeat(Math.max(text, 0)));
    left -= share;
  }
  return Buffer.from(`${[...header, ...lines].join('\r\n')}\r\n`, 'latin1');
}

/** An APPEND's message shape: the transcript records its size only; lines of at most 78 octets, none starting with ".". */
export function imapShape(octets: number): { octets: number; lines: number; stuffed: number } {
  return { octets, lines: Math.max(7, Math.ceil(octets / 78)), stuffed: 0 };
}
