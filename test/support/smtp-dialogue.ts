import type { FakeSession } from './fake-line-server.js';

/**
 * The one faithful RFC 5321 dialogue of the scriptable SMTP test servers
 * (test/smtp/fake-smtp.ts for the client's tests, the hostile server's SMTP
 * in hostile-server.ts): EHLO with AUTH PLAIN LOGIN, 8BITMIME, STARTTLS while
 * plaintext when the server can upgrade, and SIZE; SASL PLAIN and LOGIN (with
 * or without an initial response); MAIL/RCPT/RSET/NOOP; DATA collected line
 * by line as it came over the wire (still stuffed); QUIT. Each server plays
 * its own faults around it. The suite's rule-breaking hosts live in
 * fixtures/servers/smtp-fault-server.ts, which handles bytes, not lines.
 */
export interface SmtpDialogue {
  /** The host name in the greeting, EHLO and replies ("fake.test"). */
  readonly name: string;
  readonly sizeLimit: number;
  /** The server has a key pair for STARTTLS. */
  readonly starttls: boolean;
  /** The client's next line goes to `handler` instead of the command table (SASL steps, data lines). */
  readonly next: (session: FakeSession, handler: (line: string) => void | Promise<void>) => void;
  /** The data lines of one message as received (before unstuffing), terminator excluded. */
  readonly onMessage: (wireLines: string[]) => void;
}

export function smtpEhloReply(d: Pick<SmtpDialogue, 'name' | 'sizeLimit' | 'starttls'>, secure: boolean): string {
  return `250-${d.name}\r\n250-AUTH PLAIN LOGIN\r\n250-8BITMIME\r\n${d.starttls && !secure ? '250-STARTTLS\r\n' : ''}250 SIZE ${d.sizeLimit}\r\n`;
}

/** The faithful answer to one command line (verb upper case). */
export async function smtpFaithful(d: SmtpDialogue, s: FakeSession, verb: string, line: string): Promise<void> {
  switch (verb) {
    case 'EHLO':
      return s.write(smtpEhloReply(d, s.secure));
    case 'HELO':
      return s.write(`250 ${d.name}\r\n`);
    case 'STARTTLS':
      return s.startTls('220 2.0.0 ready to start TLS\r\n');
    case 'AUTH': {
      const [, mechanism = '', initial] = /^AUTH\s+(\S+)(?:\s+(\S+))?/i.exec(line) ?? [];
      const done = (): Promise<void> => s.write('235 2.7.0 authenticated\r\n');
      if (mechanism.toUpperCase() === 'PLAIN') {
        if (initial !== undefined) return done();
        d.next(s, done);
        return s.write('334 \r\n');
      }
      const password = (): Promise<void> => {
        d.next(s, done);
        return s.write('334 UGFzc3dvcmQ6\r\n');
      };
      if (initial !== undefined) return password();
      d.next(s, password);
      return s.write('334 VXNlcm5hbWU6\r\n');
    }
    case 'MAIL':
    case 'RCPT':
    case 'RSET':
    case 'NOOP':
      return s.write('250 2.0.0 ok\r\n');
    case 'DATA': {
      const wire: string[] = [];
      const body = (data: string): void | Promise<void> => {
        if (data === '.') {
          d.onMessage(wire);
          return s.write(`250 2.0.0 queued as ${d.name}-1\r\n`);
        }
        wire.push(data);
        d.next(s, body);
      };
      d.next(s, body);
      return s.write('354 go ahead\r\n');
    }
    case 'QUIT':
      await s.write('221 2.0.0 bye\r\n');
      return s.end();
    default:
      return s.write('502 5.5.2 unknown command\r\n');
  }
}

/** RFC 5321 §4.5.2: each data line loses the one "." the client added. */
export function unstuffLines(wire: readonly string[]): string[] {
  return wire.map((l) => (l.startsWith('.') ? l.slice(1) : l));
}
