import { connect } from '../../transport/connect.js';
import type { Connection } from '../../transport/connection.js';
import { TransportError, type Phase } from '../../transport/errors.js';
import { silentGreeting, wrongProtocolError } from '../../transport/greeting-kind.js';
import type { Limits } from '../../transport/limits.js';
import type { Transcript } from '../../transport/transcript.js';
import { frameMessageData } from './data.js';
import { SmtpProtocolError, SmtpReplyError, SmtpTransportError } from './errors.js';
import { readReply, REPLY_GRAMMAR, shown, type SmtpReply } from './reply.js';

export interface SmtpEndpoint {
  readonly host: string;
  readonly port: number;
  readonly security: 'tls' | 'starttls' | 'none';
  readonly tls: { readonly verify: boolean; readonly ca?: string; readonly servername?: string };
}

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

/** The name mailprobe gives in EHLO/HELO: a reserved name (RFC 2606) that cannot be anybody's host. */
export const CLIENT_NAME = 'mailprobe.invalid';
/** RFC 5321 §4.5.3.1.4: a command line, its CRLF included, is at most 512 octets. */
const MAX_COMMAND_LINE = 512;

/**
 * mailprobe's own SMTP client (RFC 5321, STARTTLS per RFC 3207, AUTH PLAIN and
 * LOGIN per RFC 4954) on the transport layer, so every byte goes through
 * mailprobe's line reader, limits, deadlines, buffer meter and transcript.
 * One command at a time, no PIPELINING: a conformance tool reads every reply
 * before it sends the next command.
 */
export class SmtpClient {
  readonly #connection: Connection;
  readonly #endpoint: SmtpEndpoint;
  /** EHLO keywords (upper case) → their parameters; empty after HELO or before EHLO. */
  #extensions = new Map<string, string[]>();

  private constructor(connection: Connection, endpoint: SmtpEndpoint) {
    this.#connection = connection;
    this.#endpoint = endpoint;
  }

  /** DNS → TCP → (TLS) → greeting → EHLO; for "starttls": STARTTLS → TLS → EHLO again. */
  static async open(options: SmtpClientOptions): Promise<SmtpClient> {
    const { endpoint, timeouts } = options;
    const connectTimeouts = { dns: timeouts.dns, tcp: timeouts.tcp, tls: timeouts.tls ?? timeouts.tcp, greeting: timeouts.greeting, command: timeouts.command };
    const connection = await connect({
      host: endpoint.host,
      port: endpoint.port,
      security: endpoint.security,
      tls: { verify: endpoint.tls.verify, ...(endpoint.tls.ca ? { ca: endpoint.tls.ca } : {}), ...(endpoint.tls.servername ? { servername: endpoint.tls.servername } : {}) },
      timeouts: connectTimeouts,
      ...(options.limits ? { limits: options.limits } : {}),
      transcript: options.transcript,
      session: options.session,
      ...(options.signal ? { signal: options.signal } : {}),
      protocol: 'smtp',
    });
    const client = new SmtpClient(connection, endpoint);
    try {
      await client.#greeting();
      await client.#hello();
      if (endpoint.security === 'starttls') await client.#startTls();
      return client;
    } catch (error) {
      connection.destroy();
      throw (await silentGreeting(error, { ...endpoint, timeouts: connectTimeouts }, 'smtp')) ?? error;
    }
  }

  /** The EHLO keywords of the last EHLO, upper case. */
  get extensions(): string[] {
    return [...this.#extensions.keys()];
  }

  /** SASL mechanisms of the EHLO "AUTH" line, upper case ("AUTH=PLAIN", an old form, is read too). */
  get authMechanisms(): string[] {
    return (this.#extensions.get('AUTH') ?? []).map((m) => m.toUpperCase());
  }

  get connection(): Connection {
    return this.#connection;
  }

  /**
   * AUTH with PLAIN (RFC 4616, initial response) when EHLO offers it, else
   * LOGIN (PLAIN first: one round trip). Every token goes out marked secret: the
   * transcript shows [redacted] and the run's redactor learns the exact token.
   */
  async authenticate(user: string, password: string): Promise<void> {
    for (const [what, value] of [['user name', user], ['password', password]] as const) {
      if (/[\r\n\0]/.test(value)) throw new SmtpTransportError('EAUTH', `the ${what} contains CR, LF or NUL, which cannot be sent`, 'auth');
    }
    if (!this.#extensions.has('AUTH')) {
      throw new SmtpTransportError(
        'EAUTH',
        `${this.#connection.endpoint} does not advertise AUTH in its EHLO reply (RFC 4954 §3), so mailprobe cannot log in; ` +
          'nothing was sent (set auth: false on the step if this endpoint takes mail without a login)',
        'auth',
      );
    }
    const mechanisms = this.authMechanisms;
    if (mechanisms.includes('PLAIN')) return this.#authPlain(user, password);
    if (mechanisms.includes('LOGIN')) return this.#authLogin(user, password);
    throw new SmtpTransportError(
      'EAUTH',
      `${this.#connection.endpoint} offers AUTH ${mechanisms.join(' ') || '(no mechanism)'}, but mailprobe logs in with PLAIN or LOGIN only`,
      'auth',
    );
  }

  /** MAIL FROM, one RCPT TO per recipient (each judged), DATA, the message, the final reply. */
  async send(envelope: { readonly from: string; readonly to: readonly string[] }, raw: Buffer): Promise<SmtpSendResult> {
    for (const address of [envelope.from, ...envelope.to]) {
      if (/[\r\n<>]/.test(address)) throw new SmtpTransportError('EENVELOPE', `invalid envelope address ${JSON.stringify(address)}`, 'command');
    }
    if (envelope.to.length === 0) throw new SmtpTransportError('EENVELOPE', 'no recipients', 'command');
    // RFC 6152: 8-bit content is announced when the server offers 8BITMIME.
    const eightBit = raw.some((octet) => octet >= 0x80) && this.#extensions.has('8BITMIME') ? ' BODY=8BITMIME' : '';
    const mail = await this.#command(`MAIL FROM:<${envelope.from}>${eightBit}`, 'MAIL FROM');
    if (mail.code >= 300) throw this.#refusal(mail, 'MAIL FROM', 2);

    const accepted: string[] = [];
    const rejected: string[] = [];
    const refusals: SmtpReply[] = [];
    for (const to of envelope.to) {
      const reply = await this.#command(`RCPT TO:<${to}>`, 'RCPT TO');
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

    const data = await this.#command('DATA', 'DATA');
    // RFC 5321 §3.3: "message data MUST NOT be sent unless a 354 reply is received".
    if (data.code !== 354) throw this.#refusal(data, 'DATA', 3);
    const framed = frameMessageData(raw);
    this.#connection.info(
      `[message data: ${raw.length} octets, ${framed.lines} lines${framed.stuffed > 0 ? `, ${framed.stuffed} dot-stuffed` : ''}; not shown]`,
    );
    await this.#connection.writeBytes(framed.bytes, { phase: 'command', command: 'the message data' });
    this.#connection.transcript.client(this.#connection.session, '.');
    const final = await readReply(this.#connection, { command: 'DATA (end of data)', budget: this.#connection.replyBudget('the end of data', 'reply') });
    if (final.code >= 300) throw this.#refusal(final, 'DATA', 2);
    return { accepted, rejected, response: final.raw, sentAt: Date.now() };
  }

  /** QUIT and close. The message is already accepted: a bad or missing 221 is noted, not thrown. */
  async quit(): Promise<void> {
    try {
      const reply = await this.#command('QUIT', 'QUIT');
      if (reply.code !== 221) this.#connection.info(`QUIT answered ${reply.code}, not 221 (RFC 5321 §4.1.1.10); ignored, the message was accepted`);
    } catch (error) {
      this.#connection.info(`no clean QUIT: ${(error as Error).message}`);
    } finally {
      await this.#connection.close();
    }
  }

  destroy(): void {
    this.#connection.destroy();
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
    if (greeting.code >= 300) {
      const refusal = this.#refusal(greeting, 'CONN', 2);
      if (refusal instanceof SmtpReplyError) await this.#bestEffortQuit();
      throw refusal;
    }
  }

  /** EHLO; HELO when the server does not know EHLO (500/502: RFC 5321 §3.2, §4.1.1.1). */
  async #hello(): Promise<void> {
    this.#extensions = new Map();
    const ehlo = await this.#command(`EHLO ${CLIENT_NAME}`, 'EHLO');
    if (ehlo.code < 300) {
      this.#extensions = parseExtensions(ehlo);
      return;
    }
    if (ehlo.code !== 500 && ehlo.code !== 502) throw this.#refusal(ehlo, 'EHLO', 2);
    if (this.#endpoint.security === 'starttls' && this.#connection.tls === undefined) {
      throw new SmtpTransportError(
        'ESTARTTLS',
        `${this.#connection.endpoint} answered EHLO with ${ehlo.code}, so it offers no extensions and STARTTLS (RFC 3207) cannot be used; ` +
          'the connection cannot be secured, so nothing was sent',
        'starttls',
      );
    }
    this.#connection.info(`EHLO answered ${ehlo.code}: falling back to HELO (RFC 5321 §3.2)`);
    const helo = await this.#command(`HELO ${CLIENT_NAME}`, 'HELO');
    if (helo.code >= 300) throw this.#refusal(helo, 'HELO', 2);
  }

  /** RFC 3207 §4: STARTTLS, the handshake, and EHLO again with what was known before forgotten (§4.2). */
  async #startTls(): Promise<void> {
    const where = this.#connection.endpoint;
    if (!this.#extensions.has('STARTTLS')) {
      throw new SmtpTransportError(
        'ESTARTTLS',
        `${where} does not advertise STARTTLS in its EHLO reply, so the connection cannot be secured and nothing was sent ` +
          '(use security: tls on the submissions port, or security: none if plaintext is really intended)',
        'starttls',
      );
    }
    const reply = await this.#command('STARTTLS', 'STARTTLS', 'starttls');
    // RFC 3207 §4: "454 TLS not available due to temporary reason" is a temporary refusal.
    if (reply.code >= 400 && reply.code < 500) throw new SmtpReplyError(reply.code, reply.raw, 'STARTTLS');
    if (reply.code >= 500) {
      throw new SmtpTransportError(
        'ESTARTTLS',
        `${where} refused STARTTLS: ${reply.raw}; the connection cannot be secured, so nothing was sent ` +
          '(use security: tls on the submissions port, or security: none if plaintext is really intended)',
        'starttls',
      );
    }
    if (reply.code >= 300) throw this.#refusal(reply, 'STARTTLS', 2);
    // Refuses any byte the server sent after its go-ahead (CVE-2011-0411).
    await this.#connection.upgradeToTls();
    await this.#hello();
  }

  async #authPlain(user: string, password: string): Promise<void> {
    // RFC 4616 §2: [authzid] NUL authcid NUL passwd; no authzid: the server derives it from the authcid.
    const token = Buffer.from(`\0${user}\0${password}`, 'utf8').toString('base64');
    const command = 'AUTH PLAIN';
    let reply: SmtpReply;
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
    this.#authOutcome(reply, command);
  }

  /** The LOGIN mechanism: user name, then password, each base64 after a 334 challenge. */
  async #authLogin(user: string, password: string): Promise<void> {
    const command = 'AUTH LOGIN';
    let reply = await this.#command(command, command);
    if (reply.code === 334) reply = await this.#command(Buffer.from(user, 'utf8').toString('base64'), command);
    if (reply.code === 334) {
      const token = Buffer.from(password, 'utf8').toString('base64');
      reply = await this.#command(token, command, 'command', token);
    }
    this.#authOutcome(reply, command);
  }

  #authOutcome(reply: SmtpReply, command: string): void {
    if (reply.code >= 200 && reply.code < 300) return;
    if (reply.code >= 400 && reply.code < 500) throw new SmtpReplyError(reply.code, reply.raw, command);
    if (reply.code === 334) {
      this.#connection.destroy();
      throw new SmtpTransportError('EAUTH', `authentication failed: the server sent another challenge after the last response (${reply.raw})`, 'auth');
    }
    throw new SmtpTransportError('EAUTH', `authentication failed: ${reply.raw}`, 'auth');
  }

  /**
   * One command and its whole reply, within the reply's deadline. `secret`:
   * the part of the line the transcript shows as [redacted] (and the run's
   * redactor learns, so an echo of it is scrubbed too).
   */
  async #command(line: string, name: string, phase: Phase = 'command', secret?: string): Promise<SmtpReply> {
    this.#connection.writeLine(line, { command: name, ...(secret === undefined ? {} : { secret }) });
    return readReply(this.#connection, { command: name, phase, budget: this.#connection.replyBudget(name, 'reply') });
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
      `${command} was answered ${reply.code}, a code it cannot have (a ${expected}yz reply was due): ${JSON.stringify(reply.raw.split('\n')[0] ?? '')}`,
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

/** RFC 5321 §4.1.1.1 ehlo-line = ehlo-keyword *( SP ehlo-param ); the first line is the server's name. */
function parseExtensions(reply: SmtpReply): Map<string, string[]> {
  const extensions = new Map<string, string[]>();
  for (const line of reply.lines.slice(1)) {
    const words = line.trim().split(/[\s=]+/).filter((w) => w !== '');
    const keyword = words[0]?.toUpperCase();
    if (keyword !== undefined && !extensions.has(keyword)) extensions.set(keyword, words.slice(1));
  }
  return extensions;
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
