import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { LabProxy } from '../support/lab-proxy.js';
import { startLabProxy } from '../support/lab-proxy.js';
import { REPO_ROOT, runSuite, summarize } from '../support/run-suite.js';

/**
 * The example profile on the shipped imap/uid-stability, against the lab's Dovecot
 * behind the proxy that leaves [UIDNEXT] out of SELECT (stripUidNext, Courier-IMAP's answer):
 * with the three UIDNEXT-in-SELECT checks listed, the scenario passes with three known
 * deviations and its other UID checks still judged; the same profile against the unmutated
 * Dovecot reports all three as fixed.
 */
const SCENARIO = join(REPO_ROOT, 'suites', 'imap', 'uid-stability.yaml');
const COURIER = ['uidnext-in-select', 'uidnext-in-phone-select', 'uidnext-in-reselect'];

describe('a known-deviation profile on the wire (uid-stability, SELECT without [UIDNEXT])', () => {
  let lab: LabProxy;
  let profiled: string;

  beforeAll(async () => {
    lab = await startLabProxy(inject('lab'), 'deviation-profile');
    profiled = join(lab.dir, 'courier-profile.yaml');
    const entries = COURIER.map((id) => `  - { check: imap/uid-stability#${id}, reason: Courier sends UIDNEXT only in STATUS, rfc: RFC 9051 §6.3.2 }`);
    await writeFile(profiled, `${await readFile(lab.targetFile, 'utf8')}\ndeviations:\n${entries.join('\n')}\n`);
  });
  afterAll(async () => {
    await lab?.proxy.close();
    if (lab) await rm(lab.dir, { recursive: true, force: true });
  });

  it('listed: passed, three known deviations, the UID checks that need no UIDNEXT judged and passed', async () => {
    lab.proxy.mutations.stripUidNext = true;
    try {
      const { byId, result } = await runSuite({ targetFile: profiled, env: lab.env, paths: [SCENARIO] });
      const s = byId.get('imap/uid-stability');
      expect(s?.state, summarize(result)).toBe('passed');
      expect(s?.deviations?.map((d) => [d.check.split('#')[1], d.status, d.actual])).toEqual(COURIER.map((id) => [id, 'known', '(nothing)']));
      const step = (name: string) => s?.steps.find((x) => x.name === name);
      expect(step('the second message has a higher UID')?.state).toBe('passed');
      expect(step('delete and re-create the folder; no UID is reused under the same UIDVALIDITY')?.state).toBe('passed');
      expect(step('laptop finds its UID')?.checks.find((c) => !c.passed)?.deviation).toBe('imap/uid-stability#uidnext-in-select');
      expect(s?.leftovers).toEqual([]);
    } finally {
      lab.proxy.mutations.stripUidNext = false;
    }
  });

  it('the same profile against a server that sends [UIDNEXT]: three deviations fixed, passed', async () => {
    const { byId, result } = await runSuite({ targetFile: profiled, env: lab.env, paths: [SCENARIO] });
    const s = byId.get('imap/uid-stability');
    expect(s?.state, summarize(result)).toBe('passed');
    expect(s?.deviations?.map((d) => [d.check.split('#')[1], d.status])).toEqual(COURIER.map((id) => [id, 'fixed']));
  });
});
