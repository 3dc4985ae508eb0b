import type { RunResult } from '../runner/results.js';

/**
 * Exit codes, documented in the README. A CI job can tell "the server broke a
 * promise" (1) from "we could not check" (3) from "try again later" (4).
 */
export const EXIT = {
  /** Every scenario passed or was skipped. */
  OK: 0,
  /** At least one scenario failed: the server is not compliant. */
  FAILED: 1,
  /** Invalid input or usage: bad scenario or target file, bad option. Nothing was connected to. */
  USAGE: 2,
  /** Could not run: connection, TLS, timeout, credentials, or a reporter crashed. */
  ERRORED: 3,
  /** Only temporary refusals (4xx, [IN-USE], [SYS/TEMP]) stood between the run and a verdict. */
  INCONCLUSIVE: 4,
  /** Interrupted by SIGINT/SIGTERM; cleanup ran and reports were written. */
  INTERRUPTED: 130,
} as const;

export function exitCodeFor(run: RunResult): number {
  if (run.interrupted) return EXIT.INTERRUPTED;
  const states = new Set(run.scenarios.map((s) => s.state));
  if (states.has('failed')) return EXIT.FAILED;
  if (states.has('errored')) return EXIT.ERRORED;
  if (states.has('inconclusive')) return EXIT.INCONCLUSIVE;
  return EXIT.OK;
}

/**
 * One exit code for several runs (one per target): the most serious of them,
 * in the order a CI job acts on: interrupted, failed, errored, inconclusive,
 * passed. A server that broke a promise on one target fails the whole run.
 */
export function worstExit(codes: readonly number[]): number {
  for (const code of [EXIT.INTERRUPTED, EXIT.USAGE, EXIT.FAILED, EXIT.ERRORED, EXIT.INCONCLUSIVE]) if (codes.includes(code)) return code;
  return EXIT.OK;
}
