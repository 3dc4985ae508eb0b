import type { FakeSession, KeyPair } from '../support/fake-line-server.js';
import { FakeLineServer } from '../support/fake-line-server.js';
import { smtpFaithful, unstuffLines, type SmtpDialogue } from '../support/smtp-dialogue.js';

/**
 * A scriptable SMTP server on FakeLineServer for the client's tests: the
 * shared faithful dialogue (test/support/smtp-dialogue.ts; STARTTLS when keys
 * are given) where any verb can be answered by the test instead. `messages` holds what DATA delivered, exactly
 * as received on the wire (stuffed, one entry per line) and unstuffed.
 */
export type SmtpHandler = (session: FakeSession, line: string, fake: SmtpFake) => void | Promise<void>;

export interface SmtpFakeOptions {
  readonly greeting?: string | ((session: FakeSession) => void | Promise<void>);
  /** Answers by verb (EHLO, AUTH, MAIL, RCPT, DATA, STARTTLS, QUIT, …); the faithful answer otherwise. */
  readonly on?: Readonly<Record<string, SmtpHandler>>;
  readonly starttls?: KeyPair;
  readonly ehlo?: (secure: boolean) => string;
}

export interface SmtpFake {
  readonly server: FakeLineServer;
  readonly port: number;
  /** The data lines of each message as they came over the wire (before unstuffing), terminator excluded. */
  readonly wireMessages: string[][];
  /** Each message after unstuffing, lines joined with CRLF. */
  readonly messages: string[];
  /** The next line of `session` goes to `handler` instead of the command table (SASL steps). */
  next(session: FakeSession, handler: (line: string) => void | Promise<void>): void;
  close(): Promise<void>;
}

export async function startSmtpFake(options: SmtpFakeOptions = {}): Promise<SmtpFake> {
  const pending = new Map<number, (line: string) => void | Promise<void>>();
  const wireMessages: string[][] = [];
  const messages: string[] = [];
  let fake: SmtpFake;
  const dialogue: SmtpDialogue = {
    name: 'fake.test',
    sizeLimit: 1_000_000,
    starttls: options.starttls !== undefined,
    next: (session, handler) => fake.next(session, handler),
    onMessage: (wire) => {
      wireMessages.push(wire);
      messages.push(unstuffLines(wire).join('\r\n'));
    },
  };
  const faithful = (s: FakeSession, verb: string, line: string): Promise<void> =>
    verb === 'EHLO' && options.ehlo !== undefined ? s.write(options.ehlo(s.secure)) : smtpFaithful(dialogue, s, verb, line);
  const server = await FakeLineServer.start({
    greeting: options.greeting ?? '220 fake.test ESMTP\r\n',
    ...(options.starttls ? { starttls: options.starttls } : {}),
    fallback: (session, _args, line) => {
      const handler = pending.get(session.id);
      if (handler !== undefined) {
        pending.delete(session.id);
        return handler(line);
      }
      const verb = (line.split(' ')[0] ?? '').toUpperCase();
      const own = options.on?.[verb];
      return own ? own(session, line, fake) : faithful(session, verb, line);
    },
  });
  fake = {
    server,
    port: server.port,
    wireMessages,
    messages,
    next: (session, handler) => void pending.set(session.id, handler),
    close: () => server.close(),
  };
  return fake;
}
