import { oneLine } from '../reporters/escape.js';
import { EXIT } from './exit-codes.js';
import type { RunLedger } from '../runner/creation-record.js';

/** How long the run gets, after a second Ctrl-C, to write its reports before it leaves regardless. */
export const SECOND_INTERRUPT_BOUND_MS = 2_000;

export interface Interrupts {
  /** Aborted by the first SIGINT/SIGTERM: steps stop, cleanup runs, reports are written. */
  readonly signal: AbortSignal;
  /** Aborted by the second: cleanup stops waiting; the reports of what ran are still written. */
  readonly stopCleanup: AbortSignal;
  /** True once a second signal came: the caller then names the leftovers on stderr. */
  readonly hurried: boolean;
  dispose(): void;
}

/**
 * Ctrl-C in three steps, so that no Ctrl-C costs the user the record of what
 * is left on their server:
 * 1. the run stops; cleanup runs and the reports are written (exit 130);
 * 2. cleanup stops waiting; the reports of what ran and the leftovers are
 *    still written, within SECOND_INTERRUPT_BOUND_MS;
 * 3. (or the bound passing) the process leaves at once, naming on stderr what
 *    the creation records say was created and not confirmed gone.
 */
export function installInterrupts(
  say: (line: string) => void,
  ledger: RunLedger,
  options: { boundMs?: number; exit?: (code: number) => void } = {},
): Interrupts {
  const boundMs = options.boundMs ?? SECOND_INTERRUPT_BOUND_MS;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const abort = new AbortController();
  const stop = new AbortController();
  let bound: NodeJS.Timeout | undefined;
  const leaveNow = (why: string) => {
    say(`mailprobe: ${why}; leaving now`);
    sayLeftovers(say, ledger.pending());
    exit(EXIT.INTERRUPTED);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (!abort.signal.aborted) {
      say(`mailprobe: ${signal} received; cleaning up what this run created, then writing reports (Ctrl-C again to stop cleanup)`);
      abort.abort(new Error(`interrupted by ${signal}`));
    } else if (!stop.signal.aborted) {
      say(`mailprobe: ${signal} received again; stopping cleanup, writing the reports of what ran (Ctrl-C again to leave now)`);
      stop.abort(new Error(`cleanup stopped by a second ${signal}`));
      bound = setTimeout(() => leaveNow(`the reports were not written within ${boundMs} ms`), boundMs);
    } else {
      leaveNow(`${signal} received a third time`);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: abort.signal,
    stopCleanup: stop.signal,
    get hurried() {
      return stop.signal.aborted;
    },
    dispose() {
      clearTimeout(bound);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** The leftovers, one per line, so a person can remove them by hand. */
export function sayLeftovers(say: (line: string) => void, leftovers: readonly string[]): void {
  if (leftovers.length === 0) {
    say('mailprobe: nothing this run created is known to be left on the server');
    return;
  }
  say(`mailprobe: left on the server (remove by hand), ${leftovers.length} item(s):`);
  for (const item of leftovers) say(`  ${oneLine(item)}`);
}
