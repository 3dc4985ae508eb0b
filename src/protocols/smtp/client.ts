import { messageIdOfMessage } from '../../core/run-identity.js';
import { connect } from '../../transport/connect.js';
import type { Connection } from '../../transport/connection.js';
import { TransportError, type Phase } from '../../transport/errors.js';
import { silentGreeting, wrongProtocolError } from '../../transport/greeting-kind.js';
import type { Limits } from '../../transport/limits.js';
import type { Transcript } from '../../transport/transcript.js';
import type { SessionEndpoint } from '../module.js';
import { DataFramer, frameMessageData } from './data.js';
import { SmtpProtocolError, SmtpReplyError, SmtpTransportError } from './errors.js';
import { enhancedStatusCode, NO_EXTENSIONS, parseExtensions, type SmtpExtensions } from './extensions.js';
import { readReply, REPLY_GRAMMAR, shown, type SmtpReply } from './reply.js';

export type { SmtpExtensions } from './extensions.js';

export type SmtpEndpoint = SessionEndpoint;

/**
 * A message handed over in chunks (e.g. a generated 25 MB message): framed and
 * written chunk by chunk, never held whole. `size` is what MAIL FROM declares.
 */
export interface MessageSource {
  readonly size: number;
  chunks(): Iterable<Uint8Array>;
}

export type MessageData = Buffer | MessageSource;

export interface SmtpTimeouts {
  readonly tcp: number;
  readonly greeting: number;
  readonly command: number;
  readonly dns: number;
  /** The TLS handshake (implicit TLS or STARTTLS); default the TCP timeout. */
  readonly tls?: number;
}

export interface SmtpClientOptions {
  readonly endpoint: SmtpEndpoint;
  readonly transcript: Transcript;
  readonly session: string;
  readonly timeouts: SmtpTimeouts;
  readonly signal?: AbortSignal;
  readonly limits?: Partial<Limits>;
}

export interface SmtpSendResult {
  readonly accepted: string[];
  readonly rejected: string[];
  /** The server's final reply to the message data, e.g. "250 2.0.0 Ok: queued as …". */
  readonly response: string;
  readonly sentAt: number;
}

/** One reply as a step sees it: the code, every line, and the RFC 3463 code when the server uses them. */
export interface SmtpStepReply extends SmtpReply {
  /** The command answered, as errors and the transcript name it ("MAIL FROM", "(greeting)"). */
  readonly command: string;
  /** "5.1.1": the enhanced status code of the first line, read only when ENHANCEDSTATUSCODES was advertised (RFC 2034). */
  readonly enhanced?: string;
}

/** The two replies of DATA: the go-ahead (354) and, when data was sent, the verdict on it. */
export interface SmtpDataOutcome {
  readonly go: SmtpStepReply;
  /** Absent when the server did not say 354: then no data was sent (RFC 5321 §3.3). */
  readonly final?: SmtpStepReply;
  /** The reply that decides: `final` when there is one, else `go`. */
  readonly reply: SmtpStepReply;
}

/** A pipelined transaction's replies, in the order the commands went out (RFC 2920). */
export interface SmtpPipelineOutcome {
  readonly mail: SmtpStepReply;
  readonly rcpts: readonly SmtpStepReply[];
  readonly data: SmtpDataOutcome;
}

export interface SmtpStepOptions {
  /**
   * Throw on a refusal (4yz/5yz: SmtpReplyError) and on a code the command
   * cannot have (SmtpProtocolError ESMTP_UNEXPECTED). Default false: the reply
   * is returned and the step judges it.
   */
  readonly strict?: boolean;
}

export type SmtpAuthMechanism = 'PLAIN' | 'LOGIN';

/** The name mailprobe gives in EHLO/HELO: a reserved name (RFC 2606) that cannot be anybody's host. */
export const CLIENT_NAME = 'mailprobe.invalid';
/** RFC 5321 §4.5.3.1.4: a command line, its CRLF included, is at most 512 octets. */
const MAX_COMMAND_LINE = 512;

/**
 * mailprobe's own SMTP client (RFC 5321, STARTTLS per RFC 3207, AUTH PLAIN and
 * LOGIN per RFC 4954) on the transport layer, so every byte goes through
 * mailprobe's line reader, limits, deadlines, buffer meter and transcript.
 *
 * A session used step by step: connect() reads the banner, and ehlo(),
 * starttls(), auth(), mail(), rcpt(), data(), rset(), noop() and quit() each
 * send one command and return its whole reply, a refusal included (a step
 * judges it; `strict` makes a refusal throw). One command at a time, except
 * pipeline(), which exists to check RFC 2920 and runs only when PIPELINING is
 * advertised. open() / authenticate() / send() are the one-shot delivery
 * (send.ts) built on the same steps, strict throughout.
 *
 * What the server advertised is kept: the banner, the EHLO before and after
 * TLS (keywords, AUTH mechanisms, SIZE and its limit, PIPELINING, 8BITMIME,
 * SMTPUTF8, ENHANCEDSTATUSCODES, DSN, CHUNKING, REQUIRETLS).
 */
export class SmtpClient {
  readonly #connection: Connection;
  #banner: SmtpStepReply | undefined;
  /** The last EHLO's extensions; empty after HELO, before EHLO, and after STARTTLS (RFC 3207 §4.2). */
  #extensions: SmtpExtensions = NO_EXTENSIONS;
  #ehloBeforeTls: SmtpExtensions | undefined;
  #ehloAfterTls: SmtpExtensions | undefined;

  private constructor(connection: Connection) {
    this.#connection = connection;
  }

  /**
   * DNS → TCP → (implicit TLS) → the greeting, which is returned as `banner`
   * whatever its code: a 554 "no service" (RFC 5321 §3.1) is a reply for the
   * step to judge. A greeting of another protocol, or of no grammar, throws.
   */
  static async connect(options: SmtpClientOptions): Promise<SmtpClient> {
    const { endpoint, timeouts } = options;
    const connectTimeouts = connectionTimeouts(timeouts);
    const connection = await connect({
      host: endpoint.host,
      port: endpoint.port,
      security: endpoint.security,
      tls: {
        verify: endpoint.tls.verify,
        ...(endpoint.tls.ca ? { ca: endpoint.tls.ca } : {}),
        ...(endpoint.tls.servername ? { servername: endpoint.tls.servername } : {}),
      },
      timeouts: connectTimeouts,
      ...(options.limits ? { limits: options.limits } : {}),
      transcript: options.transcript,
      session: options.session,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(endpoint.gate ? { gate: endpoint.gate } : {}),
      protocol: 'smtp',
    });
    const client = new SmtpClient(connection);
    try {
      await client.#greeting();
      return client;
    } catch (error) {
      connection.destroy();
      throw (await silentGreeting(error, { ...endpoint, timeouts: connectTimeouts }, 'smtp')) ?? error;
    }
  }

  /**
   * The one-shot opening: connect, a 2yz greeting required, EHLO (HELO when
   * EHLO is unknown), and for "starttls" STARTTLS, the handshake and EHLO again.
   * Throws one of the three SMTP errors on anything else.
   */
  static async open(options: SmtpClientOptions): Promise<SmtpClient> {
    const client = await SmtpClient.connect(options);
    const { endpoint } = options;
    try {
      await client.acceptGreeting();
      await client.#hello(endpoint.security === 'starttls');
      if (endpoint.security === 'starttls') await client.#startTlsStrict();
      return client;
    } catch (error) {
      client.destroy();
      throw (await silentGreeting(error, { ...endpoint, timeouts: connectionTimeouts(options.timeouts) }, 'smtp')) ?? error;
    }
  }

  /**
   * The greeting must be 2yz to go on. A 5yz (RFC 5321 §3.1: 554 instead of
   * 220) is the host declining this client, a block list or a policy: its
   * choice, no broken rule, so the check could not run from here (errored). A
   * 4yz is "not now"; another code, one a greeting cannot have.
   */
  async acceptGreeting(): Promise<void> {
    const banner = this.#banner as SmtpStepReply;
    if (banner.code >= 200 && banner.code < 300) return;
    if (banner.code >= 500) {
      await this.#bestEffortQuit();
      throw new SmtpTransportError('EREFUSED', `${this.#connection.endpoint} refused this client in its greeting: ${banner.raw}`, 'greeting');
    }
    const refusal = this.#refusal(banner, 'CONN', 2);
    if (refusal instanceof SmtpReplyError) await this.#bestEffortQuit();
    throw refusal;
  }

  // --- what the server advertised ---------------------------------------------

  /** The greeting, every line of it. */
  get banner(): SmtpStepReply | undefined {
    return this.#banner;
  }

  /** What the last EHLO advertised (nothing after HELO, or after STARTTLS until EHLO is sent again). */
  get advertised(): SmtpExtensions {
    return this.#extensions;
  }

  /** The last EHLO on the plaintext connection (before STARTTLS); undefined on implicit TLS. */
  get ehloBeforeTls(): SmtpExtensions | undefined {
    return this.#ehloBeforeTls;
  }

  /** The last EHLO under TLS (after STARTTLS, or on implicit TLS). */
  get ehloAfterTls(): SmtpExtensions | undefined {
    return this.#ehloAfterTls;
  }

  /** The EHLO keywords of the last EHLO, upper case. */
  get extensions(): string[] {
    return [...this.#extensions.keywords];
  }

  /** SASL mechanisms of the last EHLO's AUTH line, upper case. */
  get authMechanisms(): string[] {
    return [...this.#extensions.auth];
  }

  get secure(): boolean {
    return this.#connection.tls !== undefined;
  }

  get connection(): Connection {
    return this.#connection;
  }

  // --- the steps ----------------------------------------------------------------

  /** EHLO (RFC 5321 §4.1.1.1). A 2yz reply's keywords are recorded, before or after TLS. */
  async ehlo(name: string = CLIENT_NAME, options: SmtpStepOptions = {}): Promise<SmtpStepReply> {
    const reply = await this.#command(`EHLO ${name}`, 'EHLO');
    this.#extensions = NO_EXTENSIONS;
    if (reply.code >= 200 && reply.code < 300) {
      this.#extensions = parseExtensions(reply);
      if (this.secure) this.#ehloAfterTls = this.#extensions;
      else this.#ehloBeforeTls = this.#extensions;
    }
    return this.#judged(reply, 2, options);
  }

  /** HELO (RFC 5321 §4.1.1.1): no extensions. */
  async helo(name: string = CLIENT_NAME, options: SmtpStepOptions = {}): Promise<SmtpStepReply> {
    const reply = await this.#command(`HELO ${name}`, 'HELO');
    this.#extensions = NO_EXTENSIONS;
    return this.#judged(reply, 2, options);
  }

  /**
   * STARTTLS (RFC 3207 §4). On a 2yz go-ahead the handshake follows at once,
   * refusing any byte the server sent after its go-ahead (CVE-2011-0411), and
   * what EHLO said is forgotten (§4.2): send EHLO again. Sent whether or not
   * STARTTLS was advertised; a step may want to see the refusal.
   */
  async starttls(options: SmtpStepOptions = {}): Promise<SmtpStepReply> {
    const reply = await this.#command('STARTTLS', 'STARTTLS', 'starttls');
    if (reply.code >= 200 && reply.code < 300) {
      await this.#connection.upgradeToTls();
      this.#extensions = NO_EXTENSIONS;
    }
    return this.#judged(reply, 2, options);
  }

  /**
   * AUTH with one mechanism (RFC 4954 §4), whatever EHLO advertised, so a step
   * can see how a server answers AUTH where it should not take it. Every token
   * goes out marked secret: the transcript shows [redacted] and the run's
   * redactor learns the exact token. Returns the final reply. A server that
   * keeps challenging after the last response gets "*" (RFC 4954 §4: the
   * client cancels with "*", the server answers 501) and that answer is returned.
   */
  async auth(mechanism: SmtpAuthMechanism, user: string, password: string, options: SmtpStepOptions = {}): Promise<SmtpStepReply> {
    let reply = await this.#authExchange(mechanism, user, password);
    if (reply.code === 334) {
      if (options.strict === true) throw this.#challengeAfterLast(reply);
      this.#connection.info('the server sent another challenge after the last response: cancelling with "*" (RFC 4954 §4)');
      reply = await this.#command('*', `AUTH ${mechanism}`);
    }
    return this.#judged(reply, 2, options);
  }

  /**
   * Whether the server would take a login with `mechanism` here, without
   * sending one: AUTH with no initial response, and when the server asks for
   * it (334), "*" at once, which cancels the exchange (RFC 4954 §4: the server
   * MUST then answer 501). Nothing secret is ever sent. Returns the answer to
   * AUTH; a 334 there means the server was ready to take the credentials.
   */
  async probeAuth(mechanism: SmtpAuthMechanism): Promise<SmtpStepReply> {
    const command = `AUTH ${mechanism}`;
    const reply = await this.#command(command, command);
    if (reply.code === 334) {
      this.#connection.info('the server asked for credentials: cancelling with "*" (RFC 4954 §4), no credentials are sent');
      await this.#command('*', command);
    }
    return reply;
  }

  /** MAIL FROM:<from> with ESMTP parameters as given ("SIZE=1000", "BODY=8BITMIME", "SMTPUTF8"). RFC 5321 §4.1.1.2. */
  async mail(from: string, params: readonly string[] = [], options: SmtpStepOptions = {}): Promise<SmtpStepReply> {
    return this.#judged(await this.#command(envelopeLine('MAIL FROM', from, params), 'MAIL FROM'), 2, options);
  }

  /** RCPT TO:<to> (RFC 5321 §4.1.1.3). */
  async rcpt(to: string, params: readonly string[] = [], options: SmtpStepOptions = {}): Promise<SmtpStepReply> {
    return this.#judged(await this.#command(envelopeLine('RCPT TO', to, params), 'RCPT TO'), 2, options);
  }

  /**
   * DATA (RFC 5321 §4.1.1.4): the message goes out, dot-stuffed (§4.5.2), only
   * after a 354 ("message data MUST NOT be sent unless a 354 reply is
   * received", §3.3); then the final reply.
   */
  async data(raw: MessageData, options: SmtpStepOptions & { readonly onSent?: () => void } = {}): Promise<SmtpDataOutcome> {
    const go = await this.#command('DATA', 'DATA');
    if (go.code !== 354) {
      // Strict: anything but 354 ends here, a 3yz other than 354 included (it is no go-ahead).
      if (options.strict === true) throw this.#refusal(go, 'DATA', 3);
      return { go, reply: go };
    }
    const final = this.#judged(await this.#sendData(raw, options.onSent), 2, options);
    return { go, final, reply: final };
  }

  /** RSET (RFC 5321 §4.1.1.5): the transaction is dropped. */
  async rset(options: SmtpStepOptions = {}): Promise<SmtpStepReply> {
    return this.#judged(await this.#command('RSET', 'RSET'), 2, options);
  }

  /** NOOP (RFC 5321 §4.1.1.9). */
  async noop(options: SmtpStepOptions = {}): Promise<SmtpStepReply> {
    return this.#judged(await this.#command('NOOP', 'NOOP'), 2, options);
  }

  /**
   * QUIT and close; never throws. A reply other than 221 (RFC 5321 §4.1.1.10)
   * or no reply is noted in the transcript and returned (undefined: none came).
   */
  async quit(): Promise<SmtpStepReply | undefined> {
    try {
      const reply = await this.#command('QUIT', 'QUIT');
      if (reply.code !== 221) this.#connection.info(`QUIT answered ${reply.code}, not 221 (RFC 5321 §4.1.1.10)`);
      return reply;
    } catch (error) {
      this.#connection.info(`no clean QUIT: ${(error as Error).message}`);
      return undefined;
    } finally {
      await this.#connection.close();
    }
  }

  /**
   * One pipelined transaction (RFC 2920): MAIL, every RCPT and DATA go out as
   * one group (DATA last, as §3.1 requires of a command that changes state),
   * then the replies are read in order. After a 354 the message is sent when
   * some RCPT was accepted; when none was, the data is ended at once with a
   * lone "." so that nothing is delivered. Refused (EPIPELINING, nothing sent)
   * when the last EHLO did not advertise PIPELINING.
   */
  async pipeline(
    envelope: { readonly from: string; readonly mailParams?: readonly string[]; readonly to: readonly string[]; readonly rcptParams?: readonly string[] },
    raw: Buffer,
    onSent?: () => void,
  ): Promise<SmtpPipelineOutcome> {
    if (!this.#extensions.pipelining) {
      throw new SmtpTransportError(
        'EPIPELINING',
        `${this.#connection.endpoint} did not advertise PIPELINING in its last EHLO reply (RFC 2920), so commands are not pipelined; nothing was sent`,
        'command',
      );
    }
    if (envelope.to.length === 0) throw new SmtpTransportError('EENVELOPE', 'no recipients', 'command');
    const group: Array<[line: string, name: string]> = [
      [envelopeLine('MAIL FROM', envelope.from, envelope.mailParams ?? []), 'MAIL FROM'],
      ...envelope.to.map((to): [string, string] => [envelopeLine('RCPT TO', to, envelope.rcptParams ?? []), 'RCPT TO']),
      ['DATA', 'DATA'],
    ];
    this.#connection.info(`pipelining ${group.length} commands (RFC 2920): the replies are read after the whole group is sent`);
    for (const [line, name] of group) this.#connection.writeLine(line, { command: name });
    const replies: SmtpStepReply[] = [];
    for (const [, name] of group) replies.push(await this.#read(name));
    const mail = replies[0] as SmtpStepReply;
    const rcpts = replies.slice(1, -1);
    const go = replies.at(-1) as SmtpStepReply;
    if (go.code !== 354) return { mail, rcpts, data: { go, reply: go } };
    const anyAccepted = mail.code < 300 && rcpts.some((r) => r.code >= 200 && r.code < 300);
    if (!anyAccepted) {
      // Nothing is sent, not even an empty message: the server's idea of the recipients is not the client's.
      this.#connection.info('DATA was accepted though no recipient was: dropping the connection, so no message of any kind is sent');
      this.#connection.destroy();
      return { mail, rcpts, data: { go, reply: go } };
    }
    const final = await this.#sendData(raw, onSent);
    return { mail, rcpts, data: { go, final, reply: final } };
  }

  destroy(): void {
    this.#connection.destroy();
  }

  // --- the one-shot delivery (send.ts), strict ------------------------------------

  /**
   * AUTH with PLAIN (RFC 4616, initial response) when EHLO offers it, else
   * LOGIN (PLAIN first: one round trip). Throws unless the server says 2yz.
   */
  async authenticate(user: string, password: string): Promise<void> {
    const reply = await this.#authExchange(this.loginMechanism(), user, password);
    if (reply.code >= 200 && reply.code < 300) return;
    throw this.loginRefusal(reply);
  }

  /**
   * The mechanism to log in with: PLAIN (RFC 4616, initial response: one round
   * trip) when the last EHLO offers it, else LOGIN, or `wanted` when given and
   * offered. Throws EAUTH, with nothing sent, when AUTH is not advertised or
   * offers neither.
   */
  loginMechanism(wanted?: SmtpAuthMechanism): SmtpAuthMechanism {
    if (!this.#extensions.params.has('AUTH')) {
      throw new SmtpTransportError(
        'EAUTH',
        `${this.#connection.endpoint} does not advertise AUTH in its EHLO reply (RFC 4954 §3), so mailprobe cannot log in; ` +
          'nothing was sent (set auth: false on the step if this endpoint takes mail without a login)',
        'auth',
      );
    }
    const mechanisms = this.authMechanisms;
    const offered = (wanted === undefined ? ['PLAIN', 'LOGIN'] : [wanted]).filter((m) => mechanisms.includes(m)) as SmtpAuthMechanism[];
    if (offered[0] === undefined) {
      throw new SmtpTransportError(
        'EAUTH',
        `${this.#connection.endpoint} offers AUTH ${mechanisms.join(' ') || '(no mechanism)'}, but mailprobe logs in with ${wanted ?? 'PLAIN or LOGIN'}; nothing was sent`,
        'auth',
      );
    }
    return offered[0];
  }

  /**
   * What a login's final non-2yz reply means: 4yz not now (a reply the runner
   * makes inconclusive); 535 (RFC 4954 §6: credentials invalid) and any other
   * 5yz the account cannot log in, so the check could not run (errored), except
   * 538 and 534, where the server turns down the mechanism, not the account:
   * its answer, judged.
   */
  loginRefusal(reply: SmtpStepReply): Error {
    if (reply.code >= 400 && reply.code < 500) return new SmtpReplyError(reply.code, reply.raw, reply.command);
    if (reply.code === 534 || reply.code === 538) return new SmtpReplyError(reply.code, reply.raw, reply.command);
    if (reply.code === 334) return this.#challengeAfterLast(reply);
    if (reply.code >= 500) return new SmtpTransportError('EAUTH', `authentication failed: ${reply.raw}`, 'auth');
    return this.#refusal(reply, reply.command, 2);
  }

  /** MAIL FROM, one RCPT TO per recipient (each judged), DATA, the message, the final reply. */
  async send(envelope: { readonly from: string; readonly to: readonly string[] }, raw: MessageData): Promise<SmtpSendResult> {
    for (const address of [envelope.from, ...envelope.to]) {
      if (/[\r\n<>]/.test(address)) throw new SmtpTransportError('EENVELOPE', `invalid envelope address ${JSON.stringify(address)}`, 'command');
    }
    if (envelope.to.length === 0) throw new SmtpTransportError('EENVELOPE', 'no recipients', 'command');
    // RFC 6152: 8-bit content is announced when the server offers 8BITMIME.
    const eightBit = Buffer.isBuffer(raw) && raw.some((octet) => octet >= 0x80) && this.#extensions.eightBitMime ? ['BODY=8BITMIME'] : [];
    // RFC 1870 §6: a message sent in chunks states its size, so a server whose limit it
    // exceeds says so at MAIL (552) rather than after 25 MB. (Whole messages are small and
    // keep their MAIL FROM line as it always was.)
    const declared = !Buffer.isBuffer(raw) && this.#extensions.size !== undefined ? [`SIZE=${raw.size}`] : [];
    await this.mail(envelope.from, [...eightBit, ...declared], { strict: true });

    const accepted: string[] = [];
    const rejected: string[] = [];
    const refusals: SmtpReply[] = [];
    for (const to of envelope.to) {
      const reply = await this.rcpt(to);
      if (reply.code < 300) accepted.push(to);
      else if (reply.code < 400) throw this.#refusal(reply, 'RCPT TO', 2);
      else {
        rejected.push(to);
        refusals.push(reply);
      }
    }
    if (accepted.length === 0) {
      // A temporary refusal decides: the message might go through later.
      const decisive = refusals.find((r) => r.code < 500) ?? (refusals.at(-1) as SmtpReply);
      await this.#bestEffortQuit();
      throw new SmtpReplyError(decisive.code, decisive.raw, 'RCPT TO');
    }
    const { reply } = await this.data(raw, { strict: true });
    return { accepted, rejected, response: reply.raw, sentAt: Date.now() };
  }

  // --- the dialogue ----------------------------------------------------------

  /** RFC 5321 §3.1 / §4.3.2: the greeting is 220, or 554 (no service); 421 is a temporary refusal. */
  async #greeting(): Promise<void> {
    const connection = this.#connection;
    const budget = connection.replyBudget('the greeting', 'reply', connection.timeouts.greeting);
    const greeting = await readReply(connection, {
      command: '(greeting)',
      budget,
      greeting: true,
      onFirstLine: (bytes) => {
        const wrong = wrongProtocolError('smtp', bytes, connection);
        if (wrong !== undefined) throw wrong;
        if (!/^[2-5][0-5][0-9](?:[ -]|$)/.test(bytes.subarray(0, 4).toString('latin1'))) throw notSmtp(connection, bytes);
      },
    });
    this.#banner = { ...greeting, command: '(greeting)' };
  }

  /** EHLO; HELO when the server does not know EHLO (500/502: RFC 5321 §3.2, §4.1.1.1). */
  async #hello(starttlsDue: boolean): Promise<void> {
    const ehlo = await this.ehlo();
    if (ehlo.code < 300) return;
    if (ehlo.code !== 500 && ehlo.code !== 502) throw this.#refusal(ehlo, 'EHLO', 2);
    if (starttlsDue && !this.secure) {
      throw new SmtpTransportError(
        'ESTARTTLS',
        `${this.#connection.endpoint} answered EHLO with ${ehlo.code}, so it offers no extensions and STARTTLS (RFC 3207) cannot be used; ` +
          'the connection cannot be secured, so nothing was sent',
        'starttls',
      );
    }
    this.#connection.info(`EHLO answered ${ehlo.code}: falling back to HELO (RFC 5321 §3.2)`);
    const helo = await this.helo(CLIENT_NAME);
    if (helo.code === 500 || helo.code === 502) {
      // Neither greeting command known: whatever greeted with 220 does not speak SMTP (a configuration problem).
      this.#connection.destroy();
      throw new TransportError(
        'EWRONG_PROTOCOL',
        'command',
        `${this.#connection.endpoint} answered both EHLO and HELO with ${helo.code}: this port does not seem to speak SMTP; check the endpoint's port`,
        { host: this.#connection.host, port: this.#connection.port },
      );
    }
    this.#judged(helo, 2, { strict: true });
  }

  /** RFC 3207 §4: STARTTLS only when advertised, the handshake, and EHLO again (§4.2). */
  async #startTlsStrict(): Promise<void> {
    const where = this.#connection.endpoint;
    const advice = '(use security: tls on the submissions port, or security: none if plaintext is really intended)';
    if (!this.#extensions.starttls) {
      throw new SmtpTransportError(
        'ESTARTTLS',
        `${where} does not advertise STARTTLS in its EHLO reply, so the connection cannot be secured and nothing was sent ${advice}`,
        'starttls',
      );
    }
    const reply = await this.starttls();
    // RFC 3207 §4: "454 TLS not available due to temporary reason" is a temporary refusal.
    if (reply.code >= 400 && reply.code < 500) throw new SmtpReplyError(reply.code, reply.raw, 'STARTTLS');
    if (reply.code >= 500) {
      throw new SmtpTransportError(
        'ESTARTTLS',
        `${where} refused STARTTLS: ${reply.raw}; the connection cannot be secured, so nothing was sent ${advice}`,
        'starttls',
      );
    }
    if (reply.code >= 300) throw this.#refusal(reply, 'STARTTLS', 2);
    await this.#hello(false);
  }

  /** The mechanism's exchange up to the server's last word (which may be yet another 334). */
  async #authExchange(mechanism: SmtpAuthMechanism, user: string, password: string): Promise<SmtpStepReply> {
    for (const [what, value] of [
      ['user name', user],
      ['password', password],
    ] as const) {
      if (/[\r\n\0]/.test(value)) throw new SmtpTransportError('EAUTH', `the ${what} contains CR, LF or NUL, which cannot be sent`, 'auth');
    }
    return mechanism === 'PLAIN' ? this.#authPlain(user, password) : this.#authLogin(user, password);
  }

  /** A challenge after the last response: the SASL exchange is out of step, so the connection is dropped. */
  #challengeAfterLast(reply: SmtpReply): SmtpTransportError {
    this.#connection.destroy();
    return new SmtpTransportError('EAUTH', `authentication failed: the server sent another challenge after the last response (${reply.raw})`, 'auth');
  }

  async #authPlain(user: string, password: string): Promise<SmtpStepReply> {
    // RFC 4616 §2: [authzid] NUL authcid NUL passwd; no authzid: the server derives it from the authcid.
    const token = Buffer.from(`\0${user}\0${password}`, 'utf8').toString('base64');
    const command = 'AUTH PLAIN';
    let reply: SmtpStepReply;
    if (`${command} ${token}`.length + 2 <= MAX_COMMAND_LINE) {
      reply = await this.#command(`${command} ${token}`, command, 'command', token);
    } else {
      // RFC 4954 §4: an initial response that would make the line too long is sent after an empty challenge.
      reply = await this.#command(command, command);
      if (reply.code === 334) reply = await this.#command(token, command, 'command', token);
    }
    if (reply.code === 334) {
      // Some servers ignore the initial response and send an empty challenge.
      this.#connection.info('server sent a 334 challenge despite the initial response; answering it');
      reply = await this.#command(token, command, 'command', token);
    }
    return reply;
  }

  /** The LOGIN mechanism: user name, then password, each base64 after a 334 challenge. */
  async #authLogin(user: string, password: string): Promise<SmtpStepReply> {
    const command = 'AUTH LOGIN';
    let reply = await this.#command(command, command);
    if (reply.code === 334) reply = await this.#command(Buffer.from(user, 'utf8').toString('base64'), command);
    if (reply.code === 334) {
      const token = Buffer.from(password, 'utf8').toString('base64');
      reply = await this.#command(token, command, 'command', token);
    }
    return reply;
  }

  /** The data after a 354, framed and dot-stuffed, and the final reply. */
  /** `onSent`: told once the terminating "." is written, when the server may have the message whatever comes back. */
  async #sendData(raw: MessageData, onSent?: () => void): Promise<SmtpStepReply> {
    if (Buffer.isBuffer(raw)) {
      const framed = frameMessageData(raw);
      this.#connection.info(
        `[message data: ${raw.length} octets, ${framed.lines} lines${framed.stuffed > 0 ? `, ${framed.stuffed} dot-stuffed` : ''}${messageIdNote(raw)}; not shown]`,
      );
      await this.#connection.writeBytes(framed.bytes, { phase: 'command', command: 'the message data' });
    } else {
      // Chunk by chunk, each written before the next is made: what is held is one chunk, framed.
      const framer = new DataFramer();
      for (const chunk of raw.chunks()) {
        const bytes = framer.push(chunk);
        if (bytes.length > 0) await this.#connection.writeBytes(bytes, { phase: 'command', command: 'the message data' });
      }
      await this.#connection.writeBytes(framer.end(), { phase: 'command', command: 'the message data' });
      const { octets, lines, stuffed } = framer.counts;
      this.#connection.info(`[message data: ${octets} octets, ${lines} lines${stuffed > 0 ? `, ${stuffed} dot-stuffed` : ''}, sent in chunks; not shown]`);
    }
    this.#connection.transcript.client(this.#connection.session, '.');
    onSent?.();
    return this.#read('DATA (end of data)', 'DATA');
  }

  /**
   * One command and its whole reply, within the reply's deadline. `secret`:
   * the part of the line the transcript shows as [redacted] (and the run's
   * redactor learns, so an echo of it is scrubbed too).
   */
  async #command(line: string, name: string, phase: Phase = 'command', secret?: string): Promise<SmtpStepReply> {
    this.#connection.writeLine(line, { command: name, ...(secret === undefined ? {} : { secret }) });
    return this.#read(name, name, phase);
  }

  /** The next whole reply, as a step reply. `reading`: what the transcript and errors say it answers. */
  async #read(reading: string, command: string = reading, phase: Phase = 'command'): Promise<SmtpStepReply> {
    const reply = await readReply(this.#connection, { command: reading, phase, budget: this.#connection.replyBudget(reading, 'reply') });
    const enhanced = this.#extensions.enhancedStatusCodes ? enhancedStatusCode(reply) : undefined;
    return { ...reply, command, ...(enhanced === undefined ? {} : { enhanced }) };
  }

  /** The reply, or with `strict` a throw when it is a refusal or a code the command cannot have. */
  #judged(reply: SmtpStepReply, expected: 2 | 3, options: SmtpStepOptions): SmtpStepReply {
    if (options.strict === true && Math.floor(reply.code / 100) !== expected) throw this.#refusal(reply, reply.command, expected);
    return reply;
  }

  /**
   * A refusal (4yz/5yz) as an SmtpReplyError; a reply whose first digit the
   * command cannot have (a 3yz where 2yz completes it, a 2yz to DATA) as a
   * failed ESMTP_UNEXPECTED: RFC 5321 §4.3.2 lists what each command may answer.
   */
  #refusal(reply: SmtpReply, command: string, expected: 2 | 3): Error {
    if (reply.code >= 400) return new SmtpReplyError(reply.code, reply.raw, command);
    this.#connection.destroy();
    return new SmtpProtocolError(
      'ESMTP_UNEXPECTED',
      `${command} was answered ${reply.code}, a code it cannot have (${command === 'DATA' && expected === 3 ? '354' : `a ${expected}yz reply`} was due): ${JSON.stringify(reply.raw.split('\n')[0] ?? '')}`,
      command,
      'RFC 5321 §4.3.2',
    );
  }

  /** After a refusal that ends the session: QUIT, bounded, whatever comes back. */
  async #bestEffortQuit(): Promise<void> {
    if (this.#connection.closed) return;
    try {
      this.#connection.writeLine('QUIT', { command: 'QUIT' });
      await readReply(this.#connection, {
        command: 'QUIT',
        budget: this.#connection.replyBudget('QUIT', 'reply', Math.min(this.#connection.timeouts.command, 2_000)),
      });
    } catch {
      // The refusal is what is reported.
    } finally {
      await this.#connection.close();
    }
  }
}

function connectionTimeouts(timeouts: SmtpTimeouts) {
  return { dns: timeouts.dns, tcp: timeouts.tcp, tls: timeouts.tls ?? timeouts.tcp, greeting: timeouts.greeting, command: timeouts.command };
}

/** "MAIL FROM:<a@b> SIZE=10": the path and parameters checked so no value can add a command or break the path. */
function envelopeLine(verb: 'MAIL FROM' | 'RCPT TO', address: string, params: readonly string[]): string {
  if (/[\r\n<>]/.test(address)) throw new SmtpTransportError('EENVELOPE', `invalid envelope address ${JSON.stringify(address)}`, 'command');
  for (const param of params) {
    // RFC 5321 §4.1.2: esmtp-param = esmtp-keyword ["=" esmtp-value], no spaces inside.
    if (!/^[A-Za-z0-9][A-Za-z0-9-]*(?:=[\x21-\x3c\x3e-\x7e]+)?$/.test(param)) {
      throw new SmtpTransportError('EENVELOPE', `invalid ${verb} parameter ${JSON.stringify(param)} (RFC 5321 §4.1.2 esmtp-param)`, 'command');
    }
  }
  return [`${verb}:<${address}>`, ...params].join(' ');
}

/** A first line that is no SMTP reply at all: the port speaks something else (a configuration problem). */
function notSmtp(connection: Connection, bytes: Buffer): TransportError {
  return new TransportError(
    'EWRONG_PROTOCOL',
    'greeting',
    `${connection.endpoint} sent ${shown(bytes)} where an SMTP greeting ("220 …", ${REPLY_GRAMMAR}) belongs: ` +
      "this port does not seem to speak SMTP; check the endpoint's port",
    { host: connection.host, port: connection.port },
  );
}

/**
 * The message's Message-ID, for the transcript line that stands for its data: later lines (an IMAP SEARCH, a POP3
 * TOP) look for it, so a reader can tie them to this message. A Message-ID names a message, it is no secret.
 */
function messageIdNote(raw: Buffer): string {
  const id = messageIdOfMessage(raw);
  return id === undefined ? '' : `, Message-ID ${id}`;
}
