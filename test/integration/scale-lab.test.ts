import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labDown, labUp, type LabInfo } from '../../src/lab/index.js';
import { lookupUser, MAIL_USER } from '../../src/lab/users.js';
import type { ScenarioResult } from '../../src/runner/results.js';
import { isRoot } from '../lab/line-client.js';
import { labEnv, POP3_SUITE, REPO_ROOT, runSuite, summarize } from '../support/run-suite.js';
import { seedMaildir, type SeededMailbox } from '../support/seed-mailbox.js';

/**
 * The shipped POP3 and IMAP suites on an account that already holds 3,000
 * unrelated messages in INBOX and 300 folders, in a private Dovecot lab: the
 * work follows the run, not the mailbox. Counted, not timed (shared machine):
 * - each POP3 scenario sends at most a few TOP commands beyond its own pop3.top steps;
 * - no scenario or cleanup lists the whole hierarchy, but for the one LIST per
 *   run and account that finds the special-use mailboxes;
 * - every scenario passes, and the seeded mail is byte for byte as it was, never \Seen.
 */
const MESSAGES = 3000;
const FOLDERS = 300;
const TOP_ALLOWANCE = 10;
const IMAP_SUITE = join(REPO_ROOT, 'suites', 'imap');
const WHOLE_TREE = /^\S+ LIST (?:\([^)]*\) )?"" (?:"\*"|\*)(?: |$)/i;

function clientLines(s: ScenarioResult): string[] {
  return [...s.steps, ...s.cleanup].flatMap((step) => step.transcript.filter((t) => t.direction === 'client').map((t) => t.text));
}

describe.skipIf(!isRoot)('a private lab whose account holds 3,000 messages and 300 folders', () => {
  let stateDir = '';
  let lab: LabInfo;
  let seeded: SeededMailbox | undefined;

  beforeAll(async () => {
    stateDir = await mkdtemp('/tmp/mailprobe-lab-scale-');
    lab = await labUp({ stateDir, log: () => {} });
    const owner = await lookupUser(MAIL_USER);
    const primary = lab.accounts.find((a) => a.role === 'primary');
    seeded = await seedMaildir({
      maildir: join(stateDir, 'mail', primary?.user ?? 'alice', 'Maildir'),
      messages: MESSAGES,
      folders: FOLDERS,
      ...(owner ? { owner } : {}),
    });
  }, 300_000);

  afterAll(async () => {
    if (!stateDir) return;
    try {
      await seeded?.restore();
      await labDown({ stateDir });
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
  });

  it('runs the POP3 and IMAP suites with work in proportion to the run, and leaves the seeded mail as it was', async () => {
    const { result } = await runSuite({ targetFile: lab.targetFile, env: await labEnv(lab.envFile), paths: [POP3_SUITE, IMAP_SUITE] });
    for (const s of result.scenarios) expect(s.state, summarize(result)).toBe('passed');

    const tops = result.scenarios
      .filter((s) => s.id.startsWith('pop3/'))
      .map((s) => ({
        id: s.id,
        tops: clientLines(s).filter((l) => /^TOP /i.test(l)).length,
        asked: s.steps.filter((step) => step.action === 'pop3.top').length,
      }));
    expect(tops.length).toBeGreaterThan(0);
    for (const t of tops) expect(t.tops, JSON.stringify(tops)).toBeLessThanOrEqual(TOP_ALLOWANCE + t.asked);

    const wholeTree = result.scenarios.flatMap((s) =>
      clientLines(s)
        .filter((l) => WHOLE_TREE.test(l))
        .map((l) => `${s.id}: ${l}`),
    );
    expect(wholeTree.length, wholeTree.join('\n')).toBeLessThanOrEqual(lab.accounts.length);

    expect(await seeded?.verify()).toEqual([]);
  }, 600_000);
});
