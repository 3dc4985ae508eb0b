import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { TransportError, endpoint } from './errors.js';
import type { ProtocolName } from '../core/protocols.js';
import type { Security } from '../core/protocols.js';
import { quoted } from '../core/text.js';

/**
 * Greetings identify protocols (DESIGN principle 17). A server's first line
 * says what it speaks: "* OK" / "* PREAUTH" / "* BYE" is IMAP, "+OK" / "-ERR"
 * POP3, "220" / "554" (and "421") SMTP, and bytes that open a TLS record
 * (0x16 0x03 handshake, 0x15 0x03 alert) a port that wants TLS first. A
 * greeting of the wrong kind is a configuration problem with a hint, never an
 * RFC failure of the server. One module for every client: our POP3 and raw
 * IMAP clients, imapflow's sessions and the SMTP client.
 */
export type MailProtocol = ProtocolName;
export type GreetingKind = MailProtocol | 'tls';

const NAMES: Readonly<Record<MailProtocol, string>> = { pop3: 'POP3', imap: 'IMAP', smtp: 'SMTP' };
const GREETINGS: Readonly<Record<MailProtocol, string>> = { pop3: '"+OK …"', imap: '"* OK", "* PREAUTH" or "* BYE"', smtp: '"220 …"' };
/**
 * The outline of each protocol's reply lines (RFC 1939 §3 status indicator,
 * RFC 9051 §2.2.2 untagged "* " or a tagged status, RFC 5321 §4.2 three-digit
 * code): a first line
 * with it comes from a server of that protocol, however broken the rest is.
 */
const SHAPES: Readonly<Record<MailProtocol, RegExp>> = {
  pop3: /^[+-][A-Za-z]/,
  imap: /^(?:\* \S|[A-Za-z0-9.]+ (?:OK|NO|BAD|BYE|PREAUTH)\b)/i,
  smtp: /^[2-5]\d\d(?:[ -]|\r?$)/,
};

/**
 * The status of an IMAP greeting line (RFC 9051 §9: greeting = "*" SP
 * (resp-cond-auth / resp-cond-bye) CRLF, resp-cond-auth = ("OK" / "PREAUTH")
 * SP resp-text, resp-cond-bye = "BYE" SP resp-text), upper-cased; undefined
 * for a line that is no IMAP greeting. The one definition for the clients,
 * the imapflow session and the lab's readiness check. Lenient about what
 * follows the status (a space, the line's end, or a "[" at once): it only says
 * that a port speaks IMAP; the protocol's parser judges the rest.
 */
export function imapGreetingStatus(line: string): 'OK' | 'PREAUTH' | 'BYE' | undefined {
  const status = /^\* (OK|PREAUTH|BYE)(?:[ \r\n[]|$)/i.exec(line)?.[1];
  return status === undefined ? undefined : (status.toUpperCase() as 'OK' | 'PREAUTH' | 'BYE');
}

export function greetingKind(first: string | Buffer): GreetingKind | undefined {
  const bytes = typeof first === 'string' ? Buffer.from(first, 'latin1') : first;
  if (bytes.length >= 2 && (bytes[0] === 0x16 || bytes[0] === 0x15) && bytes[1] === 0x03) return 'tls';
  const text = bytes.toString('latin1');
  if (imapGreetingStatus(text) !== undefined) return 'imap';
  if (/^(?:\+OK|-ERR)(?:[ \r\n]|$)/.test(text)) return 'pop3';
  if (/^(?:220|421|554)(?:[ \r\n-]|$)/.test(text)) return 'smtp';
  return undefined;
}

export interface GreetingEndpoint {
  readonly host: string;
  readonly port: number;
}

/**
 * EWRONG_PROTOCOL when `greeting` is that of another protocol (or of TLS), or
 * does not even have the shape of an `expected` greeting (NUL bytes, a banner
 * of some other service, binary): the port does not speak the protocol, a
 * configuration problem, never an RFC failure. Undefined when it is
 * `expected`'s, or has its shape but breaks its grammar ("* HELLO" for IMAP,
 * "+Ok" for POP3): then the protocol's own parser judges it, as a failure.
 */
export function wrongProtocolError(expected: MailProtocol, greeting: string | Buffer, where: GreetingEndpoint): TransportError | undefined {
  const kind = greetingKind(greeting);
  if (kind === expected) return undefined;
  const name = endpoint(where.host, where.port);
  if (kind === undefined) {
    const text = typeof greeting === 'string' ? greeting : greeting.toString('latin1');
    if (SHAPES[expected].test(text)) return undefined;
    const message = `${name} does not speak ${NAMES[expected]}: its first bytes ${shown(greeting)} are not a ${NAMES[expected]} greeting (${GREETINGS[expected]}); check the endpoint's host, port and security`;
    return new TransportError('EWRONG_PROTOCOL', 'greeting', message, { host: where.host, port: where.port });
  }
  const message =
    kind === 'tls'
      ? `${name} answered with a TLS record instead of a ${NAMES[expected]} greeting: this port wants TLS first; use security: tls`
      : `${name} greets in ${NAMES[kind]} (${shown(greeting)}), not ${NAMES[expected]}: this port speaks ${NAMES[kind]}; check the endpoint's port`;
  return new TransportError('EWRONG_PROTOCOL', 'greeting', message, { host: where.host, port: where.port });
}

/**
 * Whether the port answers a TLS ClientHello, tried on a fresh connection
 * after a plain-text client met only silence: an implicit-TLS port waits for
 * the client to speak first. Certificates do not matter here (nothing is
 * sent over it); any ServerHello, even one with a bad certificate, is TLS.
 */
export async function speaksTls(where: GreetingEndpoint, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
  const socket = tlsConnect({ host: where.host, port: where.port, rejectUnauthorized: false });
  return (await probe(socket, 'secureConnect', () => true, timeoutMs, signal)) ?? false;
}

/**
 * One short-lived connection that waits, bounded (at most 3 s), for `event`:
 * its value, or undefined on error, close, time-out or abort. Always
 * destroyed; an abort ends it at once, so an interrupted caller is not kept
 * alive by a side connection it no longer wants.
 */
function probe<T>(socket: Socket, event: string, value: (arg: unknown) => T, timeoutMs: number, signal?: AbortSignal): Promise<T | undefined> {
  return new Promise((resolve) => {
    const onAbort = (): void => done(undefined);
    const done = (result: T | undefined): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done(undefined), Math.min(timeoutMs, 3_000));
    if (signal?.aborted === true) return done(undefined);
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once(event, (arg: unknown) => done(value(arg)));
    socket.once('error', () => done(undefined));
    socket.once('close', () => done(undefined));
  });
}

/** For a plain-text client that got no greeting: EWRONG_PROTOCOL when the port turns out to want TLS first. */
export async function implicitTlsPortError(expected: MailProtocol, where: GreetingEndpoint, timeoutMs: number): Promise<TransportError | undefined> {
  if (!(await speaksTls(where, timeoutMs))) return undefined;
  return new TransportError(
    'EWRONG_PROTOCOL',
    'greeting',
    `${endpoint(where.host, where.port)} sent no ${NAMES[expected]} greeting but answers a TLS handshake: this port wants TLS first; use security: tls`,
    { host: where.host, port: where.port },
  );
}

/** Greeting failures already judged (Connection.readGreeting with a protocol): not probed a second time. */
const judged = new WeakSet<object>();

/**
 * For our own clients: a greeting timeout on a plain-text connection
 * (none/starttls) that an implicit-TLS port explains; undefined otherwise,
 * and for an error this was already asked about (the port is probed once).
 */
export async function silentGreeting(
  error: unknown,
  options: GreetingEndpoint & { readonly security: Security; readonly timeouts?: { readonly greeting?: number } },
  expected: MailProtocol,
): Promise<TransportError | undefined> {
  if (!(error instanceof TransportError) || error.code !== 'ETIMEOUT' || error.phase !== 'greeting' || options.security === 'tls') return undefined;
  if (judged.has(error)) return undefined;
  judged.add(error);
  return implicitTlsPortError(expected, options, options.timeouts?.greeting ?? 3_000);
}

/** What OpenSSL says when the "server hello" it read was a plain-text greeting. */
export function looksLikePlaintextReply(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return /wrong version number|packet length too long|unknown protocol|http request|record layer failure/i.test(message);
}

/**
 * The first bytes a port sends to a plain-text client, read on a fresh
 * connection. For a failure a library hides the greeting of (a TLS handshake
 * that read plain text, imapflow's greeting timeout): only on that failure, so
 * a working port costs nothing. Undefined when the port says nothing within
 * `timeoutMs` (as an implicit-TLS port does).
 */
export function readPlaintextGreeting(where: GreetingEndpoint, timeoutMs: number, signal?: AbortSignal): Promise<Buffer | undefined> {
  return probe(netConnect({ host: where.host, port: where.port }), 'data', (chunk) => chunk as Buffer, timeoutMs, signal);
}

/**
 * A TLS handshake that failed because the port speaks plain text: the hint
 * names what it speaks. Undefined unless the failure looks like that and the
 * port's plain greeting is recognisable.
 */
export async function plainTextPortError(
  expected: MailProtocol,
  cause: unknown,
  where: GreetingEndpoint,
  timeoutMs: number,
): Promise<TransportError | undefined> {
  if (!looksLikePlaintextReply(cause)) return undefined;
  const first = await readPlaintextGreeting(where, timeoutMs);
  const kind = first === undefined ? undefined : greetingKind(first);
  if (kind === undefined || kind === 'tls') return undefined;
  const name = endpoint(where.host, where.port);
  const fix = kind === expected ? 'use security: starttls or none' : "check the endpoint's port";
  return new TransportError(
    'EWRONG_PROTOCOL',
    'tls',
    `TLS handshake with ${name} failed: this port speaks plain-text ${NAMES[kind]}${kind === expected ? '' : `, not ${NAMES[expected]}`}; ${fix}`,
    { host: where.host, port: where.port, cause },
  );
}

function shown(greeting: string | Buffer): string {
  return quoted((typeof greeting === 'string' ? greeting : greeting.toString('latin1')).split(/\r?\n/)[0] ?? '', 60);
}
