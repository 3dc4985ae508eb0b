import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { startFakeImap, type FakeImap } from '../imap-raw/fake-imap.js';
import { testCerts, type TestCerts } from '../support/test-certs.js';
import { writeFakeImapTarget } from '../support/lab-proxy.js';
import { labEnv, REPO_ROOT, runSuite, summarize } from '../support/run-suite.js';

/**
 * imap/starttls passes on the lab (its plain port is reached from another
 * loopback address, so Dovecot does not treat it as secured) and fails against
 * servers that offer a plaintext password before TLS or no STARTTLS at all.
 */
const SCENARIO = join(REPO_ROOT, 'suites', 'imap', 'starttls.yaml');
const PASSWORD = 'fake-imap-pw';

describe('imap/starttls', () => {
  let certs: TestCerts;
  let fake: FakeImap | undefined;

  beforeAll(async () => {
    certs = await testCerts();
  });
  afterEach(async () => {
    await fake?.close();
    fake = undefined;
  });

  const runAgainst = async (server: FakeImap) => {
    const target = await writeFakeImapTarget(server, certs.ca, 'FAKE_IMAP_PASSWORD');
    const { result } = await runSuite({ targetFile: target, env: { FAKE_IMAP_PASSWORD: PASSWORD }, paths: [SCENARIO] });
    return result;
  };

  it('passes on the lab', async () => {
    const lab = inject('lab');
    const { result } = await runSuite({ targetFile: lab.targetFile, env: await labEnv(lab.envFile), paths: [SCENARIO] });
    expect(result.scenarios[0]?.state, summarize(result)).toBe('passed');
  });

  it('passes against a server that says LOGINDISABLED until STARTTLS', async () => {
    fake = await startFakeImap({ starttls: certs.localhost, password: PASSWORD, capabilities: ['IMAP4rev1', 'LOGINDISABLED'] });
    const result = await runAgainst(fake);
    expect(result.scenarios[0]?.state, summarize(result)).toBe('passed');
  });

  it('fails against a server that takes a plaintext password before STARTTLS', async () => {
    fake = await startFakeImap({ starttls: certs.localhost, password: PASSWORD, capabilities: ['IMAP4rev1', 'AUTH=PLAIN'] });
    const result = await runAgainst(fake);
    const scenario = result.scenarios[0];
    expect(scenario?.state, summarize(result)).toBe('failed');
    if (scenario?.state === 'failed') {
      expect(scenario.failure.message).toMatch(/LOGINDISABLED/);
      expect(scenario.failure.rfc).toMatch(/^RFC 9051 §6\.2\.3: a server implementation MUST implement a configuration/);
      expect(scenario.failure.rfc).toMatch(/this host takes a plaintext password on the clear port/);
      expect(scenario.failure.actual).toMatch(/no LOGINDISABLED.*AUTH=PLAIN/);
      expect(scenario.failure.transcript.map((e) => e.text).join('\n')).toMatch(/CAPABILITY IMAP4rev1 AUTH=PLAIN STARTTLS/);
      // The first failing check: STARTTLS itself is offered.
      expect(scenario.steps[0]!.checks.find((c) => !c.passed)?.rfc).toBe(scenario.failure.rfc);
      expect(scenario.steps[0]!.checks[0]?.passed).toBe(true);
      // Nothing that carries a password is sent before the upgrade.
      const sent = scenario.failure.transcript.filter((e) => e.direction === 'client').map((e) => e.text);
      expect(
        sent
          .slice(
            0,
            sent.findIndex((l) => / STARTTLS$/.test(l)),
          )
          .some((l) => / (LOGIN|AUTHENTICATE) /i.test(l)),
      ).toBe(false);
    }
  });

  it('fails a server that says LOGINDISABLED but still offers AUTH=PLAIN before STARTTLS', async () => {
    fake = await startFakeImap({ starttls: certs.localhost, password: PASSWORD, capabilities: ['IMAP4rev1', 'LOGINDISABLED', 'AUTH=PLAIN'] });
    const result = await runAgainst(fake);
    const scenario = result.scenarios[0];
    expect(scenario?.state, summarize(result)).toBe('failed');
    if (scenario?.state === 'failed') {
      expect(scenario.failure.rfc).toMatch(/RFC 9051 §6\.2\.3.*RFC 2595 §2\.3/);
      expect(scenario.failure.actual).toBe('length 1: ["CAPABILITY lists AUTH=PLAIN"]');
    }
  });

  it('fails against a server without STARTTLS', async () => {
    fake = await startFakeImap({ password: PASSWORD, capabilities: ['IMAP4rev1'] });
    const result = await runAgainst(fake);
    const scenario = result.scenarios[0];
    expect(scenario?.state, summarize(result)).toBe('failed');
    if (scenario?.state === 'failed') expect(scenario.failure.message).toMatch(/offers STARTTLS/);
  });
});
