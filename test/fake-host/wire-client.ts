import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

/**
 * A deliberately dumb line client on raw sockets for testing the fake host,
 * independent of mailprobe's own POP3 client. It returns bytes as they came
 * off the wire so tests can look at stuffing and framing themselves.
 */
export class WireClient {
  #socket: Socket;
  #buffer = Buffer.alloc(0);
  #closed = false;
  #wake: (() => void) | undefined;

  private constructor(socket: Socket) {
    this.#socket = socket;
    this.#listen(socket);
  }

  static async connect(port: number, tls?: { ca: string }): Promise<WireClient> {
    const socket = tls ? tlsConnect({ host: '127.0.0.1', port, ca: tls.ca, servername: 'localhost' }) : netConnect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      socket.once(tls ? 'secureConnect' : 'connect', () => resolve());
      socket.once('error', reject);
    });
    return new WireClient(socket);
  }

  /** Connects and reads the greeting line. */
  static async open(port: number, tls?: { ca: string }): Promise<{ client: WireClient; greeting: string }> {
    const client = await WireClient.connect(port, tls);
    return { client, greeting: await client.readLine() };
  }

  #listen(socket: Socket): void {
    socket.on('data', (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      this.#wake?.();
    });
    socket.on('close', () => {
      this.#closed = true;
      this.#wake?.();
    });
    socket.on('error', () => {});
  }

  get closed(): boolean {
    return this.#closed;
  }

  get encrypted(): boolean {
    return 'encrypted' in this.#socket && this.#socket.encrypted === true;
  }

  write(data: string | Buffer): void {
    this.#socket.write(data);
  }

  /** Waits until `find` locates a complete unit in the buffer, then consumes it. */
  async #take(find: (buf: Buffer) => { value: Buffer; consumed: number } | undefined): Promise<Buffer> {
    for (;;) {
      const hit = find(this.#buffer);
      if (hit) {
        this.#buffer = this.#buffer.subarray(hit.consumed);
        return hit.value;
      }
      if (this.#closed) throw new Error(`connection closed; unread: ${JSON.stringify(this.#buffer.toString('latin1'))}`);
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  async readLine(): Promise<string> {
    const line = await this.#take((buf) => {
      const at = buf.indexOf('\r\n');
      return at < 0 ? undefined : { value: buf.subarray(0, at), consumed: at + 2 };
    });
    return line.toString('latin1');
  }

  /** Reads a multi-line body up to the ".CRLF" terminator; returns it still stuffed, final CRLF included. */
  async readMulti(): Promise<Buffer> {
    return this.#take((buf) => {
      if (buf.subarray(0, 3).equals(Buffer.from('.\r\n'))) return { value: Buffer.alloc(0), consumed: 3 };
      const at = buf.indexOf('\r\n.\r\n');
      return at < 0 ? undefined : { value: buf.subarray(0, at + 2), consumed: at + 5 };
    });
  }

  async cmd(line: string): Promise<string> {
    this.write(`${line}\r\n`);
    return this.readLine();
  }

  /** Sends a command with a multi-line answer; the body is read only after +OK. */
  async multi(line: string): Promise<{ status: string; body: Buffer }> {
    const status = await this.cmd(line);
    return { status, body: status.startsWith('+OK') ? await this.readMulti() : Buffer.alloc(0) };
  }

  async login(user: string, password: string): Promise<string> {
    const reply = await this.cmd(`USER ${user}`);
    if (!reply.startsWith('+OK')) return reply;
    return this.cmd(`PASS ${password}`);
  }

  /** After a +OK to STLS: runs the TLS handshake over the same connection. */
  async startTls(ca: string): Promise<void> {
    const plain = this.#socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    this.#buffer = Buffer.alloc(0);
    const secure = tlsConnect({ socket: plain, ca, servername: 'localhost' });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', () => resolve());
      secure.once('error', reject);
    });
    this.#socket = secure;
    this.#listen(secure);
  }

  /** QUIT and wait for the server to close. */
  async quit(): Promise<string> {
    const reply = await this.cmd('QUIT');
    await this.waitClosed();
    return reply;
  }

  async waitClosed(): Promise<void> {
    while (!this.#closed) await new Promise<void>((resolve) => (this.#wake = resolve));
  }

  /** Drops the connection without QUIT, and waits until it is gone. */
  async drop(): Promise<void> {
    this.#socket.destroy();
    await this.waitClosed();
  }
}

/** Client-side dot-unstuffing (RFC 1939 §3). */
export function unstuff(body: Buffer): Buffer {
  const lines = body.toString('latin1').split('\r\n');
  return Buffer.from(lines.map((l) => (l.startsWith('.') ? l.slice(1) : l)).join('\r\n'), 'latin1');
}

/** Splits a multi-line body into its lines (without CRLF). */
export function linesOf(body: Buffer): string[] {
  const text = body.toString('latin1');
  if (text === '') return [];
  return text.replace(/\r\n$/, '').split('\r\n');
}
