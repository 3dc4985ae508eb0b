/**
 * Latency samples per command and their percentiles. Samples are kept whole
 * (a Float64Array that doubles as it fills): at ~10k commands/s for a minute
 * that is a few MB, and exact percentiles need no histogram buckets to explain.
 */

export class Samples {
  #values = new Float64Array(1024);
  #count = 0;

  add(ms: number): void {
    if (this.#count === this.#values.length) {
      const grown = new Float64Array(this.#values.length * 2);
      grown.set(this.#values);
      this.#values = grown;
    }
    this.#values[this.#count++] = ms;
  }

  get count(): number {
    return this.#count;
  }

  sorted(): Float64Array {
    return this.#values.slice(0, this.#count).sort();
  }
}

/** Nearest-rank percentile (p in (0, 100]) of ascending values; NaN when there are none. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

export type Outcome = 'ok' | 'failed' | 'errored' | 'inconclusive';

/** One command's book: latencies of the answered ones, and what went wrong. */
export class CommandStats {
  readonly samples = new Samples();
  failed = 0;
  errored = 0;
  inconclusive = 0;

  record(outcome: Outcome, ms: number): void {
    if (outcome === 'ok') this.samples.add(ms);
    else this[outcome]++;
  }

  get errors(): number {
    return this.failed + this.errored + this.inconclusive;
  }
}

export interface CommandSummary {
  readonly command: string;
  /** Commands answered OK (their latencies are the percentiles). */
  readonly count: number;
  readonly failed: number;
  readonly errored: number;
  readonly inconclusive: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export function summarise(command: string, stats: CommandStats): CommandSummary {
  const sorted = stats.samples.sorted();
  const round = (n: number) => Math.round(n * 1000) / 1000;
  return {
    command,
    count: sorted.length,
    failed: stats.failed,
    errored: stats.errored,
    inconclusive: stats.inconclusive,
    p50Ms: round(percentile(sorted, 50)),
    p95Ms: round(percentile(sorted, 95)),
    p99Ms: round(percentile(sorted, 99)),
    maxMs: round(sorted.length === 0 ? Number.NaN : (sorted[sorted.length - 1] as number)),
  };
}
