import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeMailHost } from '../../fixtures/servers/fake-mail-host.js';
import { startFakeHostWithTarget } from '../support/cli.js';
import { runSuite, summarize } from '../support/run-suite.js';
import { replaceFlags } from '../support/expect-helpers.js';

/**
 * A UIDL that drifts between sessions is blamed on pop3/uidl-stable alone. On a
 * host without maildrop locks (Dovecot's default) the other sessions of a
 * scenario really look at the maildrop while the laptop's session is open, so
 * this shows they find the message by its headers and not by its UIDL.
 */
describe('POP3 suite on a host whose UIDL drifts, without maildrop locks', () => {
  let host: FakeMailHost;
  let targetFile: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    ({ host, targetFile, env } = await startFakeHostWithTarget({
      accounts: { alice: { password: 'alice-Secret-1', address: 'alice@fake.test' } },
      pop3Locking: false,
    }));
  });
  afterAll(async () => {
    await host?.close();
  });

  it('fails only uidl-stable, and the others see the message while the laptop still holds it', async () => {
    replaceFlags(host.faults, { unstableUidl: true });
    const run = await runSuite({ targetFile, env }).finally(() => replaceFlags(host.faults, {}));
    for (const s of run.result.scenarios) expect(s.state, summarize(run.result)).toBe(s.id === 'pop3/uidl-stable' ? 'failed' : 'passed');
    const observe = run.byId.get('pop3/retrieve-then-delete')!.steps.find((s) => s.action === 'pop3.observe');
    // Looked at, not locked out: the check judged a real sighting.
    expect(observe?.checks.find((c) => c.expected.startsWith('one of'))?.actual).toBe('true');
    expect(host.maildrop('alice').filter((m) => m.raw.includes(run.result.runId))).toEqual([]);
  });
});
