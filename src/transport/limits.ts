import { TransportError, type Phase } from './errors.js';

/**
 * Every size limit applied to server input, in one place. Server bytes are
 * hostile input: without a bound, a broken or malicious server could make the
 * harness buffer without end. Exceeding any limit raises a TransportError with
 * code ELIMIT and the connection is dropped (its stream can no longer be
 * trusted to be in step with our commands).
 */
export interface Limits {
  /**
   * Longest line, without its line ending. RFC 2449 caps POP3 replies at 512
   * octets and RFC 5322 message lines at 998, but real servers and messages
   * exceed both harmlessly; 64 KiB bounds memory without rejecting them.
   */
  readonly maxLineLength: number;
  /** Largest message body (RETR/TOP) accepted, in octets after unstuffing. */
  readonly maxMessageBytes: number;
  /** Most lines in a multi-line listing (CAPA, LIST, UIDL). */
  readonly maxListingLines: number;
  /** Largest multi-line listing, in octets. */
  readonly maxListingBytes: number;
  /** Listing lines copied into the transcript before the rest is summarised. */
  readonly maxTranscriptListingLines: number;
  /**
   * Entries a run's Transcript keeps (pass to `new Transcript({ maxEntries })`);
   * the same value as the Transcript default, kept here so all limits are listed.
   */
  readonly maxTranscriptEntries: number;
  /**
   * Complete lines buffered ahead of the reader before the socket is paused.
   * Not an error: it is back-pressure, so an unsolicited flood stays bounded.
   */
  readonly maxQueuedLines: number;
  /**
   * Slowest rate, in octets per second, at which a transfer (RETR, TOP, a
   * listing, an IMAP literal) may arrive. A transfer gets the command timeout
   * plus one second per `minTransferRate` octets received: a big message on a
   * slow but honest link keeps going, a server that trickles does not.
   */
  readonly minTransferRate: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxLineLength: 64 * 1024,
  maxMessageBytes: 64 * 1024 * 1024,
  maxListingLines: 1_000_000,
  maxListingBytes: 32 * 1024 * 1024,
  maxTranscriptListingLines: 50,
  maxTranscriptEntries: 20_000,
  maxQueuedLines: 1_000,
  // 4 KiB/s is about 33 kbit/s: slower than a 56k modem (~7 KB/s) or GPRS
  // (~5 KB/s), so only a stalled or hostile peer falls below it. It also bounds
  // what a server that keeps exactly this rate can cost: the largest message
  // (maxMessageBytes, 64 MiB) then takes at most about 4.5 hours.
  minTransferRate: 4 * 1024,
});

export function resolveLimits(overrides: Partial<Limits> = {}): Limits {
  const limits = { ...DEFAULT_LIMITS };
  for (const [key, value] of Object.entries(overrides) as Array<[keyof Limits, number | undefined]>) {
    if (value === undefined) continue;
    if (!Number.isInteger(value) || value < 1) {
      throw new RangeError(`limit ${key} must be a positive integer, got ${String(value)}`);
    }
    limits[key] = value;
  }
  return limits;
}

export function limitExceeded(phase: Phase, what: string, limit: number, details: { host?: string; port?: number; command?: string } = {}): TransportError {
  const where = details.command === undefined ? '' : ` in the reply to ${details.command}`;
  return new TransportError(
    'ELIMIT',
    phase,
    `${what}${where} exceeds the limit of ${limit}; the connection was dropped (server input is bounded, see src/transport/limits.ts)`,
    details,
  );
}

/**
 * A gauge of the bytes of server input mailprobe holds at one moment: partial
 * lines, queued lines, multi-line replies and literals being assembled. Each
 * buffer holds what it keeps and releases it when the bytes are handed on or
 * dropped, so `current` falls back once a reply is done. `peak` is what a
 * hostile server managed to make the process buffer, which the corpus tests
 * assert on (not wall time, not RSS, which are noise on a shared machine).
 *
 * The meter is process-wide, like the memory it stands for. A run reads its
 * own peak: it calls `resetPeak()` when it starts, which sets the peak to the
 * bytes held at that moment (normally 0), and reads `peak` when it ends.
 */
export class BufferMeter {
  #current = 0;
  #peak = 0;

  hold(n: number): void {
    if (n <= 0) return;
    this.#current += n;
    if (this.#current > this.#peak) this.#peak = this.#current;
  }

  release(n: number): void {
    if (n <= 0) return;
    // Never below zero: a release can only undo a hold.
    this.#current = Math.max(0, this.#current - n);
  }

  /** Bytes held now. */
  get current(): number {
    return this.#current;
  }

  /** Most bytes held at once since the last resetPeak() (or since the process started). */
  get peak(): number {
    return this.#peak;
  }

  /** Start a new measurement: the peak becomes what is held now. */
  resetPeak(): void {
    this.#peak = this.#current;
  }
}

/** The process's one meter; every buffer of server bytes holds and releases through it. */
export const bufferedBytes: BufferMeter = new BufferMeter();
