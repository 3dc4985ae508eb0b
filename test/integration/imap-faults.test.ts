import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ImapMutations, ImapProxy } from '../../fixtures/servers/imap-proxy.js';
import { startLabProxy } from '../support/lab-proxy.js';
import { REPO_ROOT, runSuite, summarize } from '../support/run-suite.js';
import { replaceFlags } from '../support/expect-helpers.js';
import type { ScenarioResult } from '../../src/runner/results.js';

/**
 * What the fault matrix (fault-matrix.test.ts) does not say by verdicts alone:
 * which steps a missing capability skips, what the report says of a Drafts
 * mailbox found by name, and which checks still ran when SELECT left out
 * UIDNEXT. Through the same mutating proxy in front of the lab's Dovecot.
 */
const IMAP_SUITE = join(REPO_ROOT, 'suites', 'imap');

/** Under stripUidNext: no interpolation error, and the checks that need no UIDNEXT were judged (and passed). */
function uidChecksStillRan(scenario: ScenarioResult): void {
  const byName = new Map(scenario.steps.map((s) => [s.name, s]));
  expect(scenario.steps.map((s) => s.state)).not.toContain('errored');
  const reuse = byName.get('delete and re-create the folder; no UID is reused under the same UIDVALIDITY');
  expect(reuse?.state, 'the last UID check still ran').toBe('passed');
  expect(byName.get('the second message has a higher UID')?.state).toBe('passed');
  const notJudged = byName.get('laptop finds its UID')?.checks.find((c) => !c.passed);
  expect(notJudged?.actual).toMatch(/not judged: the server did not send captures\.s1\.uidnext/);
}

describe('IMAP scenarios through a mutating proxy', () => {
  let proxy: ImapProxy;
  let dir: string;
  let targetFile: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    ({ proxy, targetFile, env, dir } = await startLabProxy(inject('lab'), 'imap-proxy'));
  });
  afterAll(async () => {
    await proxy?.close();
  });

  const setMutations = (mutations: ImapMutations) => {
    replaceFlags(proxy.mutations, mutations);
  };
  const run = async (mutations: ImapMutations, file = targetFile) => {
    setMutations(mutations);
    try {
      return await runSuite({ targetFile: file, env, paths: [IMAP_SUITE] });
    } finally {
      setMutations({});
    }
  };

  it('judges the UID checks that need no UIDNEXT when SELECT leaves it out', async () => {
    const { byId, result } = await run({ stripUidNext: true });
    const scenario = byId.get('imap/uid-stability');
    expect(scenario?.state, summarize(result)).toBe('failed');
    if (scenario) uidChecksStillRan(scenario);
  });

  it('skips what needs a missing capability, and fails it when the target requires it', async () => {
    const skipped = await run({ hideMove: true, hideIdle: true });
    // Only folder-sync's MOVE steps (and those that use what they capture) skip; its folder checks run.
    const folderSync = skipped.byId.get('imap/folder-sync');
    expect(folderSync?.state, summarize(skipped.result)).toBe('passed');
    const notRun = folderSync?.steps.filter((s) => s.state === 'skipped') ?? [];
    expect(notRun.map((s) => s.name)).toEqual(
      expect.arrayContaining(['laptop moves the message into the new folder', 'phone reads it byte for byte, with the same Message-ID']),
    );
    const move = notRun.find((s) => s.action === 'imap.move');
    expect(move?.state === 'skipped' ? move.reason : undefined).toMatch(/capability MOVE/);
    // The report says which steps were skipped and why.
    expect(Object.values(folderSync?.properties ?? {})).toContainEqual(expect.stringMatching(/^laptop moves the message into the new folder: .*MOVE/));
    expect(folderSync?.steps.filter((s) => s.state === 'passed').map((s) => s.name)).toEqual(
      expect.arrayContaining(['phone sees the new name, not the old one', 'phone sees the subscription', 'phone no longer lists it']),
    );
    expect(skipped.byId.get('imap/idle-push')?.state).toBe('skipped');
    // Not announced and answered as unknown: consistent, so the MOVE check passes.
    expect(skipped.byId.get('imap/move-announced')?.state, summarize(skipped.result)).toBe('passed');
    const strictTarget = join(dir, 'target-requires-move.yaml');
    const doc = parseDocument(await readFile(targetFile, 'utf8'));
    doc.set('capabilities_required', doc.createNode({ imap: ['MOVE'] }));
    await writeFile(strictTarget, doc.toString());
    const failed = await run({ hideMove: true }, strictTarget);
    const strict = failed.byId.get('imap/folder-sync');
    expect(strict?.state, summarize(failed.result)).toBe('failed');
    if (strict?.state === 'failed') {
      expect(strict.failure.expected).toContain('MOVE');
      expect(strict.failure.step).toBe('laptop moves the message into the new folder');
    }
  });

  it('reports a Drafts mailbox found by name when SPECIAL-USE is hidden', async () => {
    const { byId, result } = await run({ hideSpecialUse: true });
    const drafts = byId.get('imap/draft-sync');
    expect(drafts?.state, summarize(result)).toBe('passed');
    expect(drafts?.properties['special_use.drafts']).toMatch(/found by name/);
  });
});
