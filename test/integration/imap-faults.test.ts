import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startImapProxy, type ImapMutations, type ImapProxy } from '../../fixtures/servers/imap-proxy.js';
import { labEnv, REPO_ROOT, runSuite, summarize, cleanUpLabRun } from '../support/run-suite.js';
import { replaceFlags } from '../support/expect-helpers.js';
import type { ScenarioResult } from '../../src/runner/results.js';

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
/**
 * `step`: the failing step of every listed scenario (e.g. the acting device's own check).
 * `also`: further assertions on the listed scenarios.
 */
const MUTATIONS: Array<{
  mutation: keyof ImapMutations;
  fails: string[];
  says: RegExp;
  step?: RegExp;
  also?: (scenario: ScenarioResult) => void;
  defeatsCleanup?: true;
}> = [
  { mutation: 'hideFoldersCreatedElsewhere', fails: ['imap/folder-sync'], says: /projects\/2026/ },
  { mutation: 'stripDraftOnAppend', fails: ['imap/draft-sync'], says: /\\Draft/, step: /^laptop sees its own draft/ },
  { mutation: 'corruptFetchedBody', fails: ['imap/folder-sync', 'imap/draft-sync', 'imap/peek-is-read-only'], says: /first difference at octet/ },
  { mutation: 'swallowIdleNotifications', fails: ['imap/idle-push'], says: /pushed|EXISTS/ },
  // The laptop's own read-back fails, naming its STORE; the phone's view is never blamed.
  { mutation: 'dropFlagUpdates', fails: ['imap/flag-sync', 'imap/condstore-modseq', 'imap/expunge-sync'], says: /laptop's STORE/, step: /^laptop/, defeatsCleanup: true },
  { mutation: 'dropExpungeNotifications', fails: ['imap/expunge-sync', 'imap/noop-reports-changes'], says: /EXPUNGE|expunge/ },
  { mutation: 'refuseMove', fails: ['imap/move-announced', 'imap/folder-sync'], says: /MOVE|CANNOT/ },
  { mutation: 'unstableUidValidity', fails: ['imap/uid-stability'], says: /UIDVALIDITY|uidvalidity/ },
  { mutation: 'peekSetsSeen', fails: ['imap/peek-is-read-only'], says: /\\Seen/, step: /^phone itself/ },
  // Courier's SELECT: the missing item fails once, with its clause; the UID checks that do not need it still run.
  { mutation: 'stripUidNext', fails: ['imap/uid-stability'], says: /UIDNEXT is a REQUIRED/, step: /^laptop opens it$/, also: uidChecksStillRan },
  { mutation: 'dropUnsolicitedFetch', fails: ['imap/flag-sync'], says: /unsolicited FETCH/, step: /^phone's NOOP/ },
  { mutation: 'moveIsCopy', fails: ['imap/move-announced', 'imap/folder-sync'], says: /removed from the source mailbox/ },
];

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

  for (const { mutation, fails, says, step, also, defeatsCleanup } of MUTATIONS) {
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
        if (step) expect(f.step, `${id}: the failing step`).toMatch(step);
        also?.(scenario);
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
    // Only folder-sync's MOVE steps (and those that use what they capture) skip; its folder checks run.
    const folderSync = skipped.byId.get('imap/folder-sync');
    expect(folderSync?.state, summarize(skipped.result)).toBe('passed');
    const notRun = folderSync?.steps.filter((s) => s.state === 'skipped') ?? [];
    expect(notRun.map((s) => s.name)).toEqual(expect.arrayContaining(['laptop moves the message into the new folder', 'phone reads it byte for byte, with the same Message-ID']));
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
