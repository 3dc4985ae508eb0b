import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import type { ScenarioResult } from '../../src/runner/results.js';
import { labEnv, REPO_ROOT, runSuite, summarize } from '../support/run-suite.js';

const IMAP_SUITE = join(REPO_ROOT, 'suites', 'imap');
/** A LIST whose mailbox pattern is the whole hierarchy: `LIST "" "*"`, with or without RETURN options. */
const WHOLE_TREE = /^\S+ LIST (?:\([^)]*\) )?"" (?:"\*"|\*)(?: |$)/i;

function clientLines(s: ScenarioResult): string[] {
  return [...s.steps, ...s.cleanup].flatMap((step) => step.transcript.filter((t) => t.direction === 'client').map((t) => t.text));
}

/**
 * The IMAP scenarios list only the run's own subtree for lookups and cleanup
 * (`LIST "" "<prefix>mailprobe-<run>*"`): an account with many folders costs
 * them nothing. The special-use mailboxes are found once per run and account,
 * with the one LIST of the whole tree that needs.
 */
describe('IMAP suite against the lab: LIST in proportion to the run', () => {
  it('lists the whole tree at most once per account in the run, and every scenario passes', async () => {
    const lab = inject('lab');
    const { result } = await runSuite({ targetFile: lab.targetFile, env: await labEnv(lab.envFile), paths: [IMAP_SUITE] });
    for (const s of result.scenarios) expect(s.state, summarize(result)).toBe('passed');
    const wholeTree = result.scenarios.flatMap((s) =>
      clientLines(s)
        .filter((l) => WHOLE_TREE.test(l))
        .map((l) => `${s.id}: ${l}`),
    );
    // The lab has three accounts; each may be listed whole once, to find its special-use mailboxes.
    expect(wholeTree.length, wholeTree.join('\n')).toBeLessThanOrEqual(3);
    const runTree = result.scenarios.flatMap((s) => clientLines(s).filter((l) => l.includes(`mailprobe-${result.runId}*`)));
    expect(runTree.length).toBeGreaterThan(0);
  }, 180_000);
});
