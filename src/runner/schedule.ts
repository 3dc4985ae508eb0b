/**
 * Runs up to `concurrency` scenarios at once (issue 10 §6). A scenario starts
 * only when
 * - fewer than `concurrency` run,
 * - none of those running holds a claim that conflicts with its own
 *   (src/runner/claims.ts: an INBOX, a folder, the run's tree, an account), and
 * - its peak connections to each host fit what the running ones left of
 *   `maxPerHost` (or nothing else runs on that host: a scenario that needs
 *   more than the whole budget runs alone there, and never waits for itself).
 * Every claim is taken at start, all or nothing, and given back when the
 * scenario has ended, cleanup included; so no scenario waits holding a claim
 * and no two can wait for each other. The first scenario in plan order that
 * fits starts first; one that does not fit lets later ones go past it.
 * With concurrency 1 this is the plain loop in plan order.
 */
import { claimsConflict, type ScenarioClaims } from './claims.js';

export interface ScheduleOptions {
  readonly concurrency: number;
  /** Connections per host the budget allows (admission only; the budget itself bounds the sockets). */
  readonly maxPerHost: number;
  /** Once aborted, nothing more starts; what never started is reported by `skip`. */
  readonly signal: AbortSignal;
}

/** One scenario's place in the schedule, for the log. */
export interface ScheduleEntry {
  readonly index: number;
  /** Plan indexes of the scenarios running when this one started. */
  readonly alongside: readonly number[];
  /** Which of the scenario's ways to run it started with (0: the first; see src/runner/stand-ins.ts). */
  readonly option: number;
}

/**
 * `claims[i]`: what scenario i holds, or, when it may run in several ways (a stand-in mailbox for a
 * role), what each way holds, in order of preference; it starts with the first way that fits.
 */
export async function runScheduled(
  claims: readonly (ScenarioClaims | readonly ScenarioClaims[])[],
  options: ScheduleOptions,
  run: (index: number, entry: ScheduleEntry) => Promise<void>,
  skip: (index: number) => Promise<void>,
): Promise<void> {
  const ways = claims.map((c): readonly ScenarioClaims[] => (Array.isArray(c) ? c : [c as ScenarioClaims]));
  const pending = claims.map((_, i) => i);
  /** Each running scenario, with the claims of the way it started. */
  const running = new Map<number, ScenarioClaims>();
  const inUse = new Map<string, number>();
  let wake: () => void = () => undefined;

  const fits = (mine: ScenarioClaims): boolean => {
    for (const other of running.values()) if (claimsConflict(mine, other)) return false;
    for (const [host, need] of mine.connections) {
      const used = inUse.get(host) ?? 0;
      if (used > 0 && used + need > options.maxPerHost) return false;
    }
    return true;
  };
  const take = (held: ScenarioClaims, sign: 1 | -1) => {
    for (const [host, need] of held.connections) {
      // A scenario that needs the whole budget (Infinity) holds all of it.
      const n = Math.min(need, options.maxPerHost);
      inUse.set(host, (inUse.get(host) ?? 0) + sign * n);
    }
  };

  const tasks: Promise<void>[] = [];
  let failure: { error: unknown } | undefined;
  while (pending.length > 0 || running.size > 0) {
    if (!options.signal.aborted) {
      for (let i = 0; i < pending.length && running.size < options.concurrency; ) {
        const index = pending[i]!;
        // The first way that fits; a serial run (nothing running) always takes the first.
        const option = ways[index]!.findIndex(fits);
        if (option === -1) {
          i++;
          continue;
        }
        const held = ways[index]![option]!;
        pending.splice(i, 1);
        const entry: ScheduleEntry = { index, alongside: [...running.keys()].sort((a, b) => a - b), option };
        running.set(index, held);
        take(held, 1);
        tasks.push(
          run(index, entry)
            .catch((error: unknown) => {
              failure ??= { error };
            })
            .finally(() => {
              running.delete(index);
              take(held, -1);
              wake();
            }),
        );
      }
    } else {
      // Interrupted: what has not started never will, and says so.
      for (const index of pending.splice(0)) await skip(index);
    }
    if (running.size === 0 && pending.length === 0) break;
    if (running.size === 0 && !options.signal.aborted) {
      // Nothing runs and nothing fits: cannot happen (an idle host admits anything); guard against a spin.
      throw new Error(`scheduler: scenario ${pending[0]} cannot start with nothing running`);
    }
    await new Promise<void>((resolve) => {
      wake = resolve;
      if (options.signal.aborted && pending.length > 0) resolve();
    });
  }
  await Promise.all(tasks);
  if (failure !== undefined) throw failure.error;
}
