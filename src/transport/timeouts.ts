/**
 * Per-phase timeouts in milliseconds. Each phase has its own so that a report
 * can tell "DNS is slow" from "the server accepts TCP but never greets".
 */
export interface Timeouts {
  readonly dns: number;
  readonly tcp: number;
  readonly tls: number;
  readonly greeting: number;
  /**
   * Longest wait for the next line of a reply, and the deadline of a whole
   * reply: a reply (CAPA, EXAMINE and its untagged responses) must end within
   * it however its lines trickle. A transfer (RETR, TOP, a listing, a literal)
   * gets it plus time for its size at limits.minTransferRate (reply-budget.ts).
   */
  readonly command: number;
}

/** The product's defaults; a target file's timeouts start from these too (src/target/model.ts). */
export const DEFAULT_TIMEOUTS: Readonly<Timeouts> = Object.freeze({
  dns: 5_000,
  tcp: 5_000,
  tls: 5_000,
  greeting: 10_000,
  command: 15_000,
});

/**
 * Node's timers hold a signed 32-bit count of milliseconds: a delay of 2^31 ms
 * or more is silently clamped to 1 ms (with a TimeoutOverflowWarning), which
 * would turn a generous timeout into an instant failure. Configured timeouts
 * are refused at or above this (the target file and --timeout say so).
 */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** The one wording for a timeout over MAX_TIMEOUT_MS, in the target file and on the command line. */
export const TIMEOUT_TOO_LARGE = `a timeout must be at most ${MAX_TIMEOUT_MS} ms (about 24.8 days): Node cannot wait longer and would fire the timer at once`;

/**
 * The delay to give setTimeout for `ms`: at most MAX_TIMEOUT_MS, so that a
 * timer computed from several timeouts (a sum, a transfer's allowance) never
 * overflows; at least 0. Every computed timer goes through here.
 */
export function timerDelay(ms: number): number {
  if (Number.isNaN(ms)) return MAX_TIMEOUT_MS;
  return Math.min(MAX_TIMEOUT_MS, Math.max(0, Math.ceil(ms)));
}

export function resolveTimeouts(overrides: Partial<Timeouts> = {}): Timeouts {
  const timeouts = { ...DEFAULT_TIMEOUTS };
  for (const [key, value] of Object.entries(overrides) as Array<[keyof Timeouts, number | undefined]>) {
    if (value === undefined) continue;
    if (!Number.isFinite(value) || value <= 0) {
      throw new RangeError(`timeout ${key} must be a positive number of milliseconds, got ${String(value)}`);
    }
    if (value > MAX_TIMEOUT_MS) throw new RangeError(`timeout ${key}: ${TIMEOUT_TOO_LARGE}, got ${String(value)}`);
    timeouts[key] = value;
  }
  return timeouts;
}
