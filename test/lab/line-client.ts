import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';

/**
 * A deliberately tiny line client for the lab tests: the project's own
 * protocol clients live elsewhere and must not be what proves the lab works.
 * Reads CRLF lines; can upgrade in place for STARTTLS/STLS.
 */
export class LineClient {
  #socket: Socket;
  #buffer = '';
  #lines: string[] = [];
  #waiters: Array<() => void> = [];
  #closed = false;
  #error: Error | null = null;

  private constructor(socket: Socket) {
    this.#socket = socket;
    this.#attach(socket);
  }

  /**
   * Connect to host:port. The host matters: the lab's plain IMAP and POP3
   * listen on 127.0.0.2, everything else on 127.0.0.1 (ENDPOINT_HOST).
   */
  static async open(at: { host: string; port: number }, tls: { ca: Buffer } | null): Promise<LineClient> {
    const { host, port } = at;
    const socket = tls ? tlsConnect({ host, port, ca: tls.ca, servername: 'localhost' }) : netConnect({ host, port });
    await new Promise<void>((resolve, reject) => {
      socket.once(tls ? 'secureConnect' : 'connect', () => resolve());
      socket.once('error', reject);
    });
    return new LineClient(socket);
  }

  #attach(socket: Socket): void {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.#buffer += chunk;
      let i: number;
      while ((i = this.#buffer.indexOf('\r\n')) >= 0) {
        this.#lines.push(this.#buffer.slice(0, i));
        this.#buffer = this.#buffer.slice(i + 2);
      }
      this.#wake();
    });
    socket.on('error', (err) => {
      this.#error = err;
      this.#wake();
    });
    socket.on('close', () => {
      this.#closed = true;
      this.#wake();
    });
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  async line(timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (this.#lines.length === 0) {
      if (this.#error) throw this.#error;
      if (this.#closed) throw new Error('connection closed');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for a line');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.#lines.shift() as string;
  }

  /** Read an SMTP reply (all continuation lines); returns the lines. */
  async smtpReply(): Promise<string[]> {
    const lines = [await this.line()];
    while (/^\d{3}-/.test(lines.at(-1) as string)) lines.push(await this.line());
    return lines;
  }

  /** Read until a line starts with the given prefix (an IMAP tagged reply); returns all lines. */
  async until(prefix: string): Promise<string[]> {
    const lines: string[] = [];
    for (;;) {
      const l = await this.line();
      lines.push(l);
      if (l.startsWith(prefix)) return lines;
    }
  }

  send(line: string): void {
    this.#socket.write(`${line}\r\n`);
  }

  /** Upgrade the connection to TLS (after the server accepted STARTTLS/STLS), verifying the lab CA. */
  async startTls(ca: Buffer): Promise<TLSSocket> {
    this.#socket.removeAllListeners('data');
    this.#socket.removeAllListeners('close');
    this.#socket.removeAllListeners('error');
    const secure = tlsConnect({ socket: this.#socket, ca, servername: 'localhost' });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', () => resolve());
      secure.once('error', reject);
    });
    this.#socket = secure;
    this.#buffer = '';
    this.#lines = [];
    this.#attach(secure);
    return secure;
  }

  close(): void {
    this.#socket.destroy();
  }
}

/** The lab tests need root (the servers switch users, missing packages get installed); CI runs as root. */
export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** True when nothing listens at host:port any more (the connection is refused). */
export function refused(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = netConnect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });
}

/** IMAP LOGIN over an open connection; returns the tagged reply. */
export async function imapLogin(c: LineClient, user: string, password: string): Promise<string> {
  c.send(`l1 LOGIN ${user} "${password}"`);
  return (await c.until('l1 ')).at(-1) as string;
}
