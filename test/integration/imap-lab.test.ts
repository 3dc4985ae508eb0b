import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { discoverScenarioFiles } from '../../src/scenario/discover.js';
import { labEnv, REPO_ROOT, runSuite, summarize } from '../support/run-suite.js';

const IMAP_SUITE = join(REPO_ROOT, 'suites', 'imap');

/** Every shipped IMAP scenario passes against the real Dovecot lab, and leaves nothing behind. */
describe('IMAP suite against the lab', () => {
  it('passes every shipped IMAP scenario', async () => {
    const lab = inject('lab');
    const files = await discoverScenarioFiles([IMAP_SUITE]);
    const { result } = await runSuite({ targetFile: lab.targetFile, env: await labEnv(lab.envFile), paths: [IMAP_SUITE] });
    expect(result.scenarios).toHaveLength(files.length);
    for (const scenario of result.scenarios) {
      expect(scenario.state, summarize(result)).toBe('passed');
      expect(scenario.leftovers, scenario.id).toEqual([]);
    }
    const idle = result.scenarios.find((s) => s.id === 'imap/idle-push');
    // The push latency is measured and reported, whatever its value on this machine.
    expect(Number(idle?.properties.idle_push_latency_ms)).toBeGreaterThanOrEqual(0);
    const drafts = result.scenarios.find((s) => s.id === 'imap/draft-sync');
    expect(drafts?.properties['special_use.drafts']).toMatch(/found by (extension|name)/);
  });
});
