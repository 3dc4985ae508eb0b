/**
 * The values `report diff` and `run --baseline` take as options: formats and the latency threshold. Kept apart from
 * diff.ts (which loads zod to read reports) so that defining the CLI's options, and printing --help, loads no schema.
 */

export const DIFF_FORMATS = ['console', 'markdown', 'json'] as const;
export type DiffFormat = (typeof DIFF_FORMATS)[number];

/** A latency regresses when it grew by more than BOTH: the percentage and the milliseconds (so 3 → 9 ms is no regression, nor is 20 s → 20.3 s). */
export interface Threshold {
  readonly percent: number;
  readonly ms: number;
}

export const DEFAULT_THRESHOLD: Threshold = { percent: 50, ms: 200 };

/** "50%", "200ms", "50%,200ms" (either part alone keeps the default of the other). */
export function parseThreshold(spec: string): Threshold {
  let { percent, ms } = DEFAULT_THRESHOLD;
  const parts = spec.split(',').map((p) => p.trim());
  for (const part of parts) {
    const m = /^(\d+(?:\.\d+)?)(%|ms)$/.exec(part);
    if (m === null) throw new Error(`bad threshold "${spec}": use PERCENT%, MILLISECONDSms or both, e.g. 50%,200ms`);
    if (m[2] === '%') percent = Number(m[1]);
    else ms = Number(m[1]);
  }
  return { percent, ms };
}
