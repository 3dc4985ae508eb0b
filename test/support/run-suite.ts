import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import type { ScheduleEntry } from '../../src/runner/schedule.js';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import type { Reporter } from '../../src/runner/reporter.js';
import { execute } from '../../src/runner/execute.js';
import { scenarioFilter } from '../../src/runner/load-inputs.js';
import type { RunResult, ScenarioResult } from '../../src/runner/results.js';
import { parseEnvFile } from '../../src/target/index.js';

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');
export const POP3_SUITE = join(REPO_ROOT, 'suites', 'pop3');

export interface SuiteRun {
  readonly result: RunResult;
  /** Scenario results by id, e.g. "pop3/rset". */
  readonly byId: ReadonlyMap<string, ScenarioResult>;
}

/** Runs scenarios through the same entry point as `mailprobe run`, silently. */
export async function runSuite(options: {
  targetFile: string;
  env: Record<string, string | undefined>;
  paths?: string[];
  grep?: string;
  signal?: AbortSignal;
  reporters?: Reporter[];
  /** Reuse a run id, e.g. to clean up after a run whose own cleanup a broken server defeated. */
  runId?: string;
  /** --concurrency: scenarios at once (default 1). */
  concurrency?: number;
  /** Told when each scenario starts and what runs alongside it. */
  onScheduled?: (entry: ScheduleEntry, scenarioId: string) => void;
  /** Where saved local copies go (default: a fresh temporary folder). */
  messagesDir?: string;
}): Promise<SuiteRun> {
  const messagesDir = options.messagesDir ?? (await mkdtemp(join(tmpdir(), 'mailprobe-test-messages-')));
  const outcome = await execute({
    targetFile: options.targetFile,
    paths: options.paths ?? [POP3_SUITE],
    env: options.env,
    ...(options.grep ? { grep: scenarioFilter(options.grep) } : {}),
    reporters: () => options.reporters ?? [],
    stderr: new Writable({ write: (_c, _e, cb) => cb() }),
    signal: options.signal ?? new AbortController().signal,
    messagesDir,
    version: '0.0.0-test',
    ...(options.runId ? { runId: options.runId } : {}),
    ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    ...(options.onScheduled ? { onScheduled: options.onScheduled } : {}),
  });
  if (outcome.kind === 'invalid') throw new Error(`invalid inputs:\n${outcome.problems.join('\n')}`);
  return { result: outcome.result, byId: new Map(outcome.result.scenarios.map((s) => [s.id, s])) };
}

export async function labEnv(envFile: string): Promise<Record<string, string>> {
  return parseEnvFile(await readFile(envFile, 'utf8'), envFile);
}

/** One line per scenario, for assertion messages that say what went wrong. */
export function summarize(result: RunResult): string {
  return result.scenarios
    .map((s) => {
      const detail =
        s.state === 'failed'
          ? `${s.failure.step}: ${s.failure.message}; expected ${s.failure.expected}, got ${s.failure.actual}`
          : s.state === 'errored'
            ? `${s.error.code}: ${s.error.message}`
            : s.state === 'skipped' || s.state === 'inconclusive'
              ? s.reason
              : '';
      return `${s.state.padEnd(12)} ${s.id} ${detail}`;
    })
    .join('\n');
}

/**
 * Removes what a run left on the lab account, under that run's id: for runs a
 * deliberately broken server (a mutating proxy) kept from cleaning up.
 */
export async function cleanUpLabRun(lab: { targetFile: string; envFile: string }, runId: string): Promise<readonly string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'mailprobe-cleanup-'));
  const scenario = join(dir, 'cleanup-only.yaml');
  await writeFile(
    scenario,
    [
      'name: clean up after a run a broken server kept from cleaning',
      'sessions:',
      '  laptop: { protocol: imap, endpoint: imaps, account: primary }',
      'steps:',
      '  - { action: imap.count, session: laptop, with: { mailbox: INBOX } }',
      'cleanup:',
      '  - { action: imap.cleanup, session: laptop }',
      '',
    ].join('\n'),
  );
  const { result } = await runSuite({ targetFile: lab.targetFile, env: await labEnv(lab.envFile), paths: [scenario], runId });
  return result.scenarios[0]?.leftovers ?? ['(no result)'];
}
