import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeMailHost } from '../../fixtures/servers/fake-mail-host.js';
import { JsonReporter } from '../../src/reporters/json.js';
import { startFakeHostWithTarget } from '../support/cli.js';
import { replaceFlags } from '../support/expect-helpers.js';
import { runSuite, summarize } from '../support/run-suite.js';
import { captureContext } from '../reporters/support.js';

/**
 * A POP3 host that sends numbers outside RFC 1939's grammar: the scenario
 * that reads them fails, citing the clause, and the JSON report of the run
 * carries the peak of buffered server bytes.
 */
describe('POP3 numbers out of grammar, in a scenario run', () => {
  let host: FakeMailHost;
  let targetFile: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    ({ host, targetFile, env } = await startFakeHostWithTarget({
      accounts: { alice: { password: 'alice-Secret-1', address: 'alice@fake.test' } },
    }));
  });
  afterAll(async () => {
    await host?.close();
  });

  it.each([
    ['overflowingStat', /malformed reply to STAT: 99999999999999999999999 is not a size in octets/, /^RFC 1939 §5: STAT's drop listing/],
    ['negativeListSize', /malformed reply to LIST: "-5" is not a size in octets/, /^RFC 1939 §5: LIST's scan listing/],
  ] as const)('%s fails pop3/sizes-agree citing the clause', async (fault, actual, clause) => {
    replaceFlags(host.faults, { [fault]: true });
    const ctx = captureContext();
    const run = await runSuite({ targetFile, env, grep: 'sizes', reporters: [new JsonReporter(ctx)] }).finally(() => replaceFlags(host.faults, {}));
    const scenario = run.byId.get('pop3/sizes-agree');
    expect(scenario?.state, summarize(run.result)).toBe('failed');
    if (scenario?.state !== 'failed') return;
    expect(scenario.failure.actual).toMatch(actual);
    expect(scenario.failure.rfc).toMatch(clause);
    const report = JSON.parse(ctx.stdout.text) as { peakBufferedBytes: unknown };
    expect(typeof report.peakBufferedBytes).toBe('number');
    // At least the greeting line was held on its way in.
    expect(report.peakBufferedBytes as number).toBeGreaterThan(0);
    expect(report.peakBufferedBytes).toBe(run.result.peakBufferedBytes);
  });
});
