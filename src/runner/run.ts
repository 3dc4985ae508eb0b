import type { Reporter } from './reporter.js';
import type { Shard } from './shard.js';
import { bufferedBytes } from '../transport/limits.js';
import type { Redactor } from '../transport/redact.js';
import type { RunResult, ScenarioResult } from './results.js';
import { isInsecure, type RunTarget } from '../actions/run-target.js';
import { runScenario, scenarioIdentity, type ScenarioEnvironment } from './run-scenario.js';
import type { Scenario } from '../scenario/model.js';
import type { RunLedger } from './creation-record.js';

export interface RunOptions {
  readonly runId: string;
  readonly target: RunTarget;
  readonly scenarios: readonly Scenario[];
  readonly passwords: Readonly<Record<string, string>>;
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
  readonly onTranscript?: ScenarioEnvironment['onTranscript'];
  readonly waiting?: ScenarioEnvironment['waiting'];
}

/**
 * Runs scenarios one after another (they share mailboxes, so running them in
 * parallel would make one scenario's mail another's surprise) and emits events.
 * Report writing happens in onRunEnd, after the clock stops.
 */
export async function runAll(options: RunOptions): Promise<RunResult> {
  const startedAt = Date.now();
  // The meter is process-wide: this run measures from here.
  bufferedBytes.resetPeak();
  const target = {
    name: options.target.name,
    host: options.target.host,
    file: options.target.file,
    insecure: isInsecure(options.target),
  };
  await options.reporter.onRunStart?.({ runId: options.runId, target, scenarioCount: options.scenarios.length, startedAt, version: options.version });
  const results: ScenarioResult[] = [];
  for (const [index, scenario] of options.scenarios.entries()) {
    if (options.signal.aborted) {
      // Never started: listed as not run, so every report counts the whole plan.
      const result = notRun(scenario);
      results.push(result);
      await options.reporter.onScenarioEnd?.(result);
      continue;
    }
    const info = { id: scenario.id, name: scenario.name, file: scenario.file, index, total: options.scenarios.length };
    await options.reporter.onScenarioStart?.(info);
    const result = await runScenario(scenario, {
      runId: options.runId,
      target: options.target,
      passwords: options.passwords,
      redactor: options.redactor,
      signal: options.signal,
      cleanupTimeoutMs: options.cleanupTimeoutMs ?? 60_000,
      ...(options.stopCleanup ? { stopCleanup: options.stopCleanup } : {}),
      ...(options.ledger ? { ledger: options.ledger } : {}),
      messageDir: options.messageDir,
      makeResolver: options.makeResolver,
      ...(options.onTranscript ? { onTranscript: options.onTranscript } : {}),
      ...(options.waiting ? { waiting: options.waiting } : {}),
      onStepEnd: (step) => options.reporter.onStepEnd?.(info, step),
    });
    results.push(result);
    await options.reporter.onScenarioEnd?.(result);
  }
  const run: RunResult = {
    runId: options.runId,
    startedAt,
    durationMs: Date.now() - startedAt,
    target,
    scenarios: results,
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
