import { describe, expect, it } from 'vitest';
import type { StepResult } from '../../src/runner/results.js';
import { scenarioVerdict } from '../../src/runner/verdict.js';

/**
 * A scenario whose steps passed but whose cleanup a second Ctrl-C stopped has
 * leftovers, named; that is the user's interrupt, not the server breaking a
 * promise, so the scenario is not failed. A cleanup that broke for another
 * reason still fails the scenario with its leftovers, as before.
 */
const at = (line: number) => ({ file: 's.yaml', line, col: 3 });
const pass = (name: string): StepResult => ({ name, action: 'imap.subscribe', source: at(2), durationMs: 1, checks: [], transcript: [], state: 'passed' });
const cleanupStep = (problem: { code: string; message: string }): StepResult => ({
  name: 'delete what the run made',
  action: 'imap.cleanup',
  source: at(20),
  durationMs: 40,
  checks: [],
  transcript: [{ at: 0, direction: 'client', session: 'laptop~cleanup', text: 'C: 12 DELETE mailprobe-r' }],
  state: 'errored',
  problem,
});
const leftovers = ["subscription 'mailprobe-r/archive' (account alice): not confirmed removed"];
const common = (cleanup: StepResult[]) => ({
  id: 'imap/folder-sync',
  name: 'x',
  file: 's.yaml',
  line: 1,
  tags: [],
  rfc: [],
  durationMs: 5,
  startedAt: 0,
  steps: [pass('a')],
  cleanup,
  properties: {},
  capabilities: {},
  leftovers,
});

describe('the verdict of a scenario whose cleanup was interrupted', () => {
  it('is errored EINTERRUPTED naming the cleanup step and the leftovers, never failed', () => {
    const stopped = cleanupStep({ code: 'EINTERRUPTED', message: 'cleanup stopped by a second SIGINT after 40 ms, before the step could be judged' });
    const result = scenarioVerdict(common([stopped]), [pass('a')], []);
    expect(result.state).toBe('errored');
    if (result.state !== 'errored') return;
    expect(result.error.code).toBe('EINTERRUPTED');
    expect(result.error.step).toBe('delete what the run made');
    expect(result.error.message).toContain('cleanup stopped by a second SIGINT');
    expect(result.error.message).toContain(leftovers[0]);
    expect(result.error.transcript).toEqual(stopped.transcript);
    expect(result.leftovers).toEqual(leftovers);
  });

  it('stays failed when cleanup broke for another reason', () => {
    const broken = cleanupStep({ code: 'ETIMEOUT', message: 'no answer to DELETE' });
    expect(scenarioVerdict(common([broken]), [pass('a')], []).state).toBe('failed');
  });
});
