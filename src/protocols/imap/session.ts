import { ImapFlow, type ImapFlowOptions } from 'imapflow';
import { implicitTlsPortError, plainTextPortError, wrongProtocolByProbe, wrongProtocolError } from '../../transport/greeting-kind.js';
import { sniName, tlsErrorCode, tlsFailureHint } from '../../transport/tls.js';
import type { Transcript } from '../../transport/transcript.js';
import { ImapReplyError, ImapSessionError } from './errors.js';

/**
 * An IMAP session ("device") through imapflow, made deterministic for a
 * conformance tool: no automatic IDLE, no automatic ENABLE, every protocol
 * line in the transcript, and every refusal surfaced as an error with the
 * server's own words, even where imapflow would only return `false`.
 */
export interface ImapSessionOptions {
  readonly host: string;
  readonly port: number;
  readonly security: 'tls' | 'starttls' | 'none';
  readonly tls: { readonly verify: boolean; readonly ca?: string; readonly servername?: string };
  readonly timeouts: { readonly dns: number; readonly tcp: number; readonly tls: number; readonly greeting: number; readonly command: number; readonly push: number };
  readonly user: string;
  readonly password: string;
  readonly transcript: Transcript;
  readonly session: string;
  readonly signal?: AbortSignal;
  /** ENABLE these (CONDSTORE, QRESYNC) after login, only when a scenario asks; imapflow sends the ENABLE. */
  readonly enable?: readonly string[];
}

/** Changes the server told this session about, unasked, since the last drain. */
export interface Notifications {
  readonly exists: Array<{ path: string; count: number; prevCount: number; at: number }>;
  readonly expunge: Array<{ path: string; seq?: number; uid?: number; at: number }>;
  readonly flags: Array<{ path: string; seq: number; uid?: number; flags: string[]; modseq?: string; at: number }>;
}

export class ImapSession {
  #lastRefusal: { line: string; at: number } | undefined;
  readonly #notifications: Notifications = { exists: [], expunge: [], flags: [] };
  #greeting = '';
  #idle: Promise<unknown> | undefined;

  private constructor(
    readonly name: string,
    readonly client: ImapFlow,
    /** The longest a single command may take before the session is closed as timed out. */
    readonly commandTimeoutMs: number,
  ) {}

  static async open(options: ImapSessionOptions): Promise<ImapSession> {
    const { transcript, session } = options;
    let holder: ImapSession | undefined;
    let greeting = '';
    // The server's first line, whatever it is: a POP3 or SMTP greeting tells a wrong port apart from a silent one.
    let firstLine: string | undefined;
    let lastRefusal: { line: string; at: number } | undefined;
    const record = (entry: { src?: string; msg?: string; err?: unknown }) => {
      if (typeof entry?.msg !== 'string') return;
      if (entry.src === 'c') transcript.client(session, entry.msg);
      else if (entry.src === 's') {
        transcript.server(session, entry.msg);
        firstLine ??= entry.msg;
        if (!greeting && /^\* (OK|PREAUTH|BYE)\b/i.test(entry.msg)) greeting = entry.msg;
        if (/^[A-Za-z0-9.]+ (NO|BAD)\b/.test(entry.msg)) {
          lastRefusal = { line: entry.msg, at: Date.now() };
          if (holder) holder.#lastRefusal = lastRefusal;
        }
      }
    };
    const logger = { trace: record, debug: record, info: () => {}, warn: () => {}, error: () => {}, fatal: () => {} };
    const client = new ImapFlow({
      host: options.host,
      port: options.port,
      secure: options.security === 'tls',
      // STARTTLS is required before LOGIN on a starttls endpoint (else imapflow would warn and log in
      // in clear when the offer is missing or stripped), and never attempted on a plain one.
      ...(options.security === 'starttls' ? { doSTARTTLS: true } : options.security === 'none' ? { doSTARTTLS: false } : {}),
      ...(options.tls.servername ? { servername: options.tls.servername } : {}),
      tls: {
        rejectUnauthorized: options.tls.verify,
        ...(options.tls.ca ? { ca: options.tls.ca } : {}),
        ...(options.tls.servername ? { servername: options.tls.servername } : {}),
      },
      auth: { user: options.user, pass: options.password },
      logger: logger as ImapFlowOptions['logger'],
      disableAutoIdle: true,
      // imapflow's automatic ENABLE (CONDSTORE, and QRESYNC when asked) only when the scenario wants it.
      disableAutoEnable: !(options.enable && options.enable.length > 0),
      qresync: options.enable?.some((e) => e.toUpperCase() === 'QRESYNC') ?? false,
      // Conformance runs compare bytes: no compression layer between us and the server.
      disableCompression: true,
      // BINARY[] would hand back decoded content; a byte-for-byte check needs BODY.PEEK[].
      disableBinary: true,
      clientInfo: { name: 'mailprobe' },
      connectionTimeout: options.timeouts.dns + options.timeouts.tcp + options.timeouts.tls,
      greetingTimeout: options.timeouts.greeting,
      // An inactivity bound only: call() puts a hard deadline on each command. IDLE waits are
      // bounded by the scenario (timeouts.push), so the socket may stay quiet that long.
      socketTimeout: Math.max(options.timeouts.command, options.timeouts.push) + 5_000,
    });
    const onAbort = () => client.close();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    // One run signal serves many sessions: let go of it when this one closes.
    client.once('close', () => options.signal?.removeEventListener('abort', onAbort));
    client.on('error', () => {
      // Errors surface on the pending command; without a listener node would throw.
    });
    try {
      await client.connect();
    } catch (err) {
      options.signal?.removeEventListener('abort', onAbort);
      throw await connectFailure(err, options, firstLine);
    }
    if (options.security === 'starttls' && !client.secureConnection) {
      client.close();
      throw new ImapSessionError(
        'ESTARTTLS',
        `${options.host}:${options.port} did not upgrade to TLS with STARTTLS (not offered?), so the session would send the password in clear; use security: tls on the IMAPS port, or security: none if plaintext is really intended`,
        'starttls',
      );
    }
    const wrapper = new ImapSession(session, client, options.timeouts.command);
    holder = wrapper;
    wrapper.#greeting = greeting;
    wrapper.#lastRefusal = lastRefusal;
    wrapper.#watch();
    return wrapper;
  }

  get greeting(): string {
    return this.#greeting;
  }

  get capabilities(): string[] {
    return [...this.client.capabilities.keys()].map((c) => c.toUpperCase());
  }

  has(capability: string): boolean {
    return this.client.capabilities.has(capability.toUpperCase());
  }

  get closed(): boolean {
    return !this.client.usable;
  }

  /** The last NO/BAD this session saw, as a refusal of `command` (e.g. a CAPABILITY imapflow only logged). */
  lastRefusalAs(command: string): ImapReplyError | undefined {
    return this.#lastRefusal === undefined ? undefined : parseRefusal(command, this.#lastRefusal.line);
  }

  /** Returns and forgets the notifications collected since the last call. */
  drain(): Notifications {
    const copy: Notifications = {
      exists: this.#notifications.exists.splice(0),
      expunge: this.#notifications.expunge.splice(0),
      flags: this.#notifications.flags.splice(0),
    };
    return copy;
  }

  /**
   * Runs an imapflow call and turns a refusal into an ImapReplyError with the
   * server's words. imapflow returns `false` from some commands (STORE, MOVE,
   * EXPUNGE, NOOP) instead of throwing; the refusal line is then read from the
   * transcript of this session.
   */
  async call<T>(command: string, fn: (client: ImapFlow) => Promise<T>): Promise<Exclude<T, false>> {
    const since = Date.now();
    let result: T;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        // A server that trickles bytes would keep imapflow's inactivity timer happy forever.
        this.client.close();
        reject(new ImapSessionError('ETIMEOUT', `${command} got no complete answer within ${this.commandTimeoutMs} ms`, 'command'));
      }, this.commandTimeoutMs);
    });
    try {
      result = await Promise.race([fn(this.client), deadline]);
    } catch (err) {
      throw err instanceof ImapSessionError ? err : this.#translate(command, err);
    } finally {
      clearTimeout(timer);
    }
    if (result === false) {
      const refusal = this.#lastRefusal && this.#lastRefusal.at >= since ? this.#lastRefusal.line : undefined;
      throw refusal ? parseRefusal(command, refusal) : new ImapReplyError(command, 'NO', 'the command did not complete (imapflow reported failure without a server reply)');
    }
    return result as Exclude<T, false>;
  }

  /**
   * Starts IDLE on the selected mailbox and returns at once; the server's
   * pushes land in the notifications. Any later command ends the IDLE (imapflow
   * sends DONE first).
   */
  startIdle(): number {
    const started = Date.now();
    this.#idle = this.client.idle().catch(() => undefined);
    return started;
  }

  /** Waits until the server pushes an EXISTS after `since` (ms epoch), or the timeout passes. */
  async waitForExists(since: number, timeoutMs: number, signal?: AbortSignal): Promise<{ at: number; count: number } | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.#notifications.exists.find((e) => e.at >= since && e.count > e.prevCount);
      if (hit) return { at: hit.at, count: hit.count };
      if (Date.now() >= deadline || signal?.aborted || this.closed) return undefined;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Ends an IDLE started by startIdle (by NOOP, which makes imapflow send DONE). */
  async stopIdle(): Promise<void> {
    if (!this.#idle) return;
    await this.call('NOOP (ends IDLE)', (c) => c.noop()).catch(() => undefined);
    await this.#idle;
    this.#idle = undefined;
  }

  async logout(): Promise<void> {
    if (this.closed) return;
    await this.client.logout().catch(() => this.client.close());
  }

  drop(): void {
    this.client.close();
  }

  #watch(): void {
    this.client.on('exists', (e: { path: string; count: number; prevCount: number }) =>
      this.#notifications.exists.push({ path: e.path, count: e.count, prevCount: e.prevCount, at: Date.now() }),
    );
    this.client.on('expunge', (e: { path: string; seq?: number; uid?: number }) =>
      this.#notifications.expunge.push({ path: e.path, ...(e.seq !== undefined ? { seq: e.seq } : {}), ...(e.uid !== undefined ? { uid: e.uid } : {}), at: Date.now() }),
    );
    this.client.on('flags', (e: { path: string; seq: number; uid?: number; flags: Set<string>; modseq?: bigint }) =>
      this.#notifications.flags.push({
        path: e.path,
        seq: e.seq,
        ...(e.uid !== undefined ? { uid: e.uid } : {}),
        flags: [...e.flags],
        ...(e.modseq !== undefined ? { modseq: String(e.modseq) } : {}),
        at: Date.now(),
      }),
    );
  }

  #translate(command: string, err: unknown): Error {
    const e = err as { responseStatus?: string; responseText?: string; serverResponseCode?: string; response?: unknown; code?: string; message?: string; executedCommand?: string };
    if (e.responseStatus === 'NO' || e.responseStatus === 'BAD') {
      const line = this.#lastRefusal?.line;
      if (line) return parseRefusal(e.executedCommand ?? command, line);
      return new ImapReplyError(e.executedCommand ?? command, e.responseStatus, e.responseText ?? e.message ?? '', e.serverResponseCode);
    }
    if (e.code === 'NoConnection' || e.code === 'EConnectionClosed' || e.responseStatus === 'BYE') {
      return new ImapSessionError('ECLOSED', `the connection closed during ${command}: ${e.message ?? ''}`.trim(), 'command');
    }
    if (e.code === 'ETIMEOUT' || e.code === 'ETIMEDOUT' || e.code === 'CONNECT_TIMEOUT') {
      return new ImapSessionError('ETIMEOUT', `timed out during ${command}`, 'command');
    }
    return err instanceof Error ? err : new Error(String(err));
  }
}

/** "A12 NO [TRYCREATE] Mailbox doesn't exist" → ImapReplyError. */
function parseRefusal(command: string, line: string): ImapReplyError {
  const match = /^\S+ (NO|BAD)\s*(?:\[([^\]\s]+)[^\]]*\])?\s*(.*)$/i.exec(line);
  if (!match) return new ImapReplyError(command, 'NO', line);
  return new ImapReplyError(command, match[1]!.toUpperCase() as 'NO' | 'BAD', match[3] ?? '', match[2]);
}

/** A wrong port first (its greeting says what it speaks), then what imapflow reported. */
async function connectFailure(err: unknown, options: ImapSessionOptions, firstLine: string | undefined): Promise<Error> {
  const where = { host: options.host, port: options.port };
  if (firstLine !== undefined) {
    const wrong = wrongProtocolError('imap', firstLine, where);
    if (wrong !== undefined) return wrong;
  } else if (options.security !== 'tls' && (err as { code?: string }).code === 'GREETING_TIMEOUT') {
    // imapflow does not log a greeting it cannot parse (an SMTP "220 …"): look at the port ourselves,
    // in plain text, then as TLS (an implicit-TLS port says nothing until the client speaks).
    const wrong = (await wrongProtocolByProbe('imap', where, options.timeouts.greeting)) ?? (await implicitTlsPortError('imap', where, options.timeouts.tls));
    if (wrong !== undefined) return wrong;
  }
  if (options.security === 'tls') {
    const plain = await plainTextPortError('imap', err, where, options.timeouts.greeting);
    if (plain !== undefined) return plain;
  }
  return connectError(err, options);
}

function connectError(err: unknown, options: ImapSessionOptions): Error {
  const e = err as { code?: string; message?: string; authenticationFailed?: boolean; responseText?: string; serverResponseCode?: string };
  const where = `${options.host}:${options.port}`;
  if (e.authenticationFailed) {
    if (e.serverResponseCode && ['UNAVAILABLE', 'INUSE'].includes(e.serverResponseCode.toUpperCase())) {
      return new ImapReplyError('LOGIN', 'NO', e.responseText ?? 'login refused for now', e.serverResponseCode);
    }
    return new ImapSessionError('EAUTH', `login as ${options.user} on ${where} failed: ${e.responseText ?? e.message ?? 'authentication failed'}`, 'auth');
  }
  const message = e.message ?? String(err);
  if (e.code === 'GREETING_TIMEOUT') {
    const hint = options.security === 'tls' ? '' : '; if this port expects implicit TLS, use security: tls';
    return new ImapSessionError('ETIMEOUT', `no IMAP greeting from ${where} within ${options.timeouts.greeting} ms${hint}`, 'greeting');
  }
  if (/certificate|self.signed|unable to verify|CERT_|SSL|TLS/i.test(message) || (tlsErrorCode(err) ?? '').match(/^(ERR_TLS|CERT_)|CERT/)) {
    // The same hint as our own transport: "expired; renew it" is not "pass the CA".
    const checkedName = sniName(options.host, options.tls) ?? options.host;
    const phase = options.security === 'starttls' ? 'starttls' : 'tls';
    return new ImapSessionError('ETLS', `TLS with ${where} failed: ${message}${tlsFailureHint(err, checkedName, options.tls.verify)}`, phase);
  }
  if (e.code === 'ECONNREFUSED' || /ECONNREFUSED/.test(message)) return new ImapSessionError('ECONNREFUSED', `connection to ${where} refused`, 'tcp');
  if (e.code === 'CONNECT_TIMEOUT' || /timeout/i.test(message)) {
    return new ImapSessionError('ETIMEOUT', `timed out connecting to ${where}: ${message}`, 'tcp');
  }
  if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') return new ImapSessionError('EDNS', `cannot resolve ${options.host}: ${message}`, 'dns');
  return new ImapSessionError(e.code ?? 'ECONNECT', `cannot open an IMAP session with ${where}: ${message}`, 'tcp');
}
