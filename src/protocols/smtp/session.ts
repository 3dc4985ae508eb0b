import { capabilityName } from '../../core/text.js';
import type { SessionKindSpec, SessionOpenContext } from '../module.js';
import { SmtpClient } from './client.js';

/**
 * A named SMTP session ("the laptop's outgoing server") for step-by-step
 * scenarios. It opens the way the endpoint says, like a POP3 or IMAP session:
 * connect (implicit TLS on `tls`), the greeting, EHLO, and on a `starttls`
 * endpoint STARTTLS and EHLO again (RFC 3207 §4.2). It never logs in on its
 * own: an MX port takes mail without AUTH, and whether a server refuses a
 * foreign recipient *without* AUTH is what the relay check asks. AUTH is the
 * smtp.auth step.
 *
 * It keeps the open transaction (who MAIL named, which RCPTs were accepted),
 * because mailprobe only ever sends data to the target's own accounts: a
 * recipient it could not clean up after never gets a message.
 */
export class SmtpSession {
  /** The recipients the server accepted in the open transaction (since MAIL, until RSET or the end of DATA). */
  #recipients: string[] = [];
  #mailFrom: string | undefined;

  constructor(
    readonly label: string,
    readonly client: SmtpClient,
  ) {}

  get closed(): boolean {
    return this.client.connection.closed;
  }

  get mailFrom(): string | undefined {
    return this.#mailFrom;
  }

  get recipients(): readonly string[] {
    return this.#recipients;
  }

  /** MAIL was accepted: a new transaction (RFC 5321 §4.1.1.2 clears the buffers). */
  began(from: string): void {
    this.#mailFrom = from;
    this.#recipients = [];
  }

  accepted(recipient: string): void {
    this.#recipients.push(recipient);
  }

  /** RSET, the end of DATA, EHLO or STARTTLS: no transaction is open any more. */
  ended(): void {
    this.#mailFrom = undefined;
    this.#recipients = [];
  }
}

export const smtpSession: SessionKindSpec<SmtpSession> = {
  async open(ctx: SessionOpenContext) {
    const client = await SmtpClient.open({
      endpoint: ctx.endpoint,
      transcript: ctx.transcript,
      session: ctx.label,
      timeouts: ctx.timeouts,
      signal: ctx.signal,
    });
    const session = new SmtpSession(ctx.label, client);
    return {
      session,
      announced: {
        greeting: client.banner?.raw ?? '',
        // The EHLO the steps will use: after STARTTLS on a starttls endpoint, so `requires` judges what a client can use.
        capabilities: client.extensions.map(capabilityName),
      },
    };
  },
  isOpen: (session) => !session.closed,
  close: async (session) => {
    if (!session.closed) await session.client.quit();
  },
  discard: async (session) => session.client.destroy(),
};
