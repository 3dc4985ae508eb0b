import type { Reporter } from './reporter.js';
import type { Shard } from './shard.js';
import { protocols } from '../protocols/registry.js';
import { bufferedBytes } from '../transport/limits.js';
import type { Redactor } from '../transport/redact.js';
import type { RunResult, ScenarioResult } from './results.js';
import { isInsecure, type RunTarget } from '../actions/run-target.js';
import { runScenario, scenarioIdentity, type ScenarioEnvironment } from './run-scenario.js';
import type { Scenario } from '../scenario/model.js';
import type { RunLedger } from './creation-record.js';
import type { TranscriptEntry } from '../transport/transcript.js';
import { hostKey, type ConnectionBudget, type BudgetLease } from '../transport/budget.js';
import { scenarioClaims } from './claims.js';
import { runScheduled, type ScheduleEntry } from './schedule.js';
import { targetViews, type TargetView } from './stand-ins.js';

export interface RunOptions {
  readonly runId: string;
  readonly target: RunTarget;
  readonly scenarios: readonly Scenario[];
  readonly passwords: Readonly<Record<string, string>>;
  /** The stand-ins' passwords (src/runner/stand-ins.ts), by the name of the variable that holds each. */
  readonly standInPasswords?: Readonly<Record<string, string>>;
  readonly redactor: Redactor;
  readonly reporter: Reporter;
  readonly signal: AbortSignal;
  readonly messageDir: string;
  readonly makeResolver: ScenarioEnvironment['makeResolver'];
  readonly version: string;
  readonly cleanupTimeoutMs?: number;
  /** Aborted on a second Ctrl-C: cleanup stops waiting; the reports are still written. */
  readonly stopCleanup?: AbortSignal;
  readonly ledger?: RunLedger;
  /** The part of the suite this run is (--shard), named in the reports. */
  readonly shard?: Shard;
  /** Every transcript line as it is written, with the id of the scenario it belongs to (--verbose). */
  readonly onTranscript?: (entry: TranscriptEntry, scenarioId: string) => void;
  readonly waiting?: ScenarioEnvironment['waiting'];
  /** Scenarios run at once (--concurrency); default 1, one after another in plan order. */
  readonly concurrency?: number;
  /** The run's per-host connection budget; every connection of every scenario asks it first. */
  readonly budget?: ConnectionBudget;
  /** Told when each scenario starts, with those it runs alongside (the schedule's log). */
  readonly onScheduled?: (entry: ScheduleEntry) => void;
}

/**
 * Runs the scenarios, up to `concurrency` at once under the scheduler's
 * rules (src/runner/schedule.ts: scenarios whose claims on a mailbox
 * conflict never overlap), and emits events. Results, and so every report,
 * stay in plan order: a scenario's onScenarioEnd waits for those before it,
 * so the console shows each scenario's block whole and in the order of a
 * serial run; onScenarioStart and onStepEnd come as they happen and may
 * interleave. Report writing happens in onRunEnd, after the clock stops.
 */
export async function runAll(options: RunOptions): Promise<RunResult> {
  // Before the clock: loaded by a protocol's first session instead, a library (imapflow, ~0.1 s) would count in
  // that scenario's time.
  const used = new Set(options.scenarios.flatMap((s) => Object.values(s.sessions).map((session) => session.protocol)));
  for (const name of used) await protocols.module(name)?.preload?.();
  const startedAt = Date.now();
  // The meter is process-wide: this run measures from here.
  bufferedBytes.resetPeak();
  const target = {
    name: options.target.name,
    host: options.target.host,
    file: options.target.file,
    insecure: isInsecure(options.target),
  };
  const total = options.scenarios.length;
  await options.reporter.onRunStart?.({ runId: options.runId, target, scenarioCount: total, startedAt, version: options.version });
  const results: Array<ScenarioResult | undefined> = new Array(total);
  // onScenarioEnd in plan order, one at a time, each as soon as those before it have ended.
  let announced = 0;
  let announcing: Promise<void> = Promise.resolve();
  const ended = (index: number, result: ScenarioResult): Promise<void> => {
    results[index] = result;
    announcing = announcing.then(async () => {
      for (let next = results[announced]; announced < total && next !== undefined; next = results[announced]) {
        announced++;
        await options.reporter.onScenarioEnd?.(next);
      }
    });
    return announcing;
  };

  const concurrency = options.concurrency ?? 1;
  // A serial run never takes a stand-in: one way per scenario, the target's own accounts.
  const views = options.scenarios.map((s) => (concurrency > 1 ? targetViews(s, options.target) : [{ target: options.target, standIns: {} }]));

  const runOne = async (index: number, view: TargetView): Promise<void> => {
    const scenario = options.scenarios[index]!;
    const info = { id: scenario.id, name: scenario.name, file: scenario.file, index, total };
    await options.reporter.onScenarioStart?.(info);
    const lease = options.budget?.lease();
    const onTranscript = options.onTranscript;
    const ran = await runScenario(scenario, {
      runId: options.runId,
      target: lease === undefined ? view.target : gated(view.target, lease),
      passwords: passwordsOf(view, options),
      redactor: options.redactor,
      signal: options.signal,
      cleanupTimeoutMs: options.cleanupTimeoutMs ?? 60_000,
      ...(options.stopCleanup ? { stopCleanup: options.stopCleanup } : {}),
      ...(options.ledger ? { ledger: options.ledger } : {}),
      messageDir: options.messageDir,
      makeResolver: options.makeResolver,
      ...(onTranscript ? { onTranscript: (entry: TranscriptEntry) => onTranscript(entry, scenario.id) } : {}),
      ...(options.waiting ? { waiting: options.waiting } : {}),
      onStepEnd: (step) => options.reporter.onStepEnd?.(info, step),
    });
    // Which mailbox played a role, when it was not the target's own account: the report says so.
    const standIns = Object.entries(view.standIns).map(([role, user]) => [`stand_in.${role}`, user] as const);
    const result = standIns.length === 0 ? ran : { ...ran, properties: { ...ran.properties, ...Object.fromEntries(standIns) } };
    await ended(index, result);
  };

  await runScheduled(
    views.map((ways, i) => ways.map((v) => scenarioClaims(options.scenarios[i]!, v.target))),
    {
      concurrency,
      maxPerHost: options.budget?.limits.maxPerHost ?? Number.POSITIVE_INFINITY,
      signal: options.signal,
    },
    async (index, entry) => {
      options.onScheduled?.(entry);
      await runOne(index, views[index]![entry.option]!);
    },
    // Never started: listed as not run, so every report counts the whole plan.
    (index) => ended(index, notRun(options.scenarios[index]!)),
  );
  await announcing;
  const run: RunResult = {
    runId: options.runId,
    startedAt,
    durationMs: Date.now() - startedAt,
    target,
    scenarios: results.map((r, i) => r ?? notRun(options.scenarios[i]!)),
    interrupted: options.signal.aborted,
    cleanupStopped: options.stopCleanup?.aborted ?? false,
    mailprobeVersion: options.version,
    peakBufferedBytes: bufferedBytes.peak,
    ...(options.shard !== undefined ? { shard: { index: options.shard.index, total: options.shard.total } } : {}),
  };
  await options.reporter.onRunEnd?.(run);
  return run;
}

/** A scenario the run never started because it was interrupted first. */
function notRun(scenario: Scenario): ScenarioResult {
  return {
    ...scenarioIdentity(scenario, Date.now()),
    durationMs: 0,
    steps: [],
    cleanup: [],
    properties: {},
    capabilities: {},
    leftovers: [],
    state: 'skipped',
    reason: 'interrupted',
  };
}

/** The passwords of a view: a role a stand-in took logs in with the stand-in's (absent: the login says which variable is unset). */
function passwordsOf(view: TargetView, options: RunOptions): Readonly<Record<string, string>> {
  const roles = Object.keys(view.standIns);
  if (roles.length === 0) return options.passwords;
  const passwords: Record<string, string> = { ...options.passwords };
  for (const role of roles) {
    const password = options.standInPasswords?.[view.target.accounts[role]!.passwordEnv];
    if (password === undefined) delete passwords[role];
    else passwords[role] = password;
  }
  return passwords;
}

/** The target as one scenario sees it: every endpoint's connections go through the scenario's share of the budget. */
function gated(target: RunTarget, lease: BudgetLease): RunTarget {
  const endpoints: Record<string, RunTarget['endpoints'][keyof RunTarget['endpoints']]> = {};
  for (const [name, endpoint] of Object.entries(target.endpoints)) {
    if (endpoint !== undefined) endpoints[name] = { ...endpoint, gate: lease.gate(hostKey(endpoint.host)) };
  }
  return { ...target, endpoints };
}
