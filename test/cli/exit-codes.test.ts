import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeMailHost, Pop3Faults } from '../../fixtures/servers/fake-mail-host.js';
import { renderTargetFile } from '../../fixtures/servers/target-file.js';
import {
  type CliResult,
  closedPort,
  describeRun,
  POP3_SUITE,
  runCli,
  startCountingServer,
  startFakeHostWithTarget,
  tempDir,
  writeCountingTarget,
} from '../support/cli.js';
import { replaceFlags } from '../support/expect-helpers.js';

/**
 * Every documented exit code, through the built CLI, against servers this
 * process controls. The exit code is what a CI job branches on, so each one is
 * asserted exactly, with the CLI's stderr in the failure message.
 */

const ACCOUNTS = { alice: { password: 'alice-Cli-pw-1', address: 'alice@fake.test' }, bob: { password: 'bob-Cli-pw-2', address: 'bob@fake.test' } };

/** A shipped scenario with one key misspelt; returns the file and the (1-based) line of the typo. */
async function badScenarioCopy(dir: string): Promise<{ file: string; line: number }> {
  const source = await readFile(join(POP3_SUITE, 'rset.yaml'), 'utf8');
  const lines = source.split('\n');
  const index = lines.indexOf('    action: smtp.send');
  expect(index, 'rset.yaml changed shape: no "    action: smtp.send" line to misspell').toBeGreaterThan(0);
  lines[index] = '    actoin: smtp.send';
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'rset-typo.yaml');
  await writeFile(file, lines.join('\n'));
  return { file, line: index + 1 };
}

describe('mailprobe run/validate exit codes', () => {
  let host: FakeMailHost;
  let targetFile: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    ({ host, targetFile, env } = await startFakeHostWithTarget({ accounts: ACCOUNTS }));
  });
  afterAll(async () => {
    await host?.close();
  });

  const setFaults = (faults: Pop3Faults) => {
    replaceFlags(host.faults, faults);
  };

  it('exits 0 when every shipped POP3 scenario passes against a faithful server', async () => {
    setFaults({});
    const r = await runCli(['run', POP3_SUITE, '--target', targetFile, '--out-dir', await tempDir('out')], { env });
    expect(r.code, describeRun(r)).toBe(0);
    // The console summary went to stderr and names the scenarios it ran.
    expect(r.stderr).toContain('pop3/rset');
  });

  describe('exit 1: non-compliance (fault ignoreRset)', () => {
    let r: CliResult;
    beforeAll(async () => {
      setFaults({ ignoreRset: true });
      try {
        r = await runCli(['run', POP3_SUITE, '--target', targetFile, '--out-dir', await tempDir('out')], { env });
      } finally {
        setFaults({});
      }
    });

    it('exits 1 and shows the failing scenario, expected vs actual and the transcript', () => {
      expect(r.code, describeRun(r)).toBe(1);
      expect(r.stderr).toMatch(/✗ .*pop3\/rset/);
      expect(r.stderr).toMatch(/^\s+expected\s+\S/m);
      expect(r.stderr).toMatch(/^\s+actual\s+"?-ERR/m);
      expect(r.stderr).toMatch(/rset\.yaml:\d+:\d+/);
      expect(r.stderr).toMatch(/\] C: \S/);
      expect(r.stderr).toMatch(/\] S: -ERR/);
      // Only the scenario that checks RSET may fail.
      expect(r.stderr.match(/^✗ /gm)).toHaveLength(1);
    });

    // A refusal the step did not expect is shown with the clause the step is about.
    it('names the RFC clause of the failure', () => {
      expect(r.code, describeRun(r)).toBe(1);
      expect(r.stderr).toMatch(/^\s+rfc\s+RFC 1939/m);
    });
  });

  it('exits 3 when the ports are closed, and says the connection was refused', async () => {
    const port = await closedPort();
    const dir = await tempDir('closed');
    const file = join(dir, 'target.yaml');
    await writeFile(
      file,
      renderTargetFile({
        host: '127.0.0.1',
        smtpPort: port,
        pop3Port: port,
        pop3sPort: port,
        starttls: false,
        accounts: [{ user: 'alice', address: 'alice@fake.test' }],
      }),
    );
    const r = await runCli(['run', POP3_SUITE, '--target', file, '--out-dir', join(dir, 'out')], { env: { MAILPROBE_FAKE_PRIMARY_PASSWORD: 'x' } });
    expect(r.code, describeRun(r)).toBe(3);
    expect(r.stderr).toMatch(/refused|ECONNREFUSED/i);
  });

  it('exits 4 when login meets only [SYS/TEMP], and JUnit writes it as <skipped message="inconclusive: …">', async () => {
    // The client logs in with AUTH PLAIN (the fake lists SASL PLAIN) or USER/PASS; refuse both, for now.
    const refuse = (_args: string[], io: { reply(line: string): void }) => {
      io.reply('-ERR [SYS/TEMP] try later');
      return true;
    };
    host.pop3Overrides.AUTH = refuse;
    host.pop3Overrides.USER = refuse;
    const dir = await tempDir('inconclusive');
    const junit = join(dir, 'junit.xml');
    let r;
    try {
      r = await runCli(['run', POP3_SUITE, '--target', targetFile, '--out-dir', join(dir, 'out'), '--reporter', `junit=${junit}`], { env });
    } finally {
      delete host.pop3Overrides.AUTH;
      delete host.pop3Overrides.USER;
    }
    expect(r.code, describeRun(r)).toBe(4);
    const xml = await readFile(junit, 'utf8');
    expect(xml).toMatch(/<skipped message="inconclusive: [^"]*SYS\/TEMP[^"]*"/);
    expect(xml).not.toContain('<failure');
    expect(xml).not.toContain('<error');
  });
});

describe('exit 2: invalid input or usage, and nothing is connected to', () => {
  let counter: Awaited<ReturnType<typeof startCountingServer>>;
  let dir: string;
  let countingTarget: string;

  beforeAll(async () => {
    counter = await startCountingServer();
    dir = await tempDir('usage');
    countingTarget = join(dir, 'target.yaml');
    await writeCountingTarget(countingTarget, counter.port);
  });
  afterAll(async () => {
    await counter?.close();
  });

  const env = { MAILPROBE_FAKE_PRIMARY_PASSWORD: 'unused-pw' };

  it('validate reports a typo in a scenario as file:line:col: reason', async () => {
    const { file, line } = await badScenarioCopy(join(dir, 'validate'));
    const r = await runCli(['validate', file]);
    expect(r.code, describeRun(r)).toBe(2);
    const out = r.stdout + r.stderr;
    expect(out).toMatch(new RegExp(`rset-typo\\.yaml:${line}:5: .*actoin`));
    expect(out).toContain("did you mean 'action'");
  });

  it('run with a bad scenario exits 2 before connecting anywhere', async () => {
    const scenarios = join(dir, 'run-bad-scenario');
    await badScenarioCopy(scenarios);
    await copyFile(join(POP3_SUITE, 'uidl-stable.yaml'), join(scenarios, 'uidl-stable.yaml'));
    const before = counter.connections();
    const r = await runCli(['run', scenarios, '--target', countingTarget, '--out-dir', join(dir, 'out')], { env });
    expect(r.code, describeRun(r)).toBe(2);
    expect(r.stderr).toMatch(/rset-typo\.yaml:\d+:5: /);
    expect(counter.connections(), 'a run with invalid input connected to the target').toBe(before);
  });

  it('run with a target whose port is 70000 exits 2 before connecting anywhere', async () => {
    const target = join(dir, 'bad-port-target.yaml');
    const text = renderTargetFile({
      host: '127.0.0.1',
      smtpPort: counter.port,
      pop3Port: 70000,
      pop3sPort: counter.port,
      starttls: false,
      accounts: [{ user: 'alice', address: 'alice@fake.test' }],
    });
    expect(text).toContain('70000');
    await writeFile(target, text);
    const before = counter.connections();
    const r = await runCli(['run', POP3_SUITE, '--target', target, '--out-dir', join(dir, 'out')], { env });
    expect(r.code, describeRun(r)).toBe(2);
    expect(r.stderr).toMatch(/bad-port-target\.yaml:\d+:\d+: .*port/);
    expect(counter.connections(), 'a run with an invalid target connected to it').toBe(before);
  });

  it('an unknown --reporter name exits 2 before connecting anywhere', async () => {
    const before = counter.connections();
    const r = await runCli(['run', POP3_SUITE, '--target', countingTarget, '--reporter', 'xml', '--out-dir', join(dir, 'out')], { env });
    expect(r.code, describeRun(r)).toBe(2);
    expect(r.stderr).toContain('unknown reporter "xml"');
    expect(counter.connections()).toBe(before);
  });
});
