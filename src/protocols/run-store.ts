/**
 * A store of what one run learnt per account, kept between the run's sessions
 * (the POP3 maildrop memory, the IMAP special-use listing). Module state,
 * because a run's sessions are opened by the protocol modules and the runner
 * has no per-run store for protocols; only the latest few runs are kept, so a
 * long-lived process does not grow.
 */
const RUNS_KEPT = 4;

export class RunStore<T> {
  readonly #byRun = new Map<string, Map<string, T>>();

  /** The run's entry for `account`, made by `create` the first time it is asked for. */
  get(runId: string, account: string, create: () => T): T {
    const run = this.#run(runId);
    let entry = run.get(account);
    if (entry === undefined) {
      entry = create();
      run.set(account, entry);
    }
    return entry;
  }

  /** Forgets the run's entry for `account` (a failed lookup is asked again next time). */
  forget(runId: string, account: string): void {
    this.#byRun.get(runId)?.delete(account);
  }

  #run(runId: string): Map<string, T> {
    let run = this.#byRun.get(runId);
    if (run === undefined) {
      run = new Map();
      this.#byRun.set(runId, run);
      while (this.#byRun.size > RUNS_KEPT) this.#byRun.delete(this.#byRun.keys().next().value as string);
    }
    return run;
  }
}

/** One account on one endpoint: the key within a run. */
export function accountKey(k: { readonly host: string; readonly port: number; readonly user: string }, ...more: readonly string[]): string {
  return [k.host, String(k.port), k.user, ...more].join('\0');
}
