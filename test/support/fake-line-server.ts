import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { TLSSocket, createServer as createTlsServer } from 'node:tls';

/**
 * An in-process, scriptable line server on 127.0.0.1:0 for protocol tests.
 * Each command line from the client goes to the handler registered for its
 * first word (upper-cased); handlers write whatever they like: split writes,
 * delays, early closes, a TLS upgrade. Nothing here knows POP3/IMAP/SMTP.
 */
export interface KeyPair {
  readonly key: string | Buffer;
  readonly cert: string | Buffer;
}

export interface FakeSession {
  readonly id: number;
  /** Lines received from the client, without their line ending. */
  readonly received: string[];
  readonly secure: boolean;
  /** The connection is gone (either side closed it): endless writers stop here. */
  readonly closed: boolean;
  /** Write and wait until handed to the kernel. */
  write(data: string | Buffer): Promise<void>;
  /**
   * Write `data` in pieces, pausing between them so that the client is likely
   * to see separate reads: "bytewise" = one byte per write; numbers = cut points.
   */
  writeSplit(data: string | Buffer, cuts: 'bytewise' | readonly number[]): Promise<void>;
  /** Graceful close (FIN). */
  end(data?: string | Buffer): void;
  /** Abrupt close. */
  destroy(): void;
  /**
   * Switch this session to TLS with the server's `starttls` key pair (after
   * writing `preface`, e.g. the go-ahead reply, in plaintext).
   */
  startTls(preface?: string | Buffer): Promise<void>;
}

export type CommandHandler = (session: FakeSession, args: string, line: string) => void | Promise<void>;

export interface FakeLineServerOptions {
  /** Written on connect. A function can stall, split, or close instead. Default: nothing. */
  readonly greeting?: string | Buffer | ((session: FakeSession) => void | Promise<void>);
  /** Handlers keyed by the upper-cased first word of the line. */
  readonly commands?: Record<string, CommandHandler>;
  /** For commands without a handler. Default: writes "-ERR unknown command\r\n". */
  readonly fallback?: CommandHandler;
  /** TLS from the first byte with this key pair. */
  readonly implicitTls?: KeyPair;
  /** Key pair used by session.startTls(). */
  readonly starttls?: KeyPair;
  readonly host?: '127.0.0.1' | '::1';
}

export class FakeLineServer {
  readonly host: string;
  readonly port: number;
  readonly sessions: FakeSession[] = [];
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #commands: Map<string, CommandHandler>;

  private constructor(server: Server, host: string, port: number, commands: Map<string, CommandHandler>) {
    this.#server = server;
    this.host = host;
    this.port = port;
    this.#commands = commands;
  }

  static async start(options: FakeLineServerOptions = {}): Promise<FakeLineServer> {
    const host = options.host ?? '127.0.0.1';
    const commands = new Map(Object.entries(options.commands ?? {}).map(([k, v]) => [k.toUpperCase(), v]));
    let self: FakeLineServer | undefined;
    const onSocket = (socket: Socket): void => {
      if (self === undefined) {
        socket.destroy();
        return;
      }
      self.#accept(socket, options);
    };
    const server = options.implicitTls
      ? createTlsServer({ key: options.implicitTls.key, cert: options.implicitTls.cert }, onSocket)
      : createNetServer(onSocket);
    // A TLS client that rejects our certificate makes the server side error; expected in tests.
    server.on('tlsClientError', () => undefined);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    self = new FakeLineServer(server, host, port, commands);
    return self;
  }

  /** Replace or add a handler for one test. */
  on(verb: string, handler: CommandHandler): this {
    this.#commands.set(verb.toUpperCase(), handler);
    return this;
  }

  /** Every line received, across sessions, in order of arrival. */
  get received(): string[] {
    return this.sessions.flatMap((s) => s.received);
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(initial: Socket, options: FakeLineServerOptions): void {
    let socket: Socket = initial;
    this.#sockets.add(socket);
    socket.on('error', () => undefined);
    // Without this, Nagle + delayed ACK merge split writes and add ~40 ms each.
    socket.setNoDelay(true);
    const received: string[] = [];
    let buffer = Buffer.alloc(0);
    let chain: Promise<void> = Promise.resolve();
    const fallback: CommandHandler = options.fallback ?? ((s) => s.write('-ERR unknown command\r\n'));

    const onData = (chunk: Buffer): void => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const lf = buffer.indexOf(0x0a);
        if (lf === -1) break;
        const line = buffer.subarray(0, lf).toString('utf8').replace(/\r$/, '');
        buffer = buffer.subarray(lf + 1);
        received.push(line);
        const space = line.indexOf(' ');
        const verb = (space === -1 ? line : line.slice(0, space)).toUpperCase();
        const args = space === -1 ? '' : line.slice(space + 1);
        const handler = this.#commands.get(verb) ?? fallback;
        chain = chain.then(() => handler(session, args, line)).catch(() => undefined);
      }
    };

    const session: FakeSession = {
      id: this.sessions.length + 1,
      received,
      get secure() {
        return socket instanceof TLSSocket;
      },
      get closed() {
        return socket.destroyed || !socket.writable;
      },
      write: (data) =>
        new Promise<void>((resolve) => {
          if (socket.destroyed) return resolve();
          socket.write(data, () => resolve());
        }),
      writeSplit: async (data, cuts) => {
        const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
        const points = cuts === 'bytewise' ? [...Array(bytes.length).keys()].slice(1) : [...cuts];
        let from = 0;
        for (const at of [...points, bytes.length]) {
          if (at <= from) continue;
          await session.write(bytes.subarray(from, at));
          from = at;
          // Give the client's socket a turn so the pieces arrive as separate reads.
          await new Promise((r) => setTimeout(r, 1));
        }
      },
      end: (data) => {
        if (data === undefined) socket.end();
        else socket.end(data);
      },
      destroy: () => socket.destroy(),
      startTls: async (preface) => {
        if (options.starttls === undefined) throw new Error('FakeLineServer: no starttls key pair configured');
        // Stop reading lines before the client's ClientHello can arrive.
        socket.off('data', onData);
        buffer = Buffer.alloc(0);
        if (preface !== undefined) socket.write(preface);
        const secure = new TLSSocket(socket, { isServer: true, key: options.starttls.key, cert: options.starttls.cert });
        secure.on('error', () => undefined);
        this.#sockets.add(secure);
        socket = secure;
        secure.on('data', onData);
      },
    };
    this.sessions.push(session);
    socket.on('data', onData);

    const greeting = options.greeting;
    if (typeof greeting === 'function') chain = chain.then(() => greeting(session)).catch(() => undefined);
    else if (greeting !== undefined) socket.write(greeting);
  }
}
