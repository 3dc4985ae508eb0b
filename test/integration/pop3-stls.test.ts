import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { FakeMailHost } from '../../fixtures/servers/fake-mail-host.js';
import { startFakeHostWithTarget } from '../support/cli.js';
import { labEnv, POP3_SUITE, runSuite, summarize } from '../support/run-suite.js';
import { replaceFlags } from '../support/expect-helpers.js';

/**
 * pop3/stls judges a plain port that takes a password before STLS (Courier's
 * default) as imap/starttls judges one without LOGINDISABLED: failed, citing
 * RFC 2595 §2.3, as the first failing check. The check itself must never put a
 * password on the clear connection, real or made up.
 */
const SCENARIO = join(POP3_SUITE, 'stls.yaml');
const PASSWORD = 'alice-Secret-1';

describe('pop3/stls: no plaintext password before STLS', () => {
  let host: FakeMailHost;
  let targetFile: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    ({ host, targetFile, env } = await startFakeHostWithTarget({ accounts: { alice: { password: PASSWORD, address: 'alice@fake.test' } } }));
  });
  afterAll(async () => {
    await host?.close();
  });

  const runStls = async (plaintextBeforeStls: boolean) => {
    replaceFlags(host.faults, plaintextBeforeStls ? { plaintextBeforeStls } : {});
    try {
      return (await runSuite({ targetFile, env, paths: [SCENARIO] })).result;
    } finally {
      replaceFlags(host.faults, {});
    }
  };

  /** Lines the client sent before the STLS upgrade of the step's connections. */
  const clearLines = (result: Awaited<ReturnType<typeof runStls>>) => {
    const transcript = result.scenarios[0]!.steps[0]!.transcript;
    const upgrade = transcript.findIndex((e) => e.direction === 'client' && e.text === 'STLS');
    return transcript
      .slice(0, upgrade)
      .filter((e) => e.direction === 'client')
      .map((e) => e.text);
  };

  it('fails a host that asks for the password in clear, at that check, without sending one', async () => {
    const result = await runStls(true);
    const scenario = result.scenarios[0];
    expect(scenario?.state, summarize(result)).toBe('failed');
    if (scenario?.state !== 'failed') return;
    expect(scenario.failure.rfc).toMatch(/^RFC 2595 §2\.3: a server that implements STARTTLS \(here STLS\) MUST be configurable to refuse/);
    expect(scenario.failure.rfc).toMatch(/this host takes a plaintext password on the clear port/);
    expect(scenario.failure.actual).toMatch(/USER alice answered \+OK/);
    expect(scenario.failure.actual).toMatch(/SASL PLAIN/);
    // It is the first failing check of the step: STLS itself is offered and works.
    const checks = scenario.steps[0]!.checks;
    expect(checks.find((c) => !c.passed)?.rfc).toBe(scenario.failure.rfc);
    // The check before it, that STLS is offered, passed.
    expect(checks.find((c) => /STLS capability/.test(c.rfc ?? ''))?.passed).toBe(true);
    // USER with the account name, and never a PASS or AUTH, on the clear connection.
    expect(clearLines(result)).toContain('USER alice');
    expect(clearLines(result).some((l) => /^(PASS|AUTH)\b/i.test(l))).toBe(false);
    expect(JSON.stringify(result)).not.toContain(PASSWORD);
  });

  it('passes a host that refuses USER until TLS is active', async () => {
    const result = await runStls(false);
    expect(result.scenarios[0]?.state, summarize(result)).toBe('passed');
    const transcript = result.scenarios[0]!.steps[0]!.transcript;
    const user = transcript.findIndex((e) => e.text === 'USER alice');
    expect(transcript[user + 1]?.text).toMatch(/^-ERR \[AUTH\]/);
    expect(clearLines(result).some((l) => /^(PASS|AUTH)\b/i.test(l))).toBe(false);
  });

  it('passes on the lab, whose plain port (on 127.0.0.2) refuses plaintext like a real host', async () => {
    const lab = inject('lab');
    const { result } = await runSuite({ targetFile: lab.targetFile, env: await labEnv(lab.envFile), paths: [SCENARIO] });
    expect(result.scenarios[0]?.state, summarize(result)).toBe('passed');
    expect(result.scenarios[0]!.steps[0]!.transcript.map((e) => e.text)).toContainEqual(
      expect.stringMatching(/^-ERR \[AUTH\] Plaintext authentication disallowed/),
    );
  });
});
