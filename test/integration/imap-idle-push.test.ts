import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ImapProxy } from '../../fixtures/servers/imap-proxy.js';
import { startLabProxy } from '../support/lab-proxy.js';
import { cleanUpLabRun, REPO_ROOT, runSuite, summarize } from '../support/run-suite.js';
import { replaceFlags } from '../support/expect-helpers.js';

/**
 * imap/idle-push judges push latency against the host's own promise, not an
 * RFC bound (RFC 2177 sets none), and reports when the EXISTS came even if it
 * came late: after DONE, with the command that ended the IDLE.
 */
const SCENARIO = join(REPO_ROOT, 'suites', 'imap', 'idle-push.yaml');
const PUSH_BOUND_MS = 2_000;

describe('imap/idle-push through the proxy', () => {
  let proxy: ImapProxy;
  let targetFile: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    ({ proxy, targetFile, env } = await startLabProxy(inject('lab'), 'idle-push'));
    // A short bound keeps the late case quick; the lab pushes within milliseconds.
    const doc = parseDocument(await readFile(targetFile, 'utf8'));
    doc.setIn(['timeouts', 'push'], PUSH_BOUND_MS);
    await writeFile(targetFile, doc.toString());
  });
  afterAll(async () => {
    await proxy?.close();
  });

  const run = async (swallowIdleNotifications: boolean) => {
    replaceFlags(proxy.mutations, swallowIdleNotifications ? { swallowIdleNotifications } : {});
    try {
      return (await runSuite({ targetFile, env, paths: [SCENARIO] })).result;
    } finally {
      replaceFlags(proxy.mutations, {});
    }
  };

  it('records the latency of a push that arrives while idling', async () => {
    const result = await run(false);
    const scenario = result.scenarios[0]!;
    expect(scenario.state, summarize(result)).toBe('passed');
    expect(scenario.properties.idle_push_arrived).toBe('during IDLE');
    expect(Number(scenario.properties.idle_push_latency_ms)).toBeLessThan(PUSH_BOUND_MS);
  });

  it('fails a push held until the next command against the host promise, and records when it came', async () => {
    const result = await run(true);
    const scenario = result.scenarios[0]!;
    expect(scenario.state, summarize(result)).toBe('failed');
    if (scenario.state !== 'failed') return;
    expect(scenario.failure.rfc).toMatch(/RFC 2177 §3 sets no bound/);
    expect(scenario.failure.rfc).toMatch(/host's promise/);
    expect(scenario.failure.message).toMatch(/no EXISTS within timeouts\.push/);
    // The EXISTS came after all, with the NOOP that ended the IDLE: that is reported, with when.
    expect(scenario.properties.idle_push_arrived).toMatch(/^after DONE/);
    expect(Number(scenario.properties.idle_push_latency_ms)).toBeGreaterThanOrEqual(PUSH_BOUND_MS);
    expect(scenario.leftovers, summarize(result)).toEqual([]);
    expect(await cleanUpLabRun(inject('lab'), result.runId)).toEqual([]);
  });
});
