import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderConsoleSummary, renderJson, renderTap } from '../../src/reporters/index.js';
import { renderJUnit } from '../../src/reporters/junit.js';
import type { Reporter } from '../../src/runner/reporter.js';
import { loadScenarios } from '../../src/runner/load-inputs.js';
import type { ScenarioResult } from '../../src/runner/results.js';
import { runAll } from '../../src/runner/run.js';
import type { RunTarget } from '../../src/actions/run-target.js';
import { DEFAULT_TIMEOUTS } from '../../src/target/model.js';
import { Redactor } from '../../src/transport/redact.js';
import pc from 'picocolors';

/**
 * An interrupted run's reports list every scenario of the plan: the ones that
 * never ran are skipped with the reason "interrupted", so the counts match the
 * plan in every format. The target has no endpoints, so every scenario that
 * runs is skipped for an unmet requirement before anything connects.
 */
const SUITE = join(resolve(import.meta.dirname, '..', '..'), 'suites', 'pop3');

const target: RunTarget = {
  name: 'nowhere',
  host: '127.0.0.1',
  file: '(test)',
  endpoints: {},
  accounts: {},
  timeouts: DEFAULT_TIMEOUTS,
  capabilitiesRequired: {},
};

describe('an interrupted run', () => {
  it('reports the scenarios that never ran as skipped "interrupted", so every format counts the plan', async () => {
    const loaded = await loadScenarios([SUITE]);
    const scenarios = loaded.value!;
    expect(scenarios.length).toBeGreaterThan(2);
    const abort = new AbortController();
    const ended: ScenarioResult[] = [];
    // Ctrl-C lands while the first scenario is running: it ends, then nothing else may start.
    const reporter: Reporter = {
      name: 'interrupts-after-first',
      onScenarioStart: () => {
        if (!abort.signal.aborted) abort.abort(new Error('interrupted by SIGINT'));
      },
      onScenarioEnd: (result) => {
        ended.push(result);
      },
    };
    const run = await runAll({
      runId: 'r1',
      target,
      scenarios,
      passwords: {},
      redactor: new Redactor([]),
      reporter,
      signal: abort.signal,
      messageDir: '/nonexistent',
      makeResolver: () => (tree) => tree,
      version: '0.0.0-test',
    });

    expect(run.interrupted).toBe(true);
    expect(run.scenarios.map((s) => s.id)).toEqual(scenarios.map((s) => s.id));
    // The first one ran (and was skipped for its own reason); the others never ran.
    expect(run.scenarios[0]!.state).toBe('skipped');
    expect(run.scenarios[0]!.state === 'skipped' && run.scenarios[0]!.reason).not.toBe('interrupted');
    for (const s of run.scenarios.slice(1)) {
      expect(s.state).toBe('skipped');
      expect(s.state === 'skipped' ? s.reason : undefined).toBe('interrupted');
      expect(s.steps).toEqual([]);
    }
    // Reporters saw an end for each of them, so the console lists them as it goes.
    expect(ended.map((s) => s.id)).toEqual(scenarios.map((s) => s.id));

    const n = scenarios.length;
    const json = JSON.parse(renderJson(run)) as { counts: { total: number; skipped: number }; scenarios: unknown[] };
    expect(json.counts.total).toBe(n);
    expect(json.counts.skipped).toBe(n);
    expect(json.scenarios).toHaveLength(n);

    const junit = renderJUnit(run, { cwd: '/' });
    expect(junit).toMatch(new RegExp(`<testsuites[^>]* tests="${n}"[^>]* skipped="${n}"`));
    expect(junit.match(/<testcase /g)).toHaveLength(n);
    expect(junit.match(/<skipped message="interrupted"/g)).toHaveLength(n - 1);

    const tap = renderTap(run, { cwd: '/' });
    expect(tap).toContain(`\n1..${n}\n`);
    expect(tap.match(/^ok \d+ .*# SKIP interrupted$/gm)).toHaveLength(n - 1);

    expect(renderConsoleSummary(run, pc.createColors(false))).toContain(`${n} skipped, 0 inconclusive (${n} scenarios)`);
  });
});
