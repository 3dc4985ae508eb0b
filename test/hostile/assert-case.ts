import { appendFile } from 'node:fs/promises';
import type { ExpectStatic } from 'vitest';
import { firstScenario, HANG_KILL_MS, runHostileCase, secretSightings, summarise } from '../support/hostile-run.js';
import type { HostileCase } from './cases.js';

/**
 * Per test: vitest starts up to 5 concurrent tests while 4 CLI runs go at once
 * (hostile-run.ts), so a test may wait for a run before its own; each run is
 * killed at HANG_KILL_MS. Plus reading the reports and room for a loaded machine.
 */
export const CASE_TEST_TIMEOUT_MS = 3 * HANG_KILL_MS + 30_000;

/**
 * Runs one case through the built CLI and asserts the five promises of issue 7
 * §7 on it, each as a soft assertion so that a failing case reports every
 * promise it breaks, not only the first (`expect` is the test's own, as
 * concurrent tests need):
 * (a) verdict and exit code; (b) it ends within its deadline bound (an upper
 * bound only) and did not hang; (c) the JSON report's peakBufferedBytes stays
 * under the case's bound; (d) every report was written, and the JSON and JUnit
 * transcripts hold the last server text before the fault; (e) the canary
 * password, in no form, is in stdout, stderr, any report or the out dir.
 */
export async function runAndAssert(c: HostileCase, expect: ExpectStatic): Promise<void> {
  const o = await runHostileCase(c);
  const record = process.env.HOSTILE_OBSERVED;
  if (record) await appendFile(record, `${JSON.stringify({ ...summarise(c.name, o), expected: `${c.verdict}/${c.exit}` })}\n`);
  const context = `${c.name}: exit ${o.result.code} (signal ${o.result.signal}) after ${o.elapsedMs} ms${o.hung ? ' (HUNG: killed)' : ''}\n--- stderr (last 3000) ---\n${o.result.stderr.slice(-3000)}`;
  const scenario = firstScenario(o.json);

  // (a) verdict and exit code
  expect.soft(o.result.code, `exit code\n${context}`).toBe(c.exit);
  expect.soft(scenario?.state, `verdict in the JSON report\n${context}`).toBe(c.verdict);
  if (c.mentions) expect.soft(o.result.stderr, `the console names the cause\n${context}`).toMatch(c.mentions);
  // Advice is what mailprobe says; the transcript lines quote what happened on the wire (a TLS summary
  // says "certificate verified for …"), so they are left out of this check.
  const said = o.result.stderr
    .split('\n')
    .filter((line) => !/^\s*\+\s*\d+ms \[/.test(line))
    .join('\n');
  if (c.notMentions) expect.soft(said, `the console gives no wrong advice\n${context}`).not.toMatch(c.notMentions);

  // (b) time: an upper bound, far above the expected time; and no hang
  expect.soft(o.hung, `the run hung and was killed after ${HANG_KILL_MS} ms\n${context}`).toBe(false);
  expect.soft(o.elapsedMs, `the run ends within ${c.timeBoundMs} ms\n${context}`).toBeLessThanOrEqual(c.timeBoundMs);

  // (c) memory, as bytes held from server input
  const peak = o.json?.peakBufferedBytes;
  expect.soft(typeof peak, `the JSON report carries peakBufferedBytes\n${context}`).toBe('number');
  if (typeof peak === 'number') expect.soft(peak, `peakBufferedBytes within ${c.byteBound}\n${context}`).toBeLessThanOrEqual(c.byteBound);

  // (d) the reports were written, with the transcript up to the fault
  for (const [name, text] of Object.entries(o.reports)) expect.soft(text.length, `the ${name} report was written\n${context}`).toBeGreaterThan(0);
  expect.soft((o.json?.scenarios as unknown[] | undefined)?.length, `the JSON report lists the scenario\n${context}`).toBe(1);
  expect.soft(o.reports.json, `the JSON transcript holds "${c.evidence}"\n${context}`).toContain(c.evidence);
  if (c.verdict !== 'passed') expect.soft(o.reports.junit, `the JUnit report holds "${c.evidence}"\n${context}`).toContain(c.evidence);

  // (e) no secret anywhere
  expect.soft(secretSightings(o), `the canary password appears\n${context}`).toEqual([]);
}
