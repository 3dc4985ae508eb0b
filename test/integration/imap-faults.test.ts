import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startImapProxy, type ImapMutations, type ImapProxy } from '../../fixtures/servers/imap-proxy.js';
import { labEnv, REPO_ROOT, runSuite, summarize, cleanUpLabRun } from '../support/run-suite.js';
import { replaceFlags } from '../support/expect-helpers.js';

/**
 * Each shipped IMAP scenario must fail when the server breaks what it
 * checks. An in-process proxy in front of the lab's Dovecot breaks one rule
 * at a time; without a mutation every scenario passes through it, which shows
 * the proxy itself is faithful and the failure is the mutation's.
 */
const IMAP_SUITE = join(REPO_ROOT, 'suites', 'imap');

/**
 * `defeatsCleanup`: the broken rule also stops the run's own cleanup. Dropped STOREs cannot mark
 * \Deleted, and the run must name what it left; the test then cleans up directly. Folders hidden
 * from other sessions do not defeat it: cleanup works from the run's own record, not from LIST.
 */
const MUTATIONS: Array<{ mutation: keyof ImapMutations; fails: string[]; says: RegExp; defeatsCleanup?: true }> = [
  { mutation: 'hideFoldersCreatedElsewhere', fails: ['imap/folder-sync'], says: /projects\/2026/ },
  { mutation: 'stripDraftOnAppend', fails: ['imap/draft-sync'], says: /\\Draft/ },
  { mutation: 'corruptFetchedBody', fails: ['imap/folder-sync', 'imap/draft-sync', 'imap/peek-is-read-only'], says: /first difference at octet/ },
  { mutation: 'swallowIdleNotifications', fails: ['imap/idle-push'], says: /pushed|EXISTS/ },
  { mutation: 'dropFlagUpdates', fails: ['imap/flag-sync', 'imap/condstore-modseq'], says: /Flagged|modseq|MODSEQ/, defeatsCleanup: true },
  { mutation: 'dropExpungeNotifications', fails: ['imap/expunge-sync', 'imap/noop-reports-changes'], says: /EXPUNGE|expunge/ },
  { mutation: 'refuseMove', fails: ['imap/move-announced', 'imap/folder-sync'], says: /MOVE|CANNOT/ },
  { mutation: 'unstableUidValidity', fails: ['imap/uid-stability'], says: /UIDVALIDITY|uidvalidity/ },
  { mutation: 'peekSetsSeen', fails: ['imap/peek-is-read-only'], says: /\\Seen/ },
];

describe('IMAP scenarios through a mutating proxy', () => {
  let proxy: ImapProxy;
  let dir: string;
  let targetFile: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    const lab = inject('lab');
    const labTarget = parseDocument(await readFile(lab.targetFile, 'utf8')).toJS() as {
      endpoints: { imaps: { port: number } };
      tls: { ca_file: string };
    };
    proxy = await startImapProxy({
      upstream: { host: '127.0.0.1', port: labTarget.endpoints.imaps.port, ca: await readFile(labTarget.tls.ca_file, 'utf8'), servername: 'localhost' },
    });
    dir = await mkdtemp(join(tmpdir(), 'mailprobe-imap-proxy-'));
    targetFile = join(dir, 'target.yaml');
    await proxy.writeTarget(targetFile, { labTargetFile: lab.targetFile, as: 'imaps' });
    env = await labEnv(lab.envFile);
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

  it('passes every scenario through the proxy when nothing is broken', async () => {
    const { result } = await run({});
    for (const s of result.scenarios) {
      // The proxy offers no plain port with STARTTLS (it must see the traffic), so that one cannot run here.
      if (s.id === 'imap/starttls') expect(s.state === 'skipped' && s.reason, summarize(result)).toMatch(/'imap' endpoint/);
      else expect(s.state, summarize(result)).toBe('passed');
    }
  });

  /** Cleans up directly on the lab, without the proxy, under the broken run's id. */
  const cleanUpDirectly = async (runId: string) => {
    expect(await cleanUpLabRun(inject('lab'), runId), 'direct cleanup on the lab').toEqual([]);
  };

  for (const { mutation, fails, says, defeatsCleanup } of MUTATIONS) {
    it(`fails ${fails.join(', ')} when the server has ${mutation}`, async () => {
      const { result, byId } = await run({ [mutation]: true });
      for (const id of fails) {
        const scenario = byId.get(id);
        expect(scenario?.state, summarize(result)).toBe('failed');
        if (scenario?.state !== 'failed') continue;
        const f = scenario.failure;
        expect(`${f.message} ${f.expected} ${f.actual} ${f.rfc ?? ''}`, summarize(result)).toMatch(says);
        expect(f.rfc, `${id}: a failure names its RFC clause`).toMatch(/RFC \d+/);
        expect(f.transcript.some((e) => e.direction === 'server'), `${id}: the failing step's transcript`).toBe(true);
      }
      // A broken rule is a failure, never mistaken for could-not-run.
      for (const s of result.scenarios) expect(s.state, summarize(result)).not.toBe('errored');
      const leftovers = result.scenarios.flatMap((s) => s.leftovers);
      if (defeatsCleanup) {
        // What the server kept from cleanup is named so a person could remove it.
        expect(leftovers.length).toBeGreaterThan(0);
        await cleanUpDirectly(result.runId);
      } else {
        expect(leftovers, summarize(result)).toEqual([]);
      }
    });
  }

  it('skips what needs a missing capability, and fails it when the target requires it', async () => {
    const skipped = await run({ hideMove: true, hideIdle: true });
    expect(skipped.byId.get('imap/folder-sync')?.state).toBe('skipped');
    expect(skipped.byId.get('imap/idle-push')?.state).toBe('skipped');
    // Not announced and answered as unknown: consistent, so the MOVE check passes.
    expect(skipped.byId.get('imap/move-announced')?.state, summarize(skipped.result)).toBe('passed');
    const strictTarget = join(dir, 'target-requires-move.yaml');
    const doc = parseDocument(await readFile(targetFile, 'utf8'));
    doc.set('capabilities_required', doc.createNode({ imap: ['MOVE'] }));
    await writeFile(strictTarget, doc.toString());
    const failed = await run({ hideMove: true }, strictTarget);
    const folderSync = failed.byId.get('imap/folder-sync');
    expect(folderSync?.state, summarize(failed.result)).toBe('failed');
    if (folderSync?.state === 'failed') expect(folderSync.failure.expected).toContain('MOVE');
  });

  it('reports a Drafts mailbox found by name when SPECIAL-USE is hidden', async () => {
    const { byId, result } = await run({ hideSpecialUse: true });
    const drafts = byId.get('imap/draft-sync');
    expect(drafts?.state, summarize(result)).toBe('passed');
    expect(drafts?.properties['special_use.drafts']).toMatch(/found by name/);
  });
});
