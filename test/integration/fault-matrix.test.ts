import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startFakeMailHost, type FakeMailHost, type Pop3Faults } from '../../fixtures/servers/fake-mail-host.js';
import type { ImapMutations, ImapProxy } from '../../fixtures/servers/imap-proxy.js';
import { startLabProxy, writeFakeImapTarget } from '../support/lab-proxy.js';
import { makeTestCertificate } from '../../fixtures/servers/test-cert.js';
import type { RunResult } from '../../src/runner/results.js';
import { LEFTOVERS_CHECK } from '../../src/runner/verdict.js';
import { loadSuiteChecks, outcomeOf, type SuiteChecks } from '../support/checks.js';
import { replaceFlags } from '../support/expect-helpers.js';
import { BASELINE, IMAP_MUTATIONS, IMAP_STARTTLS_SERVERS, POP3_FAULTS, type FaultEntry } from '../support/fault-catalogue.js';
import { startFakeImap } from '../imap-raw/fake-imap.js';
import { testCerts } from '../support/test-certs.js';
import { cleanUpLabRun, REPO_ROOT, runSuite, summarize } from '../support/run-suite.js';

/**
 * The fault-coverage matrix, run: every shipped scenario against every fault
 * the test servers can commit, and each verdict, down to the first failing
 * check, must be exactly the catalogue's. A scenario that fails under a
 * fault it does not check, or fails at a later check than the one the fault
 * breaks, is as wrong as one that passes: a mail admin acts on the first
 * failing check.
 */
let checks: SuiteChecks;
beforeAll(async () => {
  checks = await loadSuiteChecks();
});

/**
 * With MAILPROBE_MATRIX_OBSERVED=FILE, every fault's observed verdicts are also written
 * there (as the catalogue's shape), for whoever adds a fault or renames a step.
 */
const observedFile = process.env['MAILPROBE_MATRIX_OBSERVED'];
const observed: Record<string, Record<string, string>> = {};
afterAll(async () => {
  if (observedFile) await writeFile(observedFile, `${JSON.stringify(observed, null, 2)}\n`);
});

function outcomes(result: RunResult, fault: string): Record<string, string> {
  const all = Object.fromEntries(result.scenarios.map((s) => [s.id, outcomeOf(s, checks)]));
  observed[fault] = Object.fromEntries(Object.entries(all).filter(([, o]) => o !== 'passed'));
  return all;
}

function expected(result: RunResult, protocol: 'pop3' | 'imap', entry: FaultEntry): Record<string, string> {
  return Object.fromEntries(result.scenarios.map((s) => [s.id, entry.outcomes[s.id] ?? BASELINE[protocol][s.id] ?? 'passed']));
}

/** What a mail admin reads for every failure: expected ≠ actual, the clause, the server's side of the transcript. */
function expectActionableFailures(result: RunResult): void {
  for (const s of result.scenarios) {
    // A leftover is the run's own safety verdict, not a clause the server broke.
    if (s.state !== 'failed' || s.failure.message === LEFTOVERS_CHECK) continue;
    expect(s.failure.rfc ?? '(no clause)', `${s.id}: the failure names its RFC clause`).toMatch(/RFC \d+/);
    expect(s.failure.expected, `${s.id}: expected and actual differ`).not.toBe(s.failure.actual);
    expect(s.failure.transcript.some((e) => e.direction === 'server'), `${s.id}: the failing step's transcript`).toBe(true);
  }
}

describe('POP3 fault matrix (fake host)', () => {
  let host: FakeMailHost;
  let targetFile: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mailprobe-matrix-pop3-'));
    const cert = await makeTestCertificate(dir);
    host = await startFakeMailHost({
      accounts: { alice: { password: 'alice-Secret-1', address: 'alice@fake.test' }, bob: { password: 'bob-Secret-2', address: 'bob@fake.test' } },
      tls: { key: cert.key, cert: cert.cert },
    });
    targetFile = join(dir, 'target.yaml');
    await host.writeTarget(targetFile, { caFile: cert.caFile });
    env = host.passwordEnv();
  });
  afterAll(async () => {
    await host?.close();
  });

  const cases: Array<[string, FaultEntry]> = [['(none)', { outcomes: {} }], ...Object.entries(POP3_FAULTS).map(([f, e]) => [f, e!] as [string, FaultEntry])];
  for (const [fault, entry] of cases) {
    it(`verdicts with fault ${fault}`, async () => {
      replaceFlags(host.faults, fault === '(none)' ? {} : ({ [fault]: true } as Pop3Faults));
      let result: RunResult;
      try {
        ({ result } = await runSuite({ targetFile, env, paths: [join(REPO_ROOT, 'suites', 'pop3')] }));
      } finally {
        replaceFlags(host.faults, {});
      }
      expect(outcomes(result, `pop3:${fault}`), summarize(result)).toEqual(expected(result, 'pop3', entry));
      expectActionableFailures(result);
      const left = host.maildrop('alice').filter((m) => m.raw.includes(result.runId));
      if (entry.defeatsCleanup) {
        expect(result.scenarios.flatMap((s) => s.leftovers).length, 'the run names what the server kept').toBeGreaterThan(0);
        host.discard('alice', result.runId);
      } else {
        expect(left.length, 'cleanup removed every message the run sent').toBe(0);
      }
    });
  }
});

describe('IMAP fault matrix (mutating proxy in front of the lab)', () => {
  let proxy: ImapProxy;
  let targetFile: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    ({ proxy, targetFile, env } = await startLabProxy(inject('lab'), 'matrix-imap'));
  });
  afterAll(async () => {
    await proxy?.close();
  });

  const cases: Array<[string, FaultEntry]> = [['(none)', { outcomes: {} }], ...Object.entries(IMAP_MUTATIONS).map(([f, e]) => [f, e!] as [string, FaultEntry])];
  for (const [mutation, entry] of cases) {
    it(`verdicts with mutation ${mutation}`, async () => {
      replaceFlags(proxy.mutations, mutation === '(none)' ? {} : ({ [mutation]: true } as ImapMutations));
      let result: RunResult;
      try {
        ({ result } = await runSuite({ targetFile, env, paths: [join(REPO_ROOT, 'suites', 'imap')] }));
      } finally {
        replaceFlags(proxy.mutations, {});
      }
      expect(outcomes(result, `imap:${mutation}`), summarize(result)).toEqual(expected(result, 'imap', entry));
      expectActionableFailures(result);
      // Whatever the server did, nothing of the run may stay on the lab account: checked on the lab itself.
      const direct = await cleanUpLabRun(inject('lab'), result.runId);
      if (entry.defeatsCleanup) expect(result.scenarios.flatMap((s) => s.leftovers).length, 'the run names what the server kept').toBeGreaterThan(0);
      else expect(result.scenarios.flatMap((s) => s.leftovers.map((l) => `${s.id}: ${l}`)), summarize(result)).toEqual([]);
      expect(direct, 'nothing of the run is left on the lab').toEqual([]);
    });
  }
});

describe('imap/starttls fault matrix (fake IMAP servers)', () => {
  const PASSWORD = 'fake-imap-pw';
  for (const [name, server] of Object.entries(IMAP_STARTTLS_SERVERS)) {
    it(`verdict against server ${name}`, async () => {
      const certs = await testCerts();
      const fake = await startFakeImap({
        password: PASSWORD,
        capabilities: server.capabilities,
        ...(server.tlsCapabilities ? { tlsCapabilities: server.tlsCapabilities } : {}),
        ...(server.starttls ? { starttls: certs.localhost } : {}),
      });
      try {
        const targetFile = await writeFakeImapTarget(fake, certs.ca, 'FAKE_IMAP_PASSWORD');
        const { result } = await runSuite({ targetFile, env: { FAKE_IMAP_PASSWORD: PASSWORD }, paths: [join(REPO_ROOT, 'suites', 'imap', 'starttls.yaml')] });
        expect(outcomes(result, `starttls:${name}`), summarize(result)).toEqual({ 'imap/starttls': server.outcome });
        expectActionableFailures(result);
      } finally {
        await fake.close();
      }
    });
  }
});
