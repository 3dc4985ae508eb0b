import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeMailHost } from '../../fixtures/servers/fake-mail-host.js';
import type { ScenarioResult } from '../../src/runner/results.js';
import { startFakeHostWithTarget } from '../support/cli.js';
import { runSuite, summarize } from '../support/run-suite.js';

/**
 * A POP3 search costs what the run added to the maildrop, not what the maildrop
 * holds: with 1,500 unrelated messages in INBOX, every shipped POP3 scenario
 * reads the headers (TOP) of only a few messages, and none of that mail is
 * touched. Counts, not times: the machine is shared.
 */
const FOREIGN = 1500;
/** TOPs a scenario may send beyond the ones its own steps ask for (pop3.top). */
const TOP_ALLOWANCE = 10;

function foreignMessage(i: number): string {
  return [
    `Message-ID: <foreign-${i}@elsewhere.test>`,
    'From: someone@elsewhere.test',
    'To: alice@fake.test',
    `Subject: unrelated mail ${i}`,
    '',
    `Body of unrelated message ${i}.`,
    '',
  ].join('\r\n');
}

/** Every line the client sent in the scenario, its cleanup included. */
function clientLines(s: ScenarioResult): string[] {
  return [...s.steps, ...s.cleanup].flatMap((step) => step.transcript.filter((t) => t.direction === 'client').map((t) => t.text));
}

describe('POP3 suite on a maildrop that already holds 1,500 unrelated messages', () => {
  let host: FakeMailHost;
  let targetFile: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    ({ host, targetFile, env } = await startFakeHostWithTarget({
      accounts: { alice: { password: 'alice-Secret-1', address: 'alice@fake.test' } },
    }));
    for (let i = 1; i <= FOREIGN; i++) host.deliver('alice', foreignMessage(i));
  });
  afterAll(async () => {
    await host?.close();
  });

  it('passes every scenario with a few TOP commands each, and leaves the unrelated mail as it was', async () => {
    const before = host.maildrop('alice').map((m) => ({ uid: m.uid, raw: Buffer.from(m.raw) }));
    const run = await runSuite({ targetFile, env });
    const counts = run.result.scenarios.map((s) => {
      const lines = clientLines(s);
      const tops = lines.filter((l) => /^TOP /i.test(l)).length;
      const asked = s.steps.filter((step) => step.action === 'pop3.top').length;
      return { id: s.id, state: s.state, tops, asked };
    });
    for (const s of run.result.scenarios) expect(s.state, summarize(run.result)).toBe('passed');
    for (const c of counts) expect(c.tops, JSON.stringify(counts)).toBeLessThanOrEqual(TOP_ALLOWANCE + c.asked);
    // The same messages, byte for byte, in the same order; and the run's own mail is gone.
    const after = host.maildrop('alice');
    expect(after.map((m) => m.uid)).toEqual(before.map((m) => m.uid));
    for (const [i, m] of after.entries()) expect(m.raw.equals((before[i] as { raw: Buffer }).raw)).toBe(true);
    expect(after.filter((m) => m.raw.includes(run.result.runId))).toEqual([]);
  }, 120_000);
});
