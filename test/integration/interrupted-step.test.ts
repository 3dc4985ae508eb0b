import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ImapProxy } from '../../fixtures/servers/imap-proxy.js';
import type { Reporter } from '../../src/runner/reporter.js';
import { startLabProxy } from '../support/lab-proxy.js';
import { cleanUpLabRun, REPO_ROOT, runSuite, summarize } from '../support/run-suite.js';
import { replaceFlags } from '../support/expect-helpers.js';

/**
 * Ctrl-C while a step waits is an interruption, never a verdict on the server:
 * imap/idle-push interrupted during its IDLE wait is not "failed, no EXISTS
 * within timeouts.push", and the time reported is the time actually waited.
 * The proxy holds IDLE pushes back, so without the interrupt the wait would
 * run to its full (long) bound.
 */
const SCENARIO = join(REPO_ROOT, 'suites', 'imap', 'idle-push.yaml');
const PUSH_BOUND_MS = 120_000;
const WAIT_STEP = 'the server pushes EXISTS to the idling phone';

describe('a step interrupted while it waits', () => {
  let proxy: ImapProxy;
  let targetFile: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    ({ proxy, targetFile, env } = await startLabProxy(inject('lab'), 'interrupted-idle'));
    const doc = parseDocument(await readFile(targetFile, 'utf8'));
    doc.setIn(['timeouts', 'push'], PUSH_BOUND_MS);
    await writeFile(targetFile, doc.toString());
  });
  afterAll(async () => {
    await proxy?.close();
  });

  it('is interrupted, not failed, with the time actually waited, and cleanup still runs', async () => {
    replaceFlags(proxy.mutations, { swallowIdleNotifications: true });
    const abort = new AbortController();
    // The interrupt comes once the message is sent, while the phone waits for its push.
    const reporter: Reporter = {
      name: 'interrupts-during-idle-wait',
      onStepEnd: (_scenario, step) => {
        if (step.action === 'smtp.send') setTimeout(() => abort.abort(new Error('interrupted by SIGINT')), 500);
      },
    };
    let result;
    try {
      result = (await runSuite({ targetFile, env, paths: [SCENARIO], signal: abort.signal, reporters: [reporter] })).result;
    } finally {
      replaceFlags(proxy.mutations, {});
    }
    const scenario = result.scenarios[0]!;
    expect(result.interrupted).toBe(true);
    expect(scenario.state, summarize(result)).not.toBe('failed');
    expect(scenario.state, summarize(result)).toBe('errored');
    if (scenario.state !== 'errored') return;
    expect(scenario.error.code).toBe('EINTERRUPTED');
    expect(scenario.error.step).toBe(WAIT_STEP);

    const wait = scenario.steps.find((s) => s.name === WAIT_STEP)!;
    expect(wait.state).toBe('errored');
    expect(wait.checks).toEqual([]);
    // Far below the bound it would have waited without the interrupt (an upper bound only).
    expect(wait.durationMs).toBeLessThan(PUSH_BOUND_MS / 4);
    if (wait.state === 'errored') expect(wait.problem.message).toMatch(new RegExp(`after ${wait.durationMs} ms`));
    expect(scenario.properties.idle_push_arrived).toBeUndefined();

    // The first interrupt still cleans up: the message that was sent is gone.
    expect(
      scenario.cleanup.map((s) => s.state),
      summarize(result),
    ).toEqual(['passed']);
    expect(scenario.leftovers).toEqual([]);
    expect(await cleanUpLabRun(inject('lab'), result.runId)).toEqual([]);
  }, 90_000);
});
