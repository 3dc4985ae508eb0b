import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FakeMailHost, Pop3Override } from '../../fixtures/servers/fake-mail-host.js';
import { startFakeHostTarget } from '../support/fake-host-target.js';
import { exitCodeFor } from '../../src/cli/exit-codes.js';
import { POP3_SUITE, runSuite, summarize } from '../support/run-suite.js';

/**
 * A refused capability query is never an absent capability. A Dovecot mailbox
 * with a broken cache answered CAPA after login with "-ERR [SYS/TEMP] Internal
 * error occurred"; mailprobe then skipped every POP3 scenario for a missing
 * UIDL and exited 0.
 */
const SCENARIO = join(POP3_SUITE, 'uidl-stable.yaml');

describe('CAPA refused after login', () => {
  let host: FakeMailHost;
  let targetFile: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    ({ host, targetFile, env } = await startFakeHostTarget('mailprobe-capa-'));
  });
  afterEach(() => {
    delete host.pop3Overrides['CAPA'];
  });
  afterAll(async () => {
    await host?.close();
  });

  /** Answers CAPA with `reply` in the given states; the server's own CAPA otherwise. */
  const refuseCapa =
    (reply: string, states: ReadonlyArray<'authorization' | 'transaction'>): Pop3Override =>
    (_args, io) => {
      if (!states.includes(io.state)) return false;
      io.reply(reply);
      return true;
    };

  async function run(override?: Pop3Override) {
    if (override) host.pop3Overrides['CAPA'] = override;
    const { result } = await runSuite({ targetFile, env, paths: [SCENARIO] });
    const scenario = result.scenarios[0]!;
    return { result, scenario, text: summarize(result) };
  }

  it('passes when CAPA works (the fake is faithful)', async () => {
    const { scenario, text } = await run();
    expect(scenario.state, text).toBe('passed');
  });

  it('-ERR [SYS/TEMP] after login is inconclusive, not a skip', async () => {
    const { result, scenario, text } = await run(refuseCapa('-ERR [SYS/TEMP] Internal error occurred', ['transaction']));
    expect(scenario.state, text).toBe('inconclusive');
    expect(scenario.state === 'inconclusive' && scenario.reason).toMatch(/SYS\/TEMP.*Internal error occurred/);
    expect(exitCodeFor(result)).not.toBe(0);
  });

  it.each([
    ['-ERR [SYS/PERM] cache broken', /SYS\/PERM/],
    ['-ERR no capabilities for you', /no capabilities for you/],
  ])('%s after login is failed, citing RFC 2449 §5', async (reply, says) => {
    const { result, scenario, text } = await run(refuseCapa(reply, ['transaction']));
    expect(scenario.state, text).toBe('failed');
    if (scenario.state !== 'failed') return;
    expect(scenario.failure.rfc).toMatch(/^RFC 2449 §5\b/);
    expect(scenario.failure.actual).toMatch(says);
    expect(exitCodeFor(result)).not.toBe(0);
  });

  it('a server without CAPA at all skips, saying CAPA is not implemented rather than naming UIDL missing', async () => {
    const { scenario, text } = await run(refuseCapa('-ERR unknown command', ['authorization', 'transaction']));
    expect(scenario.state, text).toBe('skipped');
    expect(scenario.state === 'skipped' && scenario.reason).toMatch(/does not implement CAPA/);
  });
});
