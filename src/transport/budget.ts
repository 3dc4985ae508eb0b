import { abortedError } from './phase.js';

/**
 * The per-host connection budget of one run (issue 10 §6): at most
 * `maxPerHost` connections open to one host at once, and at most
 * `connectsPerSecond` new ones to it in any one-second window, so that a
 * concurrent run does not trip a real host's limits (Dovecot's
 * mail_max_userip_connections, Postfix anvil's connection count and rate).
 *
 * One budget per run, made by the runner and handed down: no process-wide
 * state. Every connection mailprobe opens asks its gate before the DNS phase
 * (src/transport/connect.ts, and the imapflow session just above its
 * transport), so that waiting for the budget is never counted against a
 * server's timeout; the slot is given back when the TCP socket closes.
 *
 * Deadlock: the runner admits a scenario only when its estimated peak fits
 * the host's remaining budget (src/runner/schedule.ts), so in practice no
 * wait here lasts longer than another scenario's connection. Should an
 * estimate be short, every lease on a host could end up waiting for a slot
 * the others hold; when that has lasted STUCK_GRACE_MS with no slot given
 * back, and only then, the oldest waiter is let through above the bound
 * (counted in `overruns`), since waiting would never end.
 */

/** Gives a granted slot back; calling it again does nothing. */
export type Release = () => void;

/** What a connection asks before it opens. */
export interface ConnectGate {
  /** Waits for a slot and for the rate (rejects with the signal's reason when it aborts first). */
  acquire(signal?: AbortSignal): Promise<Release>;
}

export interface BudgetLimits {
  /** Connections open to one host at once. */
  readonly maxPerHost: number;
  /** New connections to one host per second. */
  readonly connectsPerSecond: number;
}

/** Defaults: see the README ("Running scenarios at once") for why these numbers. */
export const DEFAULT_BUDGET: BudgetLimits = { maxPerHost: 4, connectsPerSecond: 50 };

const WINDOW_MS = 1_000;
/**
 * How long every holder must wait, with no slot given back meanwhile, before the
 * wait counts as stuck. A session dropped and opened again at once asks for its
 * new slot a moment before its old socket's close gives the old one back; that
 * is no deadlock, and must not let anyone past the bound.
 */
const STUCK_GRACE_MS = 1_000;

interface Waiter {
  readonly lease: BudgetLease;
  readonly grant: () => void;
}

/** One host's book: open slots by lease, recent grants, and who waits. */
class HostBook {
  open = 0;
  readonly openBy = new Map<BudgetLease, number>();
  /** Times of the grants in the last window, oldest first. */
  readonly grants: number[] = [];
  readonly waiting: Waiter[] = [];
  timer: NodeJS.Timeout | undefined;
  /** Slots given back so far: a wait that saw none for STUCK_GRACE_MS is stuck for real. */
  releases = 0;
  /** Since when, and after how many releases, every holder has been waiting; undefined when they are not. */
  stuck: { readonly since: number; readonly releases: number } | undefined;
}

export class ConnectionBudget {
  readonly #hosts = new Map<string, HostBook>();
  readonly #now: () => number;
  /** Grants made above maxPerHost to break a wait that could never end (see above). */
  overruns = 0;

  constructor(
    readonly limits: BudgetLimits = DEFAULT_BUDGET,
    options: { readonly now?: () => number } = {},
  ) {
    if (!Number.isInteger(limits.maxPerHost) || limits.maxPerHost < 1) throw new RangeError('maxPerHost must be a whole number >= 1');
    if (!(limits.connectsPerSecond > 0)) throw new RangeError('connectsPerSecond must be > 0');
    this.#now = options.now ?? Date.now;
  }

  /** The connections of one scenario: its gates, and the lease the deadlock rule reasons about. */
  lease(): BudgetLease {
    return new BudgetLease(this);
  }

  /** Connections open to `host` now. */
  openTo(host: string): number {
    return this.#hosts.get(hostKey(host))?.open ?? 0;
  }

  /** @internal BudgetLease.gate */
  acquire(lease: BudgetLease, host: string, signal: AbortSignal | undefined): Promise<Release> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    const key = hostKey(host);
    let book = this.#hosts.get(key);
    if (!book) this.#hosts.set(key, (book = new HostBook()));
    const hostBook = book;
    return new Promise<Release>((resolve, reject) => {
      const onAbort = () => {
        const i = hostBook.waiting.indexOf(waiter);
        if (i >= 0) hostBook.waiting.splice(i, 1);
        reject(abortReason(signal!));
        // A waiter gone may unblock the deadlock rule for the others.
        this.#pump(hostBook);
      };
      const waiter: Waiter = {
        lease,
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          hostBook.open++;
          hostBook.openBy.set(lease, (hostBook.openBy.get(lease) ?? 0) + 1);
          hostBook.grants.push(this.#now());
          let released = false;
          resolve(() => {
            if (released) return;
            released = true;
            hostBook.open--;
            hostBook.releases++;
            const mine = (hostBook.openBy.get(lease) ?? 1) - 1;
            if (mine === 0) hostBook.openBy.delete(lease);
            else hostBook.openBy.set(lease, mine);
            this.#pump(hostBook);
          });
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      hostBook.waiting.push(waiter);
      this.#pump(hostBook);
    });
  }

  /** Grants what the bound and the rate allow, first come first served; schedules itself for the rate. */
  #pump(book: HostBook): void {
    if (book.timer !== undefined) {
      clearTimeout(book.timer);
      book.timer = undefined;
    }
    while (book.waiting.length > 0) {
      const now = this.#now();
      while (book.grants.length > 0 && now - book.grants[0]! >= WINDOW_MS) book.grants.shift();
      if (book.grants.length >= this.limits.connectsPerSecond) {
        // The oldest grant of the window leaves it at this time; try again then.
        book.timer = setTimeout(() => this.#pump(book), WINDOW_MS - (now - book.grants[0]!));
        return;
      }
      if (book.open >= this.limits.maxPerHost) {
        if (!this.#stuck(book)) {
          book.stuck = undefined;
          return;
        }
        // Seen stuck for the first time, or again after a release: the grace starts (again) now.
        if (book.stuck === undefined || book.stuck.releases !== book.releases) book.stuck = { since: now, releases: book.releases };
        const left = STUCK_GRACE_MS - (now - book.stuck.since);
        if (left > 0) {
          book.timer = setTimeout(() => this.#pump(book), left);
          return;
        }
        this.overruns++;
      }
      book.stuck = undefined;
      book.waiting.shift()!.grant();
    }
  }

  /** Every lease holding a connection to this host is itself waiting: nobody will release one. */
  #stuck(book: HostBook): boolean {
    const waitingLeases = new Set(book.waiting.map((w) => w.lease));
    for (const lease of book.openBy.keys()) if (!waitingLeases.has(lease)) return false;
    return true;
  }
}

/** One scenario's share of the budget: a gate per host. */
export class BudgetLease {
  constructor(readonly budget: ConnectionBudget) {}

  gate(host: string): ConnectGate {
    return { acquire: (signal) => this.budget.acquire(this, host, signal) };
  }
}

/** Hosts as the target names them, case-insensitively (the lab's 127.0.0.1 and 127.0.0.2 are two hosts). */
export function hostKey(host: string): string {
  return host.toLowerCase().replace(/\.$/, '');
}

/**
 * Waits for the gate's slot, before any phase clock starts; without a gate, at once.
 * Ctrl-C ends the wait as it ends a connection phase: EABORTED in phase dns, before anything was sent.
 */
export async function admitted(gate: ConnectGate | undefined, signal: AbortSignal | undefined): Promise<Release> {
  if (gate === undefined) return () => undefined;
  try {
    return await gate.acquire(signal);
  } catch (error) {
    if (signal?.aborted) throw abortedError('dns', signal);
    throw error;
  }
}

function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error('aborted while waiting for the connection budget');
}
