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
   * Longest wait for the next line of a reply. It is an inactivity bound, not
   * a total: a large RETR on a slow link keeps going as long as lines arrive.
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

export function resolveTimeouts(overrides: Partial<Timeouts> = {}): Timeouts {
  const timeouts = { ...DEFAULT_TIMEOUTS };
  for (const [key, value] of Object.entries(overrides) as Array<[keyof Timeouts, number | undefined]>) {
    if (value === undefined) continue;
    if (!Number.isFinite(value) || value <= 0) {
      throw new RangeError(`timeout ${key} must be a positive number of milliseconds, got ${String(value)}`);
    }
    timeouts[key] = value;
  }
  return timeouts;
}
