import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeMailHost, Pop3Faults } from '../../fixtures/servers/fake-mail-host.js';
import { startFakeHostTarget } from '../support/fake-host-target.js';
import { runSuite, summarize, type SuiteRun } from '../support/run-suite.js';
import { replaceFlags } from '../support/expect-helpers.js';

/**
 * Each shipped POP3 scenario must fail against a server that breaks exactly
 * the rule it checks, and pass against the same fake server without the fault
 * (which shows the fake is a faithful server and the failure is the fault's).
 */
/** `only`: every scenario not in `fails` passes, so the fault is blamed on the one check that names it. */
const FAULTS: Array<{ fault: keyof Pop3Faults; fails: string[]; says: RegExp; only?: true }> = [
  { fault: 'deleteAtDele', fails: ['pop3/retrieve-then-delete', 'pop3/commit-at-quit'], says: /QUIT|still/ },
  { fault: 'keepAfterQuit', fails: ['pop3/retrieve-then-delete'], says: /one message fewer|unique id is gone|count/ },
  { fault: 'ignoreRset', fails: ['pop3/rset'], says: /RSET|-ERR/ },
  { fault: 'serveDeleted', fails: ['pop3/deleted-is-refused'], says: /-ERR|refused|ok/ },
  { fault: 'unstableUidl', fails: ['pop3/uidl-stable'], says: /persists across sessions/, only: true },
  { fault: 'wrongListSize', fails: ['pop3/sizes-agree'], says: /octets|size/ },
  { fault: 'noDotStuffing', fails: ['pop3/dot-stuffing'], says: /byte|octet|POP3 syntax|differ/ },
  { fault: 'noStlsCapa', fails: ['pop3/stls'], says: /STLS/ },
  { fault: 'corruptRetr', fails: ['pop3/retrieve-then-delete'], says: /first difference|byte-identical/ },
  { fault: 'plaintextBeforeStls', fails: ['pop3/stls'], says: /RFC 2595 §2\.3.*plaintext password on the clear port/, only: true },
];

describe('POP3 scenarios against a fake server', () => {
  let host: FakeMailHost;
  let targetFile: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    ({ host, targetFile, env } = await startFakeHostTarget('mailprobe-fake-'));
  });
  afterAll(async () => {
    await host?.close();
  });

  const setFaults = (faults: Pop3Faults) => {
    replaceFlags(host.faults, faults);
  };

  it('passes every scenario when the server keeps the rules', async () => {
    setFaults({});
    const { result } = await runSuite({ targetFile, env });
    for (const s of result.scenarios) expect(s.state, summarize(result)).toBe('passed');
  });

  for (const { fault, fails, says, only } of FAULTS) {
    it(`fails ${fails.join(' and ')} when the server has fault ${fault}`, async () => {
      setFaults({ [fault]: true });
      let run: SuiteRun;
      try {
        run = await runSuite({ targetFile, env });
      } finally {
        setFaults({});
      }
      for (const id of fails) {
        const scenario = run.byId.get(id);
        expect(scenario?.state, summarize(run.result)).toBe('failed');
        if (scenario?.state !== 'failed') continue;
        const f = scenario.failure;
        expect(`${f.message} ${f.expected} ${f.actual} ${f.rfc ?? ''}`).toMatch(says);
        expect(f.expected).not.toBe(f.actual);
        expect(f.transcript.length).toBeGreaterThan(0);
        expect(f.source.file).toContain(`${id}.yaml`);
      }
      if (only) for (const s of run.result.scenarios) if (!fails.includes(s.id)) expect(s.state, summarize(run.result)).toBe('passed');
      // The fault breaks only what it names: nothing else may turn into an error.
      for (const s of run.result.scenarios) expect(s.state, summarize(run.result)).not.toBe('errored');
      const left = host.maildrop('alice').filter((m) => m.raw.includes(run.result.runId));
      if (fault === 'keepAfterQuit') {
        // Such a server keeps even cleanup's deletions; the report must name what was left.
        expect(run.result.scenarios.flatMap((s) => s.leftovers).length).toBeGreaterThan(0);
      } else {
        // Cleanup removed every message the run sent, even from failed scenarios.
        expect(left).toEqual([]);
      }
    });
  }
});
