import type { FakeSession, KeyPair } from '../support/fake-line-server.js';
import { FakeLineServer } from '../support/fake-line-server.js';

/**
 * A scriptable SMTP server on FakeLineServer for the client's tests: a
 * faithful RFC 5321 dialogue (EHLO with AUTH PLAIN LOGIN, STARTTLS when keys
 * are given, MAIL/RCPT/DATA with the data unstuffed) where any verb can be
 * answered by the test instead. `messages` holds what DATA delivered, exactly
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
  const ehlo =
    options.ehlo ??
    ((secure: boolean) => `250-fake.test\r\n250-AUTH PLAIN LOGIN\r\n250-8BITMIME\r\n${options.starttls && !secure ? '250-STARTTLS\r\n' : ''}250 SIZE 1000000\r\n`);
  let fake: SmtpFake;
  const faithful = async (s: FakeSession, verb: string, line: string): Promise<void> => {
    switch (verb) {
      case 'EHLO':
        return s.write(ehlo(s.secure));
      case 'HELO':
        return s.write('250 fake.test\r\n');
      case 'STARTTLS':
        return s.startTls('220 2.0.0 go ahead\r\n');
      case 'AUTH':
        if (/^AUTH PLAIN \S+/i.test(line)) return s.write('235 2.7.0 ok\r\n');
        if (/^AUTH PLAIN$/i.test(line)) {
          fake.next(s, () => s.write('235 2.7.0 ok\r\n'));
          return s.write('334 \r\n');
        }
        fake.next(s, () => {
          fake.next(s, () => s.write('235 2.7.0 ok\r\n'));
          return s.write('334 UGFzc3dvcmQ6\r\n');
        });
        return s.write('334 VXNlcm5hbWU6\r\n');
      case 'MAIL':
      case 'RCPT':
      case 'RSET':
      case 'NOOP':
        return s.write('250 2.0.0 ok\r\n');
      case 'DATA': {
        const wire: string[] = [];
        const body = (data: string): void | Promise<void> => {
          if (data === '.') {
            wireMessages.push(wire);
            messages.push(wire.map((l) => (l.startsWith('.') ? l.slice(1) : l)).join('\r\n'));
            return s.write('250 2.0.0 queued as fake-1\r\n');
          }
          wire.push(data);
          fake.next(s, body);
        };
        fake.next(s, body);
        return s.write('354 go ahead\r\n');
      }
      case 'QUIT':
        await s.write('221 2.0.0 bye\r\n');
        return s.end();
      default:
        return s.write('502 5.5.2 unknown command\r\n');
    }
  };
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
