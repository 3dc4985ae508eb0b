import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeMailHost } from '../../fixtures/servers/fake-mail-host.js';
import { describeRun, POP3_SUITE, runCli, startCountingServer, startFakeHostWithTarget, tempDir, writeCountingTarget } from '../support/cli.js';

/**
 * `run --concurrency N`, `--max-connections-per-host M` and `--connect-rate R`
 * (issue 10 §6) through the built bin: a bad value is a usage error, exit 2,
 * with the reason, and nothing is connected to.
 */
describe('bad --concurrency and connection budget values exit 2, saying why, connecting nowhere', () => {
  let counter: Awaited<ReturnType<typeof startCountingServer>>;
  let dir: string;
  let target: string;
  const env = { MAILPROBE_FAKE_PRIMARY_PASSWORD: 'pw-1' };

  beforeAll(async () => {
    counter = await startCountingServer();
    dir = await tempDir('concurrency-usage');
    target = await writeCountingTarget(join(dir, 'counting.yaml'), counter.port);
  });
  afterAll(async () => {
    await counter?.close();
  });

  const cases: ReadonlyArray<{ args: string[]; says: RegExp }> = [
    { args: ['--concurrency', '0'], says: /'0' is invalid.*whole number from 1 to 16/ },
    { args: ['--concurrency', '17'], says: /'17' is invalid.*whole number from 1 to 16/ },
    { args: ['--concurrency', '2.5'], says: /'2\.5' is invalid/ },
    { args: ['--concurrency', 'four'], says: /'four' is invalid/ },
    { args: ['--concurrency', '-1'], says: /'-1' is invalid/ },
    { args: ['--concurrency', ''], says: /'' is invalid/ },
    { args: ['--max-connections-per-host', '0'], says: /'0' is invalid.*whole number from 1 to 64/ },
    { args: ['--max-connections-per-host', '1e1'], says: /'1e1' is invalid/ },
    { args: ['--connect-rate', '0'], says: /'0' is invalid.*above 0/ },
    { args: ['--connect-rate', 'fast'], says: /'fast' is invalid/ },
    { args: ['--connect-rate', 'Infinity'], says: /'Infinity' is invalid/ },
  ];
  for (const { args, says } of cases) {
    it(`mailprobe run ${args.join(' ')}`, async () => {
      const before = counter.connections();
      const r = await runCli(['run', join(POP3_SUITE, 'rset.yaml'), '--target', target, '--out-dir', join(dir, 'out'), ...args], { env });
      expect(r.code, describeRun(r)).toBe(2);
      expect(r.stderr, describeRun(r)).toMatch(says);
      expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
      expect(counter.connections(), 'a refused option connected').toBe(before);
    });
  }

  it('good values run (the counting host hangs up: errored, exit 3), and --help lists the options', async () => {
    const before = counter.connections();
    const r = await runCli(
      ['run', POP3_SUITE, '--target', target, '--out-dir', join(dir, 'out'), '--concurrency', '4', '--max-connections-per-host', '2', '--connect-rate', '20'],
      { env },
    );
    expect(r.code, describeRun(r)).toBe(3);
    expect(counter.connections()).toBeGreaterThan(before);
    expect(r.stderr).toMatch(/concurrency 4: \d+ of \d+ scenarios started while others ran/);
    const help = await runCli(['run', '--help']);
    for (const option of ['--concurrency <n>', '--max-connections-per-host <m>', '--connect-rate <r>']) expect(help.stdout).toContain(option);
  });
});

describe('run --verbose --concurrency 2', () => {
  const PASSWORD = 'Concurrent-pw-3q!';
  let host: FakeMailHost;
  let targetFile: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    ({ host, targetFile, env } = await startFakeHostWithTarget({ accounts: { alice: { password: PASSWORD, address: 'alice@fake.test' } } }));
  });
  afterAll(async () => {
    await host?.close();
  });

  it("prefixes every live transcript line with its scenario's id (the lines of scenarios at once interleave), still redacted", async () => {
    const r = await runCli(['run', `${POP3_SUITE}/stls.yaml`, `${POP3_SUITE}/rset.yaml`, '--target', targetFile, '--verbose', '--concurrency', '2'], { env });
    expect(r.code, describeRun(r)).toBe(0);
    const LIVE = /^(\d\d:\d\d:\d\d\.\d{3}) \[([^\]]+)\] (===| ->| <-| ~>| <~) (.*)$/;
    const lines = r.stderr.split('\n');
    const live = lines.filter((line) => /^\[[^\]]+\] \d\d:\d\d:\d\d\.\d{3} /.test(line));
    expect(live.length, describeRun(r)).toBeGreaterThan(10);
    // No transcript line goes unprefixed.
    expect(lines.filter((line) => LIVE.test(line))).toEqual([]);
    const ids = new Set(live.map((line) => /^\[([^\]]+)\]/.exec(line)![1]));
    const resultIds = lines.flatMap((line) => /^✓ .* {2}(\S+) {2}\S+$/.exec(line)?.[1] ?? []);
    expect([...ids].sort(), describeRun(r)).toEqual([...resultIds].sort());
    expect(r.stderr).not.toContain(PASSWORD);
  });
});
