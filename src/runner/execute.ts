import { join } from 'node:path';
import type { Shard } from './shard.js';
import type { Reporter } from './reporter.js';
import { ReporterMultiplexer } from './reporter-multiplexer.js';
import { resolveAccountPassword, type Target } from '../target/index.js';
import { loadErrorRun } from './load-error-run.js';
import { unsetSecretsFor } from './requirements.js';
import { Redactor, type Credential } from '../transport/redact.js';
import type { TranscriptEntry } from '../transport/transcript.js';
import type { RunLedger } from './creation-record.js';
import { loadRunInputs, type ScenarioFilter } from './load-inputs.js';
import { makeResolverFactory } from './resolver.js';
import type { RunResult } from './results.js';
import { runAll } from './run.js';
import { newRunId } from '../core/run-identity.js';
import { ConnectionBudget, DEFAULT_BUDGET, type BudgetLimits } from '../transport/budget.js';
import type { ScheduleEntry } from './schedule.js';

/**
 * A whole run as a library call: load and check every input, then run. The
 * CLI and the integration tests both come through here, so what the tests
 * prove is what the command does.
 */
export interface ExecuteOptions {
  readonly targetFile: string;
  readonly paths: readonly string[];
  /** The environment passwords are read from (process.env plus any env file). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Only scenarios whose name, id or a tag matches (scenarioFilter: compiled where the option is read). */
  readonly grep?: ScenarioFilter;
  /** --shard: only this part of the scenarios (after grep); the reports name it. */
  readonly shard?: Shard;
  /** Per-command timeout in ms, overriding the target file. */
  readonly commandTimeout?: number;
  /** Builds the reporters once the redactor (which knows every secret) exists. */
  readonly reporters: (redactor: Redactor) => Reporter[];
  /**
   * The reporters that still get a run when the input files do not load (the
   * file reports: JUnit, TAP, JSON), so a CI job finds a report naming the
   * broken files; the console prints the problems itself. Only onRunEnd is called.
   */
  readonly loadErrorReporters?: (redactor: Redactor) => Reporter[];
  readonly stderr: NodeJS.WritableStream;
  readonly signal: AbortSignal;
  /** Aborted on a second Ctrl-C: cleanup stops waiting; the reports are still written. */
  readonly stopCleanup?: AbortSignal;
  /** Filled as the run goes: what it left on the server, readable at any moment. */
  readonly ledger?: RunLedger;
  /** Folder where saved message copies go (a run-id subfolder is made). */
  readonly messagesDir: string;
  readonly version: string;
  readonly runId?: string;
  /** --verbose: given the redactor, what to do with every transcript line (and the id of its scenario) as it crosses the wire. */
  readonly onTranscript?: (redactor: Redactor) => (entry: TranscriptEntry, scenarioId: string) => void;
  /** --concurrency: scenarios run at once (default 1). */
  readonly concurrency?: number;
  /**
   * --max-connections-per-host, --connect-rate. The budget is on whenever more than one scenario
   * runs at once (with these limits, or the defaults), and at concurrency 1 only when asked for.
   */
  readonly budget?: Partial<BudgetLimits>;
  /** Told when each scenario starts and what it runs alongside. */
  readonly onScheduled?: (entry: ScheduleEntry, scenarioId: string) => void;
  /** The live "waiting for …" line of a terminal (ActionContext.waiting). */
  readonly waiting?: (what: string, limitMs: number) => () => void;
}

export type ExecuteOutcome =
  | { readonly kind: 'invalid'; readonly problems: readonly string[]; readonly reporterCrashed: boolean }
  | { readonly kind: 'ran'; readonly result: RunResult; readonly reporterCrashed: boolean };

/** A run id that sorts by time and is safe in a header, a folder name and a file name. */

export { newRunId } from '../core/run-identity.js';

export async function execute(options: ExecuteOptions): Promise<ExecuteOutcome> {
  const inputs = await loadRunInputs(options.targetFile, options.paths, options.grep, options.shard);
  // A deviation naming a scenario this run did not load is worth a line, not a refusal (deviation-profile.ts).
  for (const warning of inputs.warnings ?? []) options.stderr.write(`${warning}\n`);
  const runId = options.runId ?? newRunId();
  if (!inputs.target || !inputs.scenarios) {
    const reporterCrashed = await reportLoadErrors(options, inputs, runId);
    return { kind: 'invalid', problems: inputs.problems, reporterCrashed };
  }
  // A password the run will need and cannot have is found here, before any connection, rather than at each
  // scenario's login.
  const unset = unsetSecretsFor(inputs.target, inputs.scenarios, options.env, (options.concurrency ?? 1) > 1);
  if (unset.length > 0) return { kind: 'invalid', problems: unset, reporterCrashed: false };
  const { passwords, standInPasswords, credentials } = secretsOf(inputs.target, options.env);
  const redactor = new Redactor(credentials);
  const timeouts = options.commandTimeout !== undefined ? { ...inputs.target.timeouts, command: options.commandTimeout } : inputs.target.timeouts;
  const target = { ...inputs.target, timeouts };
  const reporter = new ReporterMultiplexer(options.reporters(redactor), { stderr: options.stderr, redactor });
  const startedAt = Date.now();
  const concurrency = options.concurrency ?? 1;
  // One budget per run: nothing of it outlives the run or reaches another one.
  const budget = concurrency > 1 || options.budget !== undefined ? new ConnectionBudget({ ...DEFAULT_BUDGET, ...options.budget }) : undefined;
  const scenarios = inputs.scenarios;
  const onScheduled = options.onScheduled;
  const result = await runAll({
    concurrency,
    ...(budget ? { budget } : {}),
    ...(onScheduled ? { onScheduled: (entry: ScheduleEntry) => onScheduled(entry, scenarios[entry.index]?.id ?? '') } : {}),
    runId,
    target,
    scenarios: inputs.scenarios,
    passwords,
    standInPasswords,
    redactor,
    reporter,
    signal: options.signal,
    ...(options.stopCleanup ? { stopCleanup: options.stopCleanup } : {}),
    ...(options.ledger ? { ledger: options.ledger } : {}),
    ...(options.onTranscript ? { onTranscript: options.onTranscript(redactor) } : {}),
    ...(options.waiting ? { waiting: options.waiting } : {}),
    messageDir: join(options.messagesDir, runId),
    makeResolver: makeResolverFactory({ runId, startedAt, target, env: options.env }),
    version: options.version,
    ...(options.shard !== undefined ? { shard: options.shard } : {}),
  });
  return { kind: 'ran', result, reporterCrashed: reporter.crashed };
}

/** The file reports of a run refused for its inputs (see load-error-run.ts); true when one could not be written. */
async function reportLoadErrors(options: ExecuteOptions, inputs: Awaited<ReturnType<typeof loadRunInputs>>, runId: string): Promise<boolean> {
  if (options.loadErrorReporters === undefined) return false;
  const redactor = new Redactor(inputs.target ? secretsOf(inputs.target, options.env).credentials : []);
  const reporter = new ReporterMultiplexer(options.loadErrorReporters(redactor), { stderr: options.stderr, redactor });
  const run = loadErrorRun({
    runId,
    startedAt: Date.now(),
    version: options.version,
    targetFile: options.targetFile,
    ...(inputs.target ? { target: inputs.target } : {}),
    failures: inputs.failures,
    problems: inputs.problems,
  });
  await reporter.onRunEnd(run);
  return reporter.crashed;
}

/**
 * Secrets only ever come from the environment; every value is known to the redactor, with the
 * user it goes with, so that it can compute every exact form a login puts on the wire.
 */
function secretsOf(
  target: Target,
  env: ExecuteOptions['env'],
): { passwords: Record<string, string>; standInPasswords: Record<string, string>; credentials: Credential[] } {
  const passwords: Record<string, string> = {};
  const standInPasswords: Record<string, string> = {};
  const credentials: Credential[] = [];
  for (const account of Object.values(target.accounts)) {
    try {
      const password = resolveAccountPassword(account, env);
      passwords[account.role] = password;
      credentials.push({ user: account.user, password });
    } catch {
      // Reported by the scenarios that need this account, as an error naming the variable.
    }
    for (const standIn of account.standIns ?? []) {
      const password = env[standIn.passwordEnv];
      if (password === undefined || password === '') continue;
      standInPasswords[standIn.passwordEnv] = password;
      credentials.push({ user: standIn.user, password });
    }
  }
  return { passwords, standInPasswords, credentials };
}
