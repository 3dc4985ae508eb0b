import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeMailHost } from '../../fixtures/servers/fake-mail-host.js';
import { describeRun, REPO_ROOT, runCli, startCountingServer, startFakeHostWithTarget, tempDir, writeCountingTarget } from '../support/cli.js';

const exec = promisify(execFile);
const ACCOUNTS = { alice: { password: 'alice-Shard-pw-1', address: 'alice@fake.test' }, bob: { password: 'bob-Shard-pw-2', address: 'bob@fake.test' } };

interface Report {
  readonly runId: string;
  readonly shard?: { index: number; total: number };
  readonly scenarios: ReadonlyArray<{ id: string; state: string }>;
}

const readReport = async (file: string) => JSON.parse(await readFile(file, 'utf8')) as Report;
/** What must agree between the merged shards and one run: which scenarios, and their verdicts (not times, not run ids). */
const verdicts = (r: Report) => r.scenarios.map((s) => `${s.id} ${s.state}`).sort();

describe('run --shard i/n and report merge, against the fake host', () => {
  let host: FakeMailHost;
  let targetFile: string;
  let env: Record<string, string>;
  let dir: string;
  let whole: { report: Report; code: number };

  beforeAll(async () => {
    ({ host, targetFile, env } = await startFakeHostWithTarget({ accounts: ACCOUNTS }));
    dir = await tempDir('shard');
    // The shipped suites (no paths), as a CI job without a checkout of its own scenarios runs them.
    const r = await runCli(['run', '--target', targetFile, '--quiet', '--reporter', `json=${join(dir, 'whole.json')}`], { env });
    whole = { report: await readReport(join(dir, 'whole.json')), code: r.code ?? -1 };
  }, 300_000);
  afterAll(async () => {
    await host?.close();
  });

  it('shards 1/3, 2/3 and 3/3 merged give the same scenarios, verdicts and exit code as one run', async () => {
    expect(whole.report.scenarios.length).toBeGreaterThan(20);
    const shardFiles: string[] = [];
    const shardIds: string[][] = [];
    for (const i of [1, 2, 3]) {
      const file = join(dir, `shard-${i}.json`);
      const junit = join(dir, `shard-${i}.xml`);
      const r = await runCli(
        [
          'run',
          '--target',
          targetFile,
          '--quiet',
          '--shard',
          `${i}/3`,
          '--reporter',
          `json=${file}`,
          '--reporter',
          `junit=${junit}`,
          '--reporter',
          `tap=${join(dir, `shard-${i}.tap`)}`,
        ],
        {
          env,
        },
      );
      expect([0, 1, 3, 4], describeRun(r)).toContain(r.code);
      const report = await readReport(file);
      expect(report.shard).toEqual({ index: i, total: 3 });
      expect(await readFile(junit, 'utf8')).toContain(`<property name="shard" value="${i}/3"/>`);
      expect(await readFile(join(dir, `shard-${i}.tap`), 'utf8')).toMatch(new RegExp(`^TAP version 14\\n# mailprobe run [^\\n]*, shard ${i}/3\\n`));
      shardIds.push(report.scenarios.map((s) => s.id));
      shardFiles.push(file);
    }
    // Contiguous chunks of the id-sorted set, sizes differing by at most one.
    const sorted = whole.report.scenarios.map((s) => s.id).sort();
    expect(shardIds.flat()).toEqual(sorted);
    const sizes = shardIds.map((ids) => ids.length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);

    const mergedJson = join(dir, 'merged.json');
    const mergedJunit = join(dir, 'merged.xml');
    const mergedStrict = join(dir, 'merged-strict.xml');
    const merged = await runCli([
      'report',
      'merge',
      ...[shardFiles[2]!, shardFiles[0]!, shardFiles[1]!],
      '--reporter',
      `json=${mergedJson}`,
      '--reporter',
      `junit=${mergedJunit}`,
      '--reporter',
      `junit-strict=${mergedStrict}`,
    ]);
    expect(merged.code, describeRun(merged)).toBe(whole.code);
    const report = await readReport(mergedJson);
    expect(verdicts(report)).toEqual(verdicts(whole.report));
    expect(report.shard).toBeUndefined();

    const xml = await readFile(mergedJunit, 'utf8');
    expect(xml.match(/<testcase /g)?.length).toBe(whole.report.scenarios.length);
    await exec('xmllint', ['--noout', mergedJunit]);
    // Throws (with xmllint's reasons) when the strict report does not validate against the Jenkins xunit schema.
    await exec('xmllint', ['--noout', '--schema', join(REPO_ROOT, 'fixtures', 'junit', 'junit-10.xsd'), mergedStrict]);
  }, 300_000);

  it('merged TAP and console go to stdout and stderr as run writes them', async () => {
    const files = [1, 2, 3].map((i) => join(dir, `shard-${i}.json`));
    const tap = await runCli(['report', 'merge', ...files, '--reporter', 'tap']);
    expect(tap.code, describeRun(tap)).toBe(whole.code);
    expect(tap.stdout).toMatch(new RegExp(`^TAP version 14\\n# mailprobe run [^\\n]*\\n1\\.\\.${whole.report.scenarios.length}\\n`));
    expect(tap.stdout.match(/^(not )?ok \d+ /gm)?.length).toBe(whole.report.scenarios.length);
    const consoleOnly = await runCli(['report', 'merge', ...files]);
    expect(consoleOnly.code, describeRun(consoleOnly)).toBe(whole.code);
    expect(consoleOnly.stdout).toBe('');
    expect(consoleOnly.stderr).toContain('pop3/rset');
  });

  it('run --dry-run --shard lists only what that shard would run', async () => {
    const [one, two] = await Promise.all([readReport(join(dir, 'shard-1.json')), readReport(join(dir, 'shard-2.json'))]);
    const r = await runCli(['run', '--target', targetFile, '--dry-run', '--shard', '1/3'], { env });
    expect(r.code, describeRun(r)).toBe(0);
    for (const s of one.scenarios) expect(r.stdout).toContain(s.id);
    for (const s of two.scenarios) expect(r.stdout).not.toContain(s.id);
  });

  it('a merged report that cannot be written is exit 3 when the merged run itself would pass', async () => {
    // Shard 1 alone, as an unsharded report: the fake host skips or passes all of it (the exit 0 below checks that).
    const one = await readReport(join(dir, 'shard-1.json'));
    const single = join(dir, 'single.json');
    await writeFile(single, JSON.stringify({ ...one, shard: undefined }));
    const ok = await runCli(['report', 'merge', single]);
    expect(ok.code, describeRun(ok)).toBe(0);
    const r = await runCli(['report', 'merge', single, '--reporter', `json=${join(REPO_ROOT, 'package.json', 'merged.json')}`]);
    expect(r.code, describeRun(r)).toBe(3);
    expect(r.stderr).toContain('mailprobe: reporter "json"');
  });

  it('refuses overlapping or incomplete shards, and colliding outputs, with exit 2', async () => {
    const one = join(dir, 'shard-1.json');
    const two = join(dir, 'shard-2.json');
    const twice = await runCli(['report', 'merge', one, one, '--reporter', 'json']);
    expect(twice.code, describeRun(twice)).toBe(2);
    expect(twice.stderr).toMatch(/are both shard 1\/3/);
    expect(twice.stdout).toBe('');
    const missing = await runCli(['report', 'merge', one, two, '--reporter', 'json']);
    expect(missing.code, describeRun(missing)).toBe(2);
    expect(missing.stderr).toContain('shard 3/3 missing');
    const collide = await runCli(['report', 'merge', one, '--reporter', 'tap', '--reporter', 'json']);
    expect(collide.code, describeRun(collide)).toBe(2);
    expect(collide.stderr).toContain('cannot share stdout');
    const notReport = await runCli(['report', 'merge', join(REPO_ROOT, 'package.json')]);
    expect(notReport.code, describeRun(notReport)).toBe(2);
    expect(notReport.stderr).toContain('package.json:1:1: not a mailprobe JSON report');
  });
});

describe('run --shard: a bad value', () => {
  it('is exit 2 before anything is connected to', async () => {
    const counter = await startCountingServer();
    try {
      const d = await tempDir('shard-bad');
      const target = join(d, 'target.yaml');
      await writeCountingTarget(target, counter.port);
      for (const bad of ['0/3', '4/3', '3', 'a/b']) {
        const r = await runCli(['run', join(REPO_ROOT, 'suites', 'pop3'), '--target', target, '--shard', bad], {
          cwd: d,
          env: { MAILPROBE_FAKE_PRIMARY_PASSWORD: 'unused-pw' },
        });
        expect(r.code, describeRun(r)).toBe(2);
        expect(r.stderr).toContain('bad shard');
      }
      expect(counter.connections(), 'a run with a bad --shard connected to the target').toBe(0);
    } finally {
      await counter.close();
    }
  });
});
