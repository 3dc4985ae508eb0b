import { FakeLineServer, type FakeLineServerOptions, type FakeSession, type KeyPair } from '../support/fake-line-server.js';

/**
 * A small RFC 1939 maildrop on FakeLineServer for client tests. Messages are
 * raw bytes; replies are dot-stuffed here, the way a real server does it.
 * Individual commands can be overridden per test with `server.on(verb, …)`.
 */
export interface FakePop3Options {
  readonly messages?: Buffer[];
  readonly user?: string;
  readonly password?: string;
  readonly capabilities?: string[];
  readonly greeting?: FakeLineServerOptions['greeting'];
  readonly starttls?: KeyPair;
  readonly implicitTls?: KeyPair;
}

export function dotStuff(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  let start = 0;
  while (start < body.length) {
    const lf = body.indexOf(0x0a, start);
    const end = lf === -1 ? body.length : lf + 1;
    const line = body.subarray(start, end);
    if (line[0] === 0x2e) parts.push(Buffer.from('.'));
    parts.push(line);
    start = end;
  }
  if (body.length > 0 && body[body.length - 1] !== 0x0a) parts.push(Buffer.from('\r\n'));
  parts.push(Buffer.from('.\r\n'));
  return Buffer.concat(parts);
}

export function multiLine(first: string, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${first}\r\n`), dotStuff(body)]);
}

export async function startFakePop3(options: FakePop3Options = {}): Promise<FakeLineServer> {
  const messages = options.messages ?? [];
  const user = options.user ?? 'alice';
  const password = options.password ?? 'secret-pw';
  const deleted = new Set<number>();
  let pendingUser: string | undefined;
  // The next line after "+ " is a SASL response, not a command.
  let pendingAuth: ((line: string) => Promise<void>) | undefined;
  const capabilities = options.capabilities ?? ['USER', 'SASL PLAIN', 'TOP', 'UIDL', 'RESP-CODES', 'PIPELINING'];
  const live = (n: number): boolean => Number.isInteger(n) && n >= 1 && n <= messages.length && !deleted.has(n);
  const body = (n: number): Buffer => messages[n - 1] as Buffer;
  const noSuch = (s: FakeSession) => s.write('-ERR no such message\r\n');

  return FakeLineServer.start({
    greeting: options.greeting ?? '+OK fake POP3 ready <4711.1700000000@fake.test>\r\n',
    ...(options.starttls === undefined ? {} : { starttls: options.starttls }),
    ...(options.implicitTls === undefined ? {} : { implicitTls: options.implicitTls }),
    commands: {
      CAPA: (s) =>
        s.write(`+OK capability list follows\r\n${[...capabilities, ...(s.secure || !options.starttls ? [] : ['STLS'])].map((c) => `${c}\r\n`).join('')}.\r\n`),
      STLS: (s) => s.startTls('+OK begin TLS negotiation\r\n'),
      USER: (s, args) => {
        pendingUser = args;
        return s.write('+OK\r\n');
      },
      PASS: (s, args) => s.write(pendingUser === user && args === password ? '+OK logged in\r\n' : '-ERR [AUTH] invalid credentials\r\n'),
      AUTH: async (s, args) => {
        const [mech, initial] = args.split(' ');
        if (mech?.toUpperCase() !== 'PLAIN') return s.write('-ERR unsupported mechanism\r\n');
        const check = (b64: string) => Buffer.from(b64, 'base64').toString('utf8') === `\0${user}\0${password}`;
        if (initial === undefined) {
          // Continuation: the fake accepts the next line as the response.
          pendingAuth = (line) => s.write(check(line) ? '+OK logged in\r\n' : '-ERR [AUTH] invalid credentials\r\n');
          return s.write('+ \r\n');
        }
        return s.write(check(initial) ? '+OK logged in\r\n' : '-ERR [AUTH] invalid credentials\r\n');
      },
      STAT: (s) => {
        const live = messages.map((m, i) => ({ m, n: i + 1 })).filter(({ n }) => !deleted.has(n));
        return s.write(`+OK ${live.length} ${live.reduce((t, { m }) => t + m.length, 0)}\r\n`);
      },
      LIST: (s, args) => {
        if (args !== '') {
          const n = Number(args);
          return live(n) ? s.write(`+OK ${n} ${body(n).length}\r\n`) : noSuch(s);
        }
        const lines = messages.map((m, i) => (deleted.has(i + 1) ? '' : `${i + 1} ${m.length}\r\n`)).join('');
        return s.write(`+OK scan listing follows\r\n${lines}.\r\n`);
      },
      UIDL: (s, args) => {
        if (args !== '') {
          const n = Number(args);
          return live(n) ? s.write(`+OK ${n} uid-${n}\r\n`) : noSuch(s);
        }
        const lines = messages.map((_, i) => (deleted.has(i + 1) ? '' : `${i + 1} uid-${i + 1}\r\n`)).join('');
        return s.write(`+OK\r\n${lines}.\r\n`);
      },
      RETR: (s, args) => {
        const n = Number(args);
        return live(n) ? s.write(multiLine(`+OK ${body(n).length} octets`, body(n))) : noSuch(s);
      },
      TOP: (s, args) => {
        const [n, k] = args.split(' ').map(Number) as [number, number];
        if (!live(n)) return noSuch(s);
        const text = body(n);
        const headerEnd = text.indexOf('\r\n\r\n');
        const head = headerEnd === -1 ? text : text.subarray(0, headerEnd + 4);
        const rest = headerEnd === -1 ? Buffer.alloc(0) : text.subarray(headerEnd + 4);
        let cut = 0;
        for (let i = 0; i < k && cut < rest.length; i++) {
          const lf = rest.indexOf(0x0a, cut);
          cut = lf === -1 ? rest.length : lf + 1;
        }
        return s.write(multiLine('+OK', Buffer.concat([head, rest.subarray(0, cut)])));
      },
      DELE: (s, args) => {
        const n = Number(args);
        if (!live(n)) return noSuch(s);
        deleted.add(n);
        return s.write(`+OK message ${n} deleted\r\n`);
      },
      RSET: (s) => {
        deleted.clear();
        return s.write('+OK\r\n');
      },
      NOOP: (s) => s.write('+OK\r\n'),
      QUIT: (s) => s.end('+OK bye\r\n'),
    },
    fallback: (s, _args, line) => {
      const handler = pendingAuth;
      if (handler !== undefined) {
        pendingAuth = undefined;
        return handler(line);
      }
      return s.write('-ERR unknown command\r\n');
    },
  });
}
