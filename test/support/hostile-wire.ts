import type { FakeSession } from './fake-line-server.js';

/**
 * The hostile behaviours, protocol-agnostic: each one is a way of answering (or
 * not answering) a command that a broken or malicious server might choose. A
 * protocol script (hostile-server.ts) decides where one is played; the bytes
 * come from the case. Every endless writer stops when the connection is gone,
 * and after a cap, so a client that never gives up cannot make the test
 * process itself run out of memory or time.
 */
export interface HostileIo {
  readonly session: FakeSession;
  /** The whole command line as received (no line end), '' for the greeting. */
  readonly line: string;
  /** The IMAP tag of the command, '' elsewhere. */
  readonly tag: string;
  /** The run id the CLI announced on stderr, once it has (POP3 ownership checks need it in TOP). */
  readonly runId: () => string | undefined;
  /** Route the session's next raw line here instead of the command table (SASL continuations, DATA). */
  readonly nextLine: (handler: (line: string) => void | Promise<void>) => void;
  /** From now on, ignore everything the client sends (a handshake that never completes). */
  readonly swallow: () => void;
  /**
   * Play the faithful answer to this command, with its first line passed
   * through `firstLine` (e.g. to quote the command back in the reply text).
   */
  readonly faithful: (firstLine?: (line: string) => string) => Promise<void>;
}

export type Behaviour = (io: HostileIo) => void | Promise<void>;

/** Trickle tick: one byte per tick is "slow" for every reader, yet keeps the corpus quick. */
export const TICK_MS = 200;
/** No endless writer sends more than this: far above every limit, small enough for the test process. */
const ENDLESS_CAP_BYTES = 256 * 1024 * 1024;
/** No trickle lasts longer than this, whatever the client does. */
const TRICKLE_CAP_MS = 120_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const asBuffer = (data: string | Buffer): Buffer => (typeof data === 'string' ? Buffer.from(data, 'latin1') : data);

/** Send exactly these bytes (garbage, a refusal, odd numbers). */
export const send =
  (data: string | Buffer | ((io: HostileIo) => string | Buffer)): Behaviour =>
  (io) =>
    io.session.write(asBuffer(typeof data === 'function' ? data(io) : data));

/** The faithful reply with the command quoted in its first line, as servers that echo in their texts do. */
export const echoInReply: Behaviour = (io) => io.faithful((first) => `${first} (you said: ${io.line})`);

/** Never answer: the connection stays open and silent. */
export const silence: Behaviour = () => undefined;

/** `prefix`, then bytes without any line end for as long as the client reads them. */
export const endlessLine =
  (prefix: string | ((io: HostileIo) => string)): Behaviour =>
  async (io) => {
    await io.session.write(typeof prefix === 'function' ? prefix(io) : prefix);
    const chunk = Buffer.alloc(16 * 1024, 0x41);
    for (let sent = 0; sent < ENDLESS_CAP_BYTES && !io.session.closed; sent += chunk.length) await io.session.write(chunk);
  };

/** `prefix`, then one byte per tick, never a line end. */
export const slowBytes =
  (prefix: string | ((io: HostileIo) => string)): Behaviour =>
  async (io) => {
    await io.session.write(typeof prefix === 'function' ? prefix(io) : prefix);
    for (const started = Date.now(); Date.now() - started < TRICKLE_CAP_MS && !io.session.closed; ) {
      await sleep(TICK_MS);
      await io.session.write('x');
    }
  };

/**
 * `head` at once, then the lines of `line(i)` one byte per tick, each with its
 * line end: every line is complete and arrives within the per-line timeout
 * (keep `line(i)` short enough: bytes × tick < the command timeout), but the
 * reply never ends.
 */
export const trickleLines =
  (head: string | ((io: HostileIo) => string), line: (i: number) => string, tickMs = TICK_MS): Behaviour =>
  async (io) => {
    await io.session.write(typeof head === 'function' ? head(io) : head);
    const started = Date.now();
    for (let i = 0; Date.now() - started < TRICKLE_CAP_MS && !io.session.closed; i++) {
      for (const byte of asBuffer(`${line(i)}\r\n`)) {
        if (io.session.closed) return;
        await sleep(tickMs);
        await io.session.write(Buffer.of(byte));
      }
    }
  };

/**
 * `head`, then `count` lines of `line(i)` written in batches (with back-pressure:
 * each batch waits until the kernel took the last), then `tail`. For replies just
 * over a listing or message limit.
 */
export const manyLines =
  (head: string | ((io: HostileIo) => string), line: (i: number) => string, count: number, tail: string | ((io: HostileIo) => string) = ''): Behaviour =>
  async (io) => {
    await io.session.write(typeof head === 'function' ? head(io) : head);
    let batch: string[] = [];
    let batchBytes = 0;
    for (let i = 0; i < count; i++) {
      if (io.session.closed) return;
      const text = `${line(i)}\r\n`;
      batch.push(text);
      batchBytes += text.length;
      if (batchBytes >= 256 * 1024) {
        await io.session.write(batch.join(''));
        batch = [];
        batchBytes = 0;
      }
    }
    await io.session.write(batch.join('') + (typeof tail === 'function' ? tail(io) : tail));
  };

/** `prefix`, then exactly `size` bytes of body (in lines of 1000 octets), then `tail`: an announced literal, sent. */
export const sizedBody =
  (prefix: string, size: number, tail: string | ((io: HostileIo) => string)): Behaviour =>
  async (io) => {
    await io.session.write(prefix);
    const line = Buffer.from(`${'y'.repeat(998)}\r\n`);
    const block = Buffer.concat(Array.from({ length: 256 }, () => line));
    let left = size;
    while (left > 0 && !io.session.closed) {
      const n = Math.min(left, block.length);
      await io.session.write(block.subarray(0, n));
      left -= n;
    }
    if (!io.session.closed) await io.session.write(typeof tail === 'function' ? tail(io) : tail);
  };

/** Part of a reply, then an abrupt close (RST), as a crashing server does. */
export const closeMidReply =
  (partial: string): Behaviour =>
  async (io) => {
    await io.session.write(partial);
    await sleep(20);
    io.session.destroy();
  };

/**
 * The client-side form of CVE-2011-0411 (plaintext injected before STARTTLS
 * takes effect; Postfix's fix discards buffered plaintext "after reading the
 * SMTP STARTTLS command or response"): the go-ahead for STARTTLS/STLS plus
 * `injected` in the same plaintext write, before the handshake. A client that
 * keeps the buffered bytes would read them as the first reply inside TLS.
 */
export const starttlsInjection =
  (goAhead: string | ((io: HostileIo) => string), injected: string): Behaviour =>
  (io) =>
    io.session.startTls((typeof goAhead === 'function' ? goAhead(io) : goAhead) + injected);

/** The go-ahead for STARTTLS/STLS, then nothing: the ClientHello is read and never answered. */
export const stalledUpgrade =
  (goAhead: string | ((io: HostileIo) => string)): Behaviour =>
  async (io) => {
    io.swallow();
    await io.session.write(typeof goAhead === 'function' ? goAhead(io) : goAhead);
  };

/** Bytes that are no protocol at all: NUL, invalid UTF-8 (a lone continuation byte, an overlong form), C1 controls. */
export const GARBAGE = Buffer.concat([Buffer.from('\x00\xff\xfe'), Buffer.from([0xc0, 0xaf, 0x80, 0x9b]), Buffer.from(' garbage \x00\x1b[2J\r\n', 'latin1')]);
