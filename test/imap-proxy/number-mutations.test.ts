import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ImapNumberMutations } from '../../fixtures/servers/imap-proxy-mutations.js';
import { replaceFlags } from '../support/expect-helpers.js';
import { startLabProxy, type LabProxy } from '../support/lab-proxy.js';
import { cleanUpLabRun, REPO_ROOT, runSuite, summarize } from '../support/run-suite.js';
import { labImap, RawImap, type LabImap } from './lab-imap.js';

/**
 * The malformed-number mutations (issue 7 §3), both ways on the same proxy:
 * off, the lab's SELECT carries well-formed numbers; on, the named number is
 * out of its RFC 9051 §9 range. And a shipped scenario run through the proxy
 * fails first with "the server answers in IMAP syntax", never passes on
 * undefined = undefined.
 */
const CASES: ReadonlyArray<readonly [keyof ImapNumberMutations, RegExp, RegExp]> = [
  ['overflowUidValidity', /\[UIDVALIDITY [1-9]\d{0,9}\]/, /\[UIDVALIDITY 99999999999999999999999\]/],
  ['negativeUidNext', /\[UIDNEXT [1-9]\d*\]/, /\[UIDNEXT -5\]/],
  ['negativeExists', /^\* \d+ EXISTS/m, /^\* -1 EXISTS/m],
];

describe('IMAP proxy: malformed-number mutations', () => {
  let lab: LabImap;
  let labProxy: LabProxy;

  beforeAll(async () => {
    lab = await labImap();
    labProxy = await startLabProxy(inject('lab'), 'number-mutations');
  });
  afterAll(async () => {
    await labProxy?.proxy.close();
  });

  it('stripUidValidity: imap.recreate-check refuses a missing UIDVALIDITY instead of passing on undefined', async () => {
    // Only the recreate check, so nothing before it can notice the missing UIDVALIDITY first.
    const scenarioFile = join(labProxy.dir, 'recreate-only.yaml');
    await writeFile(
      scenarioFile,
      [
        'name: recreate check alone',
        'requires: { endpoints: [imaps], accounts: [primary] }',
        'sessions:',
        '  laptop: { protocol: imap, endpoint: imaps, account: primary }',
        'steps:',
        '  - name: laptop creates a folder',
        '    action: imap.create',
        '    session: laptop',
        '    with: { folder: uids }',
        '  - name: recreate check',
        '    action: imap.recreate-check',
        '    session: laptop',
        '    with: { folder: uids, uidvalidity: "1700000000", last_uid: 1, account: primary }',
        '    expect:',
        '      - that: uid_reused',
        '        equals: false',
        '        rfc: "RFC 9051 §2.3.1.1: a UID is not reused under the same UIDVALIDITY"',
        'cleanup:',
        '  - name: delete the run folders and messages',
        '    action: imap.cleanup',
        '    session: laptop',
        '',
      ].join('\n'),
    );
    labProxy.proxy.reset();
    replaceFlags(labProxy.proxy.mutations, { stripUidValidity: true });
    let runId: string | undefined;
    try {
      const { result } = await runSuite({ targetFile: labProxy.targetFile, env: labProxy.env, paths: [scenarioFile] });
      runId = result.runId;
      const scenario = result.scenarios[0];
      expect(scenario?.state, summarize(result)).toBe('failed');
      if (scenario?.state !== 'failed') return;
      expect(scenario.failure.message).toBe('SELECT reports the mailbox UIDVALIDITY');
      expect(scenario.failure.rfc).toMatch(/RFC 3501 §6\.3\.1/);
    } finally {
      replaceFlags(labProxy.proxy.mutations, {});
      if (runId !== undefined) await cleanUpLabRun(inject('lab'), runId);
    }
  });

  for (const [mutation, wellFormed, malformed] of CASES) {
    it(`${mutation}: SELECT INBOX shows the number well-formed without it and malformed with it`, async () => {
      const raw = await RawImap.proxied(labProxy.proxy);
      try {
        await raw.login(lab);
        replaceFlags(labProxy.proxy.mutations, {});
        const plain = await raw.command('EXAMINE INBOX');
        expect(plain.text).toMatch(wellFormed);
        replaceFlags(labProxy.proxy.mutations, { [mutation]: true });
        const mutated = await raw.command('EXAMINE INBOX');
        expect(mutated.text).toMatch(malformed);
        expect(mutated.text, mutated.text).not.toMatch(wellFormed);
      } finally {
        replaceFlags(labProxy.proxy.mutations, {});
        await raw.close();
      }
    });

    it(`${mutation}: imap/uid-stability fails first with "the server answers in IMAP syntax"`, async () => {
      labProxy.proxy.reset();
      replaceFlags(labProxy.proxy.mutations, { [mutation]: true });
      let runId: string | undefined;
      try {
        const { result, byId } = await runSuite({
          targetFile: labProxy.targetFile,
          env: labProxy.env,
          paths: [join(REPO_ROOT, 'suites', 'imap', 'uid-stability.yaml')],
        });
        runId = result.runId;
        const scenario = byId.get('imap/uid-stability');
        expect(scenario?.state, summarize(result)).toBe('failed');
        if (scenario?.state !== 'failed') return;
        expect(scenario.failure.message).toBe('the server answers in IMAP syntax');
        // The rule with its wording, as the raw client and POP3 cite a broken rule.
        expect(scenario.failure.rfc).toMatch(/^RFC 9051 §9: /);
        expect(scenario.failure.expected).toMatch(/nz-number|number = 1\*DIGIT/);
      } finally {
        replaceFlags(labProxy.proxy.mutations, {});
        if (runId !== undefined) await cleanUpLabRun(inject('lab'), runId);
      }
    });
  }
});
