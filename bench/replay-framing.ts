/**
 * The replay's only protocol knowledge: where a server's answer ends (POP3 single or multi-line, IMAP up to the
 * tagged status with literals skipped whole, SMTP up to the last reply line). Nothing is parsed beyond that, so the
 * replay costs what the wire costs; the harness, by contrast, parses, judges and records every line.
 */
import type { Socket } from 'node:net';

/** Bounds the replay's buffer: a server that never ends a line must not grow it without end. */
const MAX_BUFFERED = 64 * 1024 * 1024;

/** Reads CRLF lines and counted byte runs (IMAP literals) from a socket, which may be swapped after STARTTLS. */
export class WireReader {
  #buffer: Buffer = Buffer.alloc(0);
  #waiter: (() => void) | undefined;
  #error: Error | undefined;
  #socket: Socket;
  readonly #onData = (chunk: Buffer) => {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    if (this.#buffer.length > MAX_BUFFERED) this.#fail(new Error('the server sent more than 64 MiB without a line end'));
    this.#wake();
  };
  readonly #onEnd = () => this.#fail(new Error('the server closed the connection'));
  readonly #onError = (err: Error) => this.#fail(err);

  constructor(socket: Socket) {
    this.#socket = socket;
    this.#attach(socket);
  }

  /** Stops reading SOCKET (before a TLS upgrade takes it over); nothing may be buffered then. */
  detach(): Socket {
    this.#socket.off('data', this.#onData).off('end', this.#onEnd).off('error', this.#onError);
    if (this.#buffer.length > 0) throw new Error('the server sent bytes before the TLS handshake');
    return this.#socket;
  }

  attach(socket: Socket): void {
    this.#socket = socket;
    this.#attach(socket);
  }

  #attach(socket: Socket): void {
    socket.on('data', this.#onData).on('end', this.#onEnd).on('error', this.#onError);
  }

  #fail(err: Error): void {
    this.#error ??= err;
    this.#wake();
  }

  #wake(): void {
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.();
  }

  async #more(): Promise<void> {
    if (this.#error !== undefined) throw this.#error;
    await new Promise<void>((resolve) => (this.#waiter = resolve));
    if (this.#error !== undefined && this.#buffer.length === 0) throw this.#error;
  }

  /** One line, without its CRLF (a bare LF is accepted too, as servers send it). */
  async line(): Promise<string> {
    for (;;) {
      const at = this.#buffer.indexOf(10);
      if (at !== -1) {
        const end = at > 0 && this.#buffer[at - 1] === 13 ? at - 1 : at;
        const text = this.#buffer.subarray(0, end).toString('latin1');
        this.#buffer = this.#buffer.subarray(at + 1);
        return text;
      }
      await this.#more();
    }
  }

  /** Skips exactly N bytes (an IMAP literal's content). */
  async skip(n: number): Promise<void> {
    let left = n;
    for (;;) {
      const take = Math.min(left, this.#buffer.length);
      this.#buffer = this.#buffer.subarray(take);
      left -= take;
      if (left === 0) return;
      await this.#more();
    }
  }
}

/** POP3 commands whose +OK answer goes on to a dot-terminated list (RFC 1939, RFC 2449 CAPA). */
export function pop3IsMultiLine(command: string): boolean {
  const [verb = '', ...args] = command.trim().split(/\s+/);
  switch (verb.toUpperCase()) {
    case 'CAPA':
    case 'RETR':
    case 'TOP':
      return true;
    case 'LIST':
    case 'UIDL':
      return args.length === 0;
    default:
      return false;
  }
}

/** The answer's lines, read to its end: one status line, and for a multi-line +OK answer the list up to ".". */
export async function readPop3Answer(reader: WireReader, command: string | undefined): Promise<number> {
  const status = await reader.line();
  let lines = 1;
  if (command === undefined || !status.startsWith('+OK') || !pop3IsMultiLine(command)) return lines;
  for (;;) {
    const line = await reader.line();
    lines++;
    if (line === '.') return lines;
  }
}

/** SMTP: lines up to the first whose code is followed by a space (or that is the code alone). */
export async function readSmtpAnswer(reader: WireReader): Promise<number> {
  for (let lines = 1; ; lines++) {
    const line = await reader.line();
    if (!/^\d{3}-/.test(line)) return lines;
  }
}

/**
 * IMAP: lines up to the status line tagged TAG (each kept in COLLECT when given, literals left out) (the greeting when TAG is undefined: its one untagged line). A line
 * ending in {N} or {N+} announces N octets that follow it, which are skipped whole, then the line goes on.
 */
export async function readImapAnswer(reader: WireReader, tag: string | undefined, collect?: string[]): Promise<number> {
  for (let lines = 1; ; lines++) {
    let line = await reader.line();
    for (let literal = /\{(\d+)\+?\}$/.exec(line); literal !== null; literal = /\{(\d+)\+?\}$/.exec(line)) {
      await reader.skip(Number(literal[1]));
      line = await reader.line();
    }
    // Only where the replay maps UIDs from its own answers (SEARCH, APPENDUID, COPYUID): literals' content is not kept.
    collect?.push(line);
    if (tag === undefined || line.startsWith(`${tag} `)) return lines;
    // A continuation request ends the answer too: the client's next line is what the server waits for.
    if (line.startsWith('+')) return lines;
  }
}

/** An IMAP quoted string (RFC 9051 §4.3): backslash and double quote escaped. */
export const imapQuoted = (s: string): string => `"${s.replace(/["\\]/g, '\\$&')}"`;
