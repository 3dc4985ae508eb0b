import { describe, expect, inject, it } from 'vitest';
import { discoverScenarioFiles } from '../../src/scenario/discover.js';
import { labEnv, POP3_SUITE, runSuite, summarize } from '../support/run-suite.js';

/** Every shipped POP3 scenario passes against the real Dovecot + Postfix lab. */
describe('POP3 suite against the lab', () => {
  it('passes every shipped POP3 scenario', async () => {
    const lab = inject('lab');
    const files = await discoverScenarioFiles([POP3_SUITE]);
    const { result } = await runSuite({ targetFile: lab.targetFile, env: await labEnv(lab.envFile) });
    expect(result.scenarios).toHaveLength(files.length);
    expect(summarize(result)).not.toMatch(/^(?!passed)/m);
    for (const scenario of result.scenarios) {
      expect(scenario.state, scenario.id).toBe('passed');
      expect(scenario.leftovers, scenario.id).toEqual([]);
    }
  });
});
