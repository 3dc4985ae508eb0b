import { ImapReplyError, ImapSessionError } from '../protocols/imap/errors.js';
import { ImapSession } from '../protocols/imap/session.js';
import { Pop3Client } from '../protocols/pop3/client.js';
import { Pop3ReplyError } from '../protocols/pop3/errors.js';
import { SmtpClient, type SmtpAuthMechanism } from '../protocols/smtp/client.js';
import { resolveTimeouts, type Timeouts, type Transcript } from '../transport/index.js';
import { finding, type Finding, type Where } from './findings.js';
import type { PortReport } from './port-probe.js';

/** Who logs in: a target account's user and the password read from its password_env. */
export interface LoginCredentials {
  readonly role: string;
  readonly user: string;
  readonly password: string;
}

export interface LoginOptions {
  readonly credentials: LoginCredentials;
  /** The CA the port's TLS was judged with; the name checked is the one the probe checked. */
  readonly ca?: string;
  readonly timeouts?: Partial<Timeouts>;
  /** Must carry the run's Redactor: the clients mark the password secret as they send it. */
  readonly transcript: Transcript;
  readonly signal?: AbortSignal;
  /** Scrubs the password from a server's reply before it becomes evidence (a server may echo it). */
  readonly redact: (text: string) => string;
}

/**
 * A real login on one port, with the protocol's own client (src/protocols),
 * then a logout. Only after TLS, and only TLS that verified: on a port whose
 * TLS did not come up, or whose certificate cannot be checked, no password is
 * sent and the finding says why. The connection verifies the certificate
 * again (verify on), against the name the probe checked.
 */
export async function loginCheck(port: PortReport, options: LoginOptions): Promise<Finding> {
  const where: Where = { host: port.host, address: port.address, port: port.port };
  const notTried = (why: string): Finding => finding('login-not-tried', where, why, { why });
  if (port.tls?.outcome !== 'ok' || port.tls.info === undefined) {
    const tls =
      port.tls === undefined
        ? 'the port did not get as far as TLS'
        : `TLS did not come up (${port.tls.outcome}${port.tls.error === undefined ? '' : `: ${port.tls.error}`})`;
    return notTried(`${tls}; a password is sent only inside TLS`);
  }
  if (!port.tls.info.authorized) {
    return notTried(
      `the certificate did not verify (${port.tls.info.authorizationError ?? 'unknown reason'}); no password goes to a server whose certificate cannot be checked`,
    );
  }
  const endpoint = {
    host: port.address,
    port: port.port,
    security: port.expected.security,
    tls: { verify: true, servername: port.tls.info.checkedName, ...(options.ca === undefined ? {} : { ca: options.ca }) },
  } as const;
  const timeouts = resolveTimeouts(options.timeouts);
  const session = `login ${port.address}:${port.port}`;
  const { user, password } = options.credentials;
  const signal = options.signal === undefined ? {} : { signal: options.signal };
  const refused = (reply: string): Finding => finding('login-refused', where, options.redact(reply), { user });
  const ok = (how: string): Finding => finding('login-ok', where, how, { user });
  try {
    switch (port.expected.protocol) {
      case 'smtp': {
        const client = await SmtpClient.open({ endpoint, transcript: options.transcript, session, timeouts: { ...timeouts, dns: timeouts.tcp }, ...signal });
        try {
          const offered = client.authMechanisms.map((m) => m.toUpperCase());
          const mechanism: SmtpAuthMechanism | undefined = offered.includes('PLAIN') ? 'PLAIN' : offered.includes('LOGIN') ? 'LOGIN' : undefined;
          if (mechanism === undefined) return notTried(`the server offers no PLAIN or LOGIN after TLS (AUTH: ${offered.join(' ') || 'none'})`);
          const reply = await client.auth(mechanism, user, password);
          return reply.code >= 200 && reply.code < 300 ? ok(`AUTH ${mechanism}: ${reply.raw}`) : refused(`AUTH ${mechanism}: ${reply.raw}`);
        } finally {
          await client.quit().catch(() => client.destroy());
        }
      }
      case 'pop3': {
        const client = await Pop3Client.connect({ ...endpoint, timeouts, transcript: options.transcript, session, ...signal });
        try {
          await client.login(user, password, 'auto');
          return ok(client.saslMechanisms.includes('PLAIN') ? 'AUTH PLAIN: +OK' : 'USER/PASS: +OK');
        } catch (error) {
          if (error instanceof Pop3ReplyError) return refused(error.message);
          throw error;
        } finally {
          await client.quit().catch(() => client.drop());
        }
      }
      case 'imap': {
        let imap: ImapSession;
        try {
          imap = await ImapSession.open({
            ...endpoint,
            timeouts: { ...timeouts, push: timeouts.command },
            user,
            password,
            transcript: options.transcript,
            session,
            ...signal,
          });
        } catch (error) {
          if ((error instanceof ImapSessionError && error.code === 'EAUTH') || error instanceof ImapReplyError) return refused(error.message);
          throw error;
        }
        await imap.logout().catch(() => undefined);
        return ok('LOGIN: OK');
      }
    }
  } catch (error) {
    if (options.signal?.aborted === true) throw error;
    return notTried(`the login connection failed: ${options.redact(error instanceof Error ? error.message : String(error))}`);
  }
}
