import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { ProtocolName } from '../../src/core/protocols.js';

/**
 * A hostile mail host for the redaction canary: POP3, IMAP and SMTP listeners
 * on 127.0.0.1:0 that refuse every login with an error quoting exactly what
 * the client sent, the command line and every SASL response, as some real
 * servers do in their error text. Nothing here knows a password: the server
 * records the exact bytes it received, and the secret-bearing lines it saw
 * (PASS, AUTH, LOGIN, SASL responses) are cut from those bytes, so a test can
 * check the output for what really travelled on the wire rather than for what
 * it thinks the client sends.
 */

/**
 * Wraps every echo, so a test can search for a short secret in the place the
 * server put it back. Not ASCII, so no password of the matrix can hide it, and
 * not base64, so the marker never runs into the token it wraps.
 */
export const ECHO_OPEN = 'ECHO«';
export const ECHO_CLOSE = '»ECHO';
export const echo = (text: string): string => `${ECHO_OPEN}${text}${ECHO_CLOSE}`;

export type Mechanism =
  | 'pop3 USER/PASS'
  | 'pop3 AUTH PLAIN'
  | 'imap LOGIN'
  | 'imap AUTHENTICATE PLAIN'
  | 'imap AUTHENTICATE LOGIN'
  | 'smtp AUTH PLAIN'
  | 'smtp AUTH LOGIN';

/** A secret-bearing piece of a line the server received, as it was on the wire. */
export interface WireSecret {
  readonly mechanism: Mechanism;
  readonly listener: string;
  /** The whole line as received (without CRLF): the context the echo puts back. */
  readonly line: string;
  /** The part of the line that carries the secret: a password, a quoted string or a base64 token. */
  readonly token: string;
}

export interface ListenerSpec {
  readonly protocol: ProtocolName;
  /** pop3: SASL PLAIN offered in CAPA; imap: the AUTH= capabilities; smtp: the AUTH mechanisms in EHLO. */
  readonly sasl: readonly ('PLAIN' | 'LOGIN')[];
  /** More IMAP capabilities (LOGINDISABLED). */
  readonly capabilities?: readonly string[];
}

export interface EchoHost {
  readonly ports: Record<string, number>;
  /** Every byte received, per connection, in order. */
  readonly received: Array<{ listener: string; bytes: Buffer }>;
  /** The secret-bearing lines cut from the received bytes. */
  secrets(): WireSecret[];
  close(): Promise<void>;
}

interface Conn {
  readonly listener: string;
  readonly spec: ListenerSpec;
  readonly socket: Socket;
  readonly bytes: Buffer[];
  /** The next line is a SASL response to this mechanism (and which prompt, for LOGIN). */
  pending?: { mechanism: Mechanism; tag?: string; step: 'plain' | 'login-user' | 'login-pass' };
}

export async function startEchoHost(listeners: Record<string, ListenerSpec>): Promise<EchoHost> {
  const received: EchoHost['received'] = [];
  const found: WireSecret[] = [];
  const servers: Server[] = [];
  const sockets = new Set<Socket>();
  const ports: Record<string, number> = {};

  for (const [name, spec] of Object.entries(listeners)) {
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
      const conn: Conn = { listener: name, spec, socket, bytes: [] };
      let buffer = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        conn.bytes.push(chunk);
        buffer = Buffer.concat([buffer, chunk]);
        for (let end = buffer.indexOf('\r\n'); end !== -1; end = buffer.indexOf('\r\n')) {
          const line = buffer.subarray(0, end).toString('utf8');
          buffer = buffer.subarray(end + 2);
          answer(conn, line, (s) => found.push(s));
        }
      });
      socket.on('close', () => received.push({ listener: name, bytes: Buffer.concat(conn.bytes) }));
      socket.write(greeting(spec));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    ports[name] = (server.address() as AddressInfo).port;
    servers.push(server);
  }

  return {
    ports,
    received,
    secrets: () => [...found],
    async close() {
      for (const socket of sockets) socket.destroy();
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}

function greeting(spec: ListenerSpec): string {
  if (spec.protocol === 'pop3') return '+OK echo POP3 ready\r\n';
  if (spec.protocol === 'imap') return '* OK echo IMAP ready\r\n';
  return '220 echo.test ESMTP ready\r\n';
}

function answer(conn: Conn, line: string, note: (s: WireSecret) => void): void {
  const write = (text: string) => {
    if (!conn.socket.destroyed) conn.socket.write(text);
  };
  const secret = (mechanism: Mechanism, token: string) => note({ mechanism, listener: conn.listener, line, token });
  const pending = conn.pending;
  conn.pending = undefined;
  if (conn.spec.protocol === 'pop3') return pop3(conn, line, pending, write, secret);
  if (conn.spec.protocol === 'imap') return imap(conn, line, pending, write, secret);
  return smtp(conn, line, pending, write, secret);
}

type Write = (text: string) => void;
type Secret = (mechanism: Mechanism, token: string) => void;

function pop3(conn: Conn, line: string, pending: Conn['pending'], write: Write, secret: Secret): void {
  if (pending !== undefined) {
    secret(pending.mechanism, line);
    return write(`-ERR [AUTH] rejected ${echo(line)}\r\n`);
  }
  const [verb = '', ...args] = line.split(' ');
  switch (verb.toUpperCase()) {
    case 'CAPA':
      return write(`+OK\r\nUSER\r\nUIDL\r\nTOP\r\n${conn.spec.sasl.length > 0 ? `SASL ${conn.spec.sasl.join(' ')}\r\n` : ''}.\r\n`);
    case 'USER':
      return write('+OK send PASS\r\n');
    case 'PASS':
      secret('pop3 USER/PASS', line.slice('PASS '.length));
      return write(`-ERR [AUTH] rejected ${echo(line)}\r\n`);
    case 'AUTH':
      if (args.length >= 2) {
        secret('pop3 AUTH PLAIN', args[1] ?? '');
        return write(`-ERR [AUTH] rejected ${echo(line)}\r\n`);
      }
      conn.pending = { mechanism: 'pop3 AUTH PLAIN', step: 'plain' };
      return write('+ \r\n');
    case 'QUIT':
      write('+OK bye\r\n');
      conn.socket.end();
      return;
    default:
      return write(`-ERR unknown command ${echo(line)}\r\n`);
  }
}

function imap(conn: Conn, line: string, pending: Conn['pending'], write: Write, secret: Secret): void {
  if (pending !== undefined) {
    if (pending.step === 'login-user') {
      // The user name is not a secret; the password prompt comes next.
      conn.pending = { ...pending, step: 'login-pass' };
      return write('+ UGFzc3dvcmQ6\r\n');
    }
    secret(pending.mechanism, line);
    return write(`${pending.tag} NO [AUTHENTICATIONFAILED] rejected ${echo(line)}\r\n`);
  }
  const match = /^(\S+) (\S+)(?: (.*))?$/.exec(line);
  if (match === null) return write(`* BAD ${echo(line)}\r\n`);
  const [, tag = '*', verb = '', rest = ''] = match;
  const caps = ['IMAP4rev1', ...(conn.spec.capabilities ?? []), ...conn.spec.sasl.map((m) => `AUTH=${m}`)].join(' ');
  switch (verb.toUpperCase()) {
    case 'CAPABILITY':
      return write(`* CAPABILITY ${caps}\r\n${tag} OK CAPABILITY done\r\n`);
    case 'NOOP':
      return write(`${tag} OK NOOP done\r\n`);
    case 'LOGIN': {
      // The password is the second astring: an atom or a quoted string with its escapes, as sent.
      const args = /^("(?:[^"\\]|\\.)*"|\S+) ("(?:[^"\\]|\\.)*"|\S+)$/.exec(rest);
      secret('imap LOGIN', args?.[2] ?? rest);
      return write(`${tag} NO [AUTHENTICATIONFAILED] rejected ${echo(line)}\r\n`);
    }
    case 'AUTHENTICATE': {
      const [mechanism = '', initial] = rest.split(' ');
      if (mechanism.toUpperCase() === 'PLAIN') {
        if (initial !== undefined) {
          secret('imap AUTHENTICATE PLAIN', initial);
          return write(`${tag} NO [AUTHENTICATIONFAILED] rejected ${echo(line)}\r\n`);
        }
        conn.pending = { mechanism: 'imap AUTHENTICATE PLAIN', tag, step: 'plain' };
        return write('+ \r\n');
      }
      if (mechanism.toUpperCase() === 'LOGIN') {
        conn.pending = { mechanism: 'imap AUTHENTICATE LOGIN', tag, step: 'login-user' };
        return write('+ VXNlcm5hbWU6\r\n');
      }
      return write(`${tag} NO unsupported ${echo(line)}\r\n`);
    }
    case 'LOGOUT':
      write(`* BYE echo\r\n${tag} OK LOGOUT done\r\n`);
      conn.socket.end();
      return;
    default:
      return write(`${tag} BAD unknown ${echo(line)}\r\n`);
  }
}

function smtp(conn: Conn, line: string, pending: Conn['pending'], write: Write, secret: Secret): void {
  if (pending !== undefined) {
    if (pending.step === 'login-user') {
      conn.pending = { ...pending, step: 'login-pass' };
      return write('334 UGFzc3dvcmQ6\r\n');
    }
    secret(pending.mechanism, line);
    return write(`535 5.7.8 rejected ${echo(line)}\r\n`);
  }
  const [verb = '', mechanism = '', initial] = line.split(' ');
  switch (verb.toUpperCase()) {
    case 'EHLO':
      return write(`250-echo.test\r\n250-AUTH ${conn.spec.sasl.join(' ')}\r\n250 8BITMIME\r\n`);
    case 'HELO':
      return write('250 echo.test\r\n');
    case 'AUTH':
      if (mechanism.toUpperCase() === 'PLAIN') {
        if (initial !== undefined) {
          secret('smtp AUTH PLAIN', initial);
          return write(`535 5.7.8 rejected ${echo(line)}\r\n`);
        }
        conn.pending = { mechanism: 'smtp AUTH PLAIN', step: 'plain' };
        return write('334 \r\n');
      }
      if (mechanism.toUpperCase() === 'LOGIN') {
        conn.pending = { mechanism: 'smtp AUTH LOGIN', step: 'login-user' };
        return write('334 VXNlcm5hbWU6\r\n');
      }
      return write(`504 5.5.4 unsupported ${echo(line)}\r\n`);
    case 'RSET':
    case 'NOOP':
      return write('250 OK\r\n');
    case 'QUIT':
      write('221 bye\r\n');
      conn.socket.end();
      return;
    default:
      return write(`502 5.5.2 unknown ${echo(line)}\r\n`);
  }
}
