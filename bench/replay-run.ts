/**
 * Runs a replay plan over plain node:net / node:tls: the same connections, lines, order and delivery waits as the
 * recorded run, reading each answer to its end by framing alone. It returns what it did, so that the table can set
 * its counts beside the harness's.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { connect as tlsConnect } from 'node:tls';
import { readImapAnswer, readPop3Answer, readSmtpAnswer, WireReader } from './replay-framing.js';
import type { Credentials, PlanItem, Protocol, ReplayEvent, ReplayPlan } from './replay-plan.js';

export interface ReplayTls {
  readonly ca: string;
  readonly servername: string;
}

export interface ReplayResult {
  readonly ms: number;
  readonly clientLines: number;
  readonly connections: number;
  readonly polls: number;
}

/** The harness polls every 100 ms (pop3.wait-for's default interval); the replay waits alike between polls. */
const POLL_INTERVAL_MS = 100;
const POLL_TIMEOUT_MS = 30_000;
/** Every read of the replay has a deadline, so a server that stops answering ends the replay with an error. */
const ANSWER_TIMEOUT_MS = 15_000;

interface Connection {
  socket: Socket;
  readonly reader: WireReader;
  readonly protocol: Protocol;
  readonly credentials: Credentials | undefined;
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
    return { ms: performance.now() - started, clientLines: this.#clientLines, connections: this.#connections, polls: this.#polls };
  }

  async #item(item: PlanItem): Promise<void> {
    if (item.kind === 'event') return this.#event(item.event);
    const deadline = Date.now() + POLL_TIMEOUT_MS;
    for (;;) {
      this.#polls++;
      this.#lastList = 0;
      for (const event of item.group.events) await this.#event(event);
      if (this.#lastList >= item.group.listLines) return;
      if (Date.now() > deadline) throw new Error(`${this.#plan.id}: the replayed delivery wait timed out after ${this.#polls} polls`);
      await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
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
        return this.#send(this.#conn(event.conn), event.lines);
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

  async #send(conn: Connection, lines: readonly string[]): Promise<void> {
    conn.socket.write(`${lines.map((line) => this.#withSecrets(conn, line)).join('\r\n')}\r\n`);
    this.#clientLines += lines.length;
    for (const line of lines) await this.#answer(conn, line);
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
    const body = replayMessage(this.#plan.runId, `${this.#plan.id}.${++this.#messages}`, event);
    // Already CRLF-framed and dot-stuffed by construction: the terminator follows as the recorded "." line.
    conn.socket.write(Buffer.concat([body, Buffer.from('.\r\n')]));
    this.#clientLines++;
    await readSmtpAnswer(conn.reader);
  }

  #withSecrets(conn: Connection, line: string): string {
    if (!line.includes('[redacted]')) return line;
    const creds = conn.credentials;
    if (creds === undefined) throw new Error(`${this.#plan.id}: a redacted line on a connection with no account: ${line}`);
    const password = this.#secrets[creds.passwordEnv];
    if (password === undefined) throw new Error(`${this.#plan.id}: ${creds.passwordEnv} is not in the secrets file`);
    const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
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
export function replayMessage(runId: string, tag: string, size: { octets: number; lines: number; stuffed: number }): Buffer {
  const header = [
    'From: <replay@mailprobe.invalid>',
    'To: <replay@mailprobe.invalid>',
    `Subject: mailprobe replay ${runId}`,
    `Message-ID: <mailprobe.${runId}.replay-${tag.replace(/[^A-Za-z0-9.-]/g, '-')}@mailprobe.invalid>`,
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
