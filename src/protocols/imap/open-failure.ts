import { quoted } from '../../core/text.js';
import { starttlsInjectionError, TransportError } from '../../transport/errors.js';
import { imapGreetingStatus, implicitTlsPortError, plainTextPortError, wrongProtocolError } from '../../transport/greeting-kind.js';
import type { ImapflowTransport } from '../../transport/imapflow-transport.js';
import type { Limits } from '../../transport/limits.js';
import { sniName, tlsErrorCode, tlsFailureHint } from '../../transport/tls.js';
import { ImapReplyError, ImapSessionError } from './errors.js';
import { limitError } from './imapflow-limits.js';
import type { SessionDeadlines } from './session-deadlines.js';
import type { ImapSessionOptions } from './session.js';

/**
 * Why an imapflow session could not be opened, named as mailprobe names it
 * (phase, code, hint), for ImapSession.open.
 */
/**
 * Why a session could not be opened, in mailprobe's terms: what mailprobe
 * itself saw first (a deadline, a limit, a STARTTLS injection, the port's
 * first bytes), then what imapflow reported. Only a real certificate failure
 * gets the certificate hint.
 */
export async function connectFailure(
  err: unknown,
  options: ImapSessionOptions,
  transport: ImapflowTransport,
  deadlines: SessionDeadlines,
  failure: Error | undefined,
  limits: Limits,
): Promise<Error> {
  // Cancelled (Ctrl-C): say so at once, without probing the port.
  if (failure instanceof ImapSessionError && failure.code === 'EABORTED') return failure;
  const where = { host: options.host, port: options.port };
  const first = transport.firstBytes;
  const code = (err as { code?: string } | undefined)?.code;
  // Connected (the transport's phases are over) but never greeted.
  const noGreeting = transport.phase === 'greeting' && !deadlines.greeted;
  if (noGreeting && first !== undefined && first.length > 0) {
    // The port said something that is not an IMAP greeting.
    const wrong = wrongProtocolError('imap', first, where) ?? notImapGreeting(first, options);
    if (wrong !== undefined) return wrong;
  }
  if (transport.injectedBytes > 0 || code === 'STARTTLS_INJECTION') return starttlsInjection(options, transport.injectedBytes);
  if (noGreeting && (first === undefined || first.length === 0) && options.security !== 'tls') {
    // Silence: an implicit-TLS port says nothing until the client speaks.
    const wrong = await implicitTlsPortError('imap', where, options.timeouts.tls);
    if (wrong !== undefined) return wrong;
  }
  if (failure !== undefined) return asSessionError(failure);
  if (transport.failure !== undefined) return asSessionError(transport.failure);
  const limit = limitError(err, deadlines.phase, `${options.host}:${options.port}`, limits);
  if (limit !== undefined) return limit;
  if (options.security === 'tls') {
    const plain = await plainTextPortError('imap', err, where, options.timeouts.greeting);
    if (plain !== undefined) return plain;
  }
  return connectError(err, options);
}

/**
 * A first line in IMAP's untagged form ("* …") that is no IMAP greeting: an
 * IMAP server breaking the greeting grammar, a failed check. Bytes of any
 * other shape were already named by wrongProtocolError as a port that does
 * not speak IMAP (a configuration problem, errored).
 */
export function notImapGreeting(first: Buffer, options: ImapSessionOptions): Error | undefined {
  const line = first.toString('latin1').split(/\r?\n/)[0] ?? '';
  if (imapGreetingStatus(line) !== undefined) return undefined;
  const shown = quoted(line, 60);
  return new ImapSessionError(
    'EIMAP_MALFORMED',
    `${options.host}:${options.port} greeted with ${shown}, which is not an IMAP greeting`,
    'greeting',
    GREETING_RULE,
  );
}

const GREETING_RULE = 'RFC 9051 §9: greeting = "*" SP (resp-cond-auth / resp-cond-bye) CRLF, resp-cond-auth = ("OK" / "PREAUTH") SP resp-text';

export function starttlsInjection(options: ImapSessionOptions, octets: number): ImapSessionError {
  const error = starttlsInjectionError(options.host, options.port, octets);
  return new ImapSessionError(error.code, error.message, error.phase);
}

export function asSessionError(error: Error): Error {
  if (error instanceof ImapSessionError || error instanceof ImapReplyError) return error;
  if (error instanceof TransportError) return new ImapSessionError(error.code, error.message, error.phase);
  return error;
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
