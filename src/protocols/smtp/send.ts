import { createTransport } from 'nodemailer';
import { endpoint as hostPort } from '../../transport/errors.js';
import { implicitTlsPortError, plainTextPortError, wrongProtocolError } from '../../transport/greeting-kind.js';
import { timerDelay } from '../../transport/timeouts.js';
import { sniName, tlsFailureHint } from '../../transport/tls.js';
import type { Transcript } from '../../transport/transcript.js';

/**
 * Delivery of test messages through SMTP or submission with nodemailer.
 * nodemailer speaks SMTP well and hides AUTH secrets in its own log; we feed
 * its transaction log into the transcript and classify its errors into the
 * verdicts mailprobe uses.
 */
export interface SmtpEndpoint {
  readonly host: string;
  readonly port: number;
  readonly security: 'tls' | 'starttls' | 'none';
  readonly tls: { readonly verify: boolean; readonly ca?: string; readonly servername?: string };
}

export interface SmtpSendOptions {
  readonly endpoint: SmtpEndpoint;
  readonly auth?: { readonly user: string; readonly password: string };
  readonly envelope: { readonly from: string; readonly to: readonly string[] };
  readonly raw: Buffer;
  readonly transcript: Transcript;
  readonly session: string;
  readonly timeouts: SmtpTimeouts;
  readonly signal?: AbortSignal;
}

export interface SmtpTimeouts {
  readonly tcp: number;
  readonly greeting: number;
  readonly command: number;
  readonly dns: number;
  /** The TLS handshake (implicit TLS or STARTTLS); default the TCP timeout. */
  readonly tls?: number;
}

/**
 * nodemailer's connectionTimeout is not the TCP connect alone: it bounds the
 * whole setup, from the DNS lookup through the greeting to the end of a
 * STARTTLS upgrade, and cuts greetingTimeout short when less is left. Giving
 * it timeouts.tcp made the greeting wait end after timeouts.tcp. It gets the
 * sum of the phases it covers instead, so each phase keeps its own bound
 * (greetingTimeout still ends the greeting wait on its own).
 */
export function setupTimeout(timeouts: SmtpTimeouts, security: SmtpEndpoint['security']): number {
  const tls = timeouts.tls ?? timeouts.tcp;
  const connect = timeouts.dns + timeouts.tcp + timeouts.greeting;
  // STARTTLS: EHLO and STARTTLS are answered, then the handshake.
  const secure = security === 'tls' ? tls : security === 'starttls' ? 2 * timeouts.command + tls : 0;
  return timerDelay(connect + secure);
}

export interface SmtpSendResult {
  readonly accepted: string[];
  readonly rejected: string[];
  /** The server's final reply to the message data, e.g. "250 2.0.0 Ok: queued as …". */
  readonly response: string;
  readonly sentAt: number;
}

/** The server refused: 4xx is temporary (inconclusive), 5xx permanent. */
export class SmtpReplyError extends Error {
  readonly code = 'ESMTP_REPLY';
  constructor(
    readonly replyCode: number,
    readonly reply: string,
    readonly command: string,
  ) {
    super(`server answered ${command} with: ${reply}`);
    this.name = 'SmtpReplyError';
  }
  get temporary(): boolean {
    return this.replyCode >= 400 && this.replyCode < 500;
  }
}

/** The exchange could not take place: connect, TLS, timeout, authentication. */
export class SmtpTransportError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly phase: string,
  ) {
    super(message);
    this.name = 'SmtpTransportError';
  }
}

interface NodemailerError extends Error {
  code?: string;
  responseCode?: number;
  response?: string;
  command?: string;
  /** nodemailer: which timer fired ("GREETING_TIMEOUT", "CONNECT_TIMEOUT", "SOCKET_TIMEOUT", …). */
  timeoutType?: string;
}

export async function sendRawMessage(options: SmtpSendOptions): Promise<SmtpSendResult> {
  const { endpoint, transcript, session } = options;
  const log = (level: 'info' | 'debug' | 'warn' | 'error') => (entry: { tnx?: string }, message: string, ...args: unknown[]) => {
    const text = args.length > 0 ? formatLog(message, args) : String(message);
    for (const line of text.split(/\r?\n/)) {
      if (entry.tnx === 'client') transcript.client(session, line);
      else if (entry.tnx === 'server') transcript.server(session, line);
      else if (level !== 'debug') transcript.info(session, line);
    }
  };
  const transporter = createTransport({
    host: endpoint.host,
    port: endpoint.port,
    secure: endpoint.security === 'tls',
    requireTLS: endpoint.security === 'starttls',
    ignoreTLS: endpoint.security === 'none',
    tls: {
      rejectUnauthorized: endpoint.tls.verify,
      ...(endpoint.tls.ca ? { ca: endpoint.tls.ca } : {}),
      ...(endpoint.tls.servername ? { servername: endpoint.tls.servername } : {}),
    },
    ...(options.auth ? { auth: { user: options.auth.user, pass: options.auth.password } } : {}),
    connectionTimeout: setupTimeout(options.timeouts, endpoint.security),
    greetingTimeout: options.timeouts.greeting,
    socketTimeout: options.timeouts.command,
    dnsTimeout: options.timeouts.dns,
    name: 'mailprobe.invalid',
    // transactionLog gives client/server lines; `debug` would also log message content.
    transactionLog: true,
    logger: { info: log('info'), debug: log('debug'), warn: log('warn'), error: log('error'), trace: () => {}, fatal: log('error') } as never,
  });
  const abort = () => transporter.close();
  options.signal?.addEventListener('abort', abort, { once: true });
  try {
    const info = await transporter.sendMail({
      envelope: { from: options.envelope.from, to: [...options.envelope.to] },
      raw: options.raw,
    });
    return {
      accepted: (info.accepted ?? []).map(String),
      rejected: (info.rejected ?? []).map(String),
      response: String(info.response ?? ''),
      sentAt: Date.now(),
    };
  } catch (err) {
    throw await sendFailure(err as NodemailerError, options);
  } finally {
    options.signal?.removeEventListener('abort', abort);
    transporter.close();
  }
}

function formatLog(message: string, args: unknown[]): string {
  let i = 0;
  return message.replace(/%[sd]/g, () => String(args[i++]));
}

/** A wrong port first (a greeting of another protocol, or plain text where TLS was asked for), then the rest. */
async function sendFailure(err: NodemailerError, options: SmtpSendOptions): Promise<Error> {
  const { endpoint } = options;
  // nodemailer: "Invalid greeting. response=+OK …" (EPROTOCOL, command CONN).
  if (err.command === 'CONN' && typeof err.response === 'string') {
    const wrong = wrongProtocolError('smtp', err.response, endpoint);
    if (wrong !== undefined) return wrong;
  }
  if (endpoint.security === 'tls') {
    const plain = await plainTextPortError('smtp', err, endpoint, options.timeouts.greeting);
    if (plain !== undefined) return plain;
  } else if (err.code === 'ETIMEDOUT' && err.command === 'CONN') {
    // No greeting on a plain-text connection: an implicit-TLS port waits for the client's ClientHello.
    const tls = await implicitTlsPortError('smtp', endpoint, options.timeouts.greeting);
    if (tls !== undefined) return tls;
  }
  return classifySmtpError(err, endpoint, options.timeouts);
}

/**
 * nodemailer's error → mailprobe's. TLS comes first: a refused STARTTLS
 * carries the server's reply code, but it means the connection could not be
 * secured (errored, as POP3 STLS and IMAP STARTTLS are), not a refused
 * message. Exported for the unit tests.
 */
export function classifySmtpError(err: NodemailerError, endpoint: SmtpEndpoint, timeouts?: SmtpTimeouts): Error {
  const where = hostPort(endpoint.host, endpoint.port);
  const code = typeof err.responseCode === 'number' ? err.responseCode : undefined;
  if (err.code === 'ETLS' || err.command === 'STARTTLS') {
    // RFC 3207 §4: "454 TLS not available due to temporary reason" is a temporary refusal.
    if (code !== undefined && code >= 400 && code < 500) return new SmtpReplyError(code, err.response ?? err.message, 'STARTTLS');
    if (code !== undefined) {
      return new SmtpTransportError(
        'ESTARTTLS',
        `${where} refused STARTTLS: ${err.response ?? err.message}; the connection cannot be secured, so nothing was sent ` +
          '(use security: tls on the submissions port, or security: none if plaintext is really intended)',
        'starttls',
      );
    }
    return tlsError(err, endpoint);
  }
  if (code !== undefined && code >= 400 && err.code !== 'EAUTH') {
    return new SmtpReplyError(code, err.response ?? err.message, err.command ?? 'DATA');
  }
  switch (err.code) {
    case 'EAUTH':
      // A 4xx to AUTH is a temporary refusal; anything else means the credentials or mechanism are wrong.
      if (code !== undefined && code < 500) {
        return new SmtpReplyError(code, err.response ?? err.message, 'AUTH');
      }
      return new SmtpTransportError('EAUTH', `authentication failed: ${err.response ?? err.message}`, 'auth');
    case 'ETIMEDOUT':
      if (err.timeoutType === 'GREETING_TIMEOUT') {
        const bound = timeouts === undefined ? '' : ` within ${timeouts.greeting} ms (timeouts.greeting)`;
        return new SmtpTransportError('ETIMEOUT', `no greeting from ${where}${bound}: the server accepted TCP but said nothing`, 'greeting');
      }
      if (err.timeoutType === 'CONNECT_TIMEOUT') return new SmtpTransportError('ETIMEOUT', `timed out connecting to ${where}: ${err.message}`, 'tcp');
      return new SmtpTransportError('ETIMEOUT', `timed out: ${err.message}`, 'command');
    case 'EDNS':
      return new SmtpTransportError('EDNS', err.message, 'dns');
    case 'ECONNECTION':
    case 'ESOCKET':
      if (/certificate|self.signed|SSL|TLS/i.test(err.message)) return tlsError(err, endpoint);
      return new SmtpTransportError('ECONNECTION', err.message, 'tcp');
    default:
      return new SmtpTransportError(err.code ?? 'ESMTP', err.message, 'command');
  }
}

function tlsError(err: NodemailerError, endpoint: SmtpEndpoint): SmtpTransportError {
  const checkedName = sniName(endpoint.host, endpoint.tls) ?? endpoint.host;
  return new SmtpTransportError(
    'ETLS',
    `TLS with ${hostPort(endpoint.host, endpoint.port)} failed: ${err.message}${tlsFailureHint(err, checkedName, endpoint.tls.verify)}`,
    endpoint.security === 'tls' ? 'tls' : 'starttls',
  );
}
