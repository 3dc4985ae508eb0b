/**
 * The measured window of a `mailprobe load` run, and how its clients stop.
 *
 * The window's end never cuts a command short. Each client finishes the
 * command it has in flight, logs out, and only then does cleanup run; only a
 * command answered by the deadline is counted. Why: cutting the connection
 * at the deadline left the server to finish an APPEND it had already read.
 * Dovecot 2.3 finished one after cleanup had deleted the client's folder,
 * re-created the folder around the message, and the run's folder outlived a
 * cleanup that had checked it gone a moment before.
 *
 * Ctrl-C stops the clients after their current command. A connection still
 * busy GRACE_MS later is dropped (a server that never answers must not hold
 * the run). The server may still finish what such a connection had sent, so
 * the run notes every session that did not end with its own logout, and
 * cleanup then checks again after SETTLE_MS (see settleBeforeRecheck).
 */
import { setMaxListeners } from 'node:events';

/** How long Ctrl-C lets the clients finish their commands before their connections are dropped. */
export const GRACE_MS = 5_000;
/** How long cleanup waits before its second look when a session ended without logging out. */
export const SETTLE_MS = 1_000;

export class LoadWindow {
  readonly #now: () => number;
  readonly #interrupt: AbortSignal;
  readonly #graceMs: number;
  /** The clients' connections listen on this: aborted only when Ctrl-C's grace runs out. */
  readonly #drop = new AbortController();
  #stopping = false;
  #deadline = Number.POSITIVE_INFINITY;
  #grace: NodeJS.Timeout | undefined;
  /** Sessions that ended without their own logout (dropped, or cut off by an error). */
  #unclean = 0;

  constructor(interrupt: AbortSignal, now: () => number, graceMs = GRACE_MS) {
    this.#now = now;
    this.#interrupt = interrupt;
    this.#graceMs = graceMs;
    // Every client's connection listens on the one signal: many listeners, by design.
    setMaxListeners(0, this.#drop.signal);
    if (interrupt.aborted) this.#onInterrupt();
    else interrupt.addEventListener('abort', this.#onInterrupt, { once: true });
  }

  readonly #onInterrupt = (): void => {
    this.#stopping = true;
    this.#grace = setTimeout(() => this.#drop.abort(), this.#graceMs);
  };

  /** For the clients' connections. */
  get signal(): AbortSignal {
    return this.#drop.signal;
  }

  /** Ctrl-C came: no new command starts. */
  get stopping(): boolean {
    return this.#stopping;
  }

  /** Opens the measured window now; returns its start. */
  open(durationMs: number): number {
    const t0 = this.#now();
    this.#deadline = t0 + durationMs;
    return t0;
  }

  get deadline(): number {
    return this.#deadline;
  }

  /** A client may start another command (or cycle). */
  get running(): boolean {
    return !this.#stopping && this.#now() < this.#deadline;
  }

  /** A command answered now is inside the window. */
  counts(): boolean {
    return this.#now() <= this.#deadline;
  }

  /** The connections were dropped by Ctrl-C's grace running out: an error after that is ours, not the server's. */
  get dropped(): boolean {
    return this.#drop.signal.aborted;
  }

  noteUnclean(): void {
    this.#unclean++;
  }

  get unclean(): number {
    return this.#unclean;
  }

  /** Ends the run's hold on Ctrl-C; the connections are all closed by now. */
  close(): void {
    clearTimeout(this.#grace);
    this.#interrupt.removeEventListener('abort', this.#onInterrupt);
  }
}

/**
 * Cleanup's second look: when a session ended without its own logout, waits
 * SETTLE_MS so that what the server still had of it is done, and says so.
 * The wait is the run's, not each account's: later calls share the first one.
 */
export function settleBeforeRecheck(window: LoadWindow, settleMs = SETTLE_MS): Promise<boolean> {
  if (window.unclean === 0) return Promise.resolve(false);
  settling.set(window, settling.get(window) ?? new Promise((resolve) => setTimeout(() => resolve(true), settleMs)));
  return settling.get(window) as Promise<boolean>;
}

const settling = new WeakMap<LoadWindow, Promise<boolean>>();
