import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeMailHost } from '../../fixtures/servers/fake-mail-host.js';
import { describeRun, REPO_ROOT, runCli, startCountingServer, startFakeHostWithTarget, tempDir, writeCountingTarget } from '../support/cli.js';

/**
 * `mailprobe report diff` and `run --baseline` through the built CLI, over
 * the two recorded runs in fixtures/reports (see test/unit/report-diff.test.ts
 * for how they were made).
 */
const BASELINE = join(REPO_ROOT, 'fixtures', 'reports', 'baseline.json');
const CURRENT = join(REPO_ROOT, 'fixtures', 'reports', 'current.json');
const ACCOUNTS = { alice: { password: 'alice-Diff-pw-1', address: 'alice@fake.test' }, bob: { password: 'bob-Diff-pw-2', address: 'bob@fake.test' } };
/** Far above any time the fake host takes on a busy machine: these runs are about verdicts, not speed. */
const NO_TIMING = ['--threshold', '100000%,600000ms'];

describe('mailprobe report diff', () => {
  it('gates a recorded regression: exit 1 and a console table naming what newly fails', async () => {
    const r = await runCli(['report', 'diff', BASELINE, CURRENT]);
    expect(r.code, describeRun(r)).toBe(1);
    expect(r.stdout).toMatch(/Newly failing \(regression\):\n {2}scenario +verdict\n[ -]+\n {2}pop3\/rset +passed → failed\n {2}pop3\/stls +passed → failed\n/);
    expect(r.stdout).toContain('REGRESSED');
    expect(r.stderr).toBe('');
  });

  it('improvements alone exit 0', async () => {
    const r = await runCli(['report', 'diff', CURRENT, BASELINE]);
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout).toContain('Newly passing:');
    expect(r.stdout).toMatch(/no regression\n$/);
  });

  it('writes Markdown for a PR comment and JSON for tools, with the same gate', async () => {
    const md = await runCli(['report', 'diff', BASELINE, CURRENT, '--format', 'markdown']);
    expect(md.code, describeRun(md)).toBe(1);
    expect(md.stdout).toMatch(/^### mailprobe report diff: ❌ regressed\n/);
    expect(md.stdout).toContain('| pop3/rset | passed → failed |');
    const json = await runCli(['report', 'diff', BASELINE, CURRENT, '--format', 'json']);
    expect(json.code, describeRun(json)).toBe(1);
    const parsed = JSON.parse(json.stdout) as { regressed: boolean; states: Array<{ id: string; kind: string }> };
    expect(parsed.regressed).toBe(true);
    expect(parsed.states.map((s) => `${s.id} ${s.kind}`)).toEqual(['pop3/rset newly-failing', 'pop3/stls newly-failing']);
  });

  it('refuses a file that is not a mailprobe JSON report with exit 2 and file:line:col', async () => {
    const dir = await tempDir('diff-bad');
    await writeFile(join(dir, 'junit.xml'), '<testsuites/>\n');
    await writeFile(join(dir, 'v2.json'), '{"schemaVersion": 2, "runId": "x", "scenarios": []}\n');
    await copyFile(BASELINE, join(dir, 'baseline.json'));
    const notJson = await runCli(['report', 'diff', 'baseline.json', 'junit.xml'], { cwd: dir });
    expect(notJson.code, describeRun(notJson)).toBe(2);
    expect(notJson.stderr).toMatch(/^mailprobe: junit\.xml:1:1: not JSON: /);
    expect(notJson.stdout).toBe('');
    const v2 = await runCli(['report', 'diff', 'v2.json', 'baseline.json'], { cwd: dir });
    expect(v2.code, describeRun(v2)).toBe(2);
    expect(v2.stderr).toContain('v2.json:1:1: unsupported report schemaVersion 2; this mailprobe reads schemaVersion 1');
    const missing = await runCli(['report', 'diff', 'baseline.json', 'nope.json'], { cwd: dir });
    expect(missing.code, describeRun(missing)).toBe(2);
    expect(missing.stderr).toContain('nope.json:1:1: JSON report not found');
  });

  it('a bad --format or --threshold, or a missing file argument, is a usage error (exit 2)', async () => {
    for (const args of [
      ['--format', 'html'],
      ['--threshold', 'fast'],
    ]) {
      const r = await runCli(['report', 'diff', BASELINE, CURRENT, ...args]);
      expect(r.code, describeRun(r)).toBe(2);
    }
    const one = await runCli(['report', 'diff', BASELINE]);
    expect(one.code, describeRun(one)).toBe(2);
  });
});

describe('mailprobe run --baseline', () => {
  let host: FakeMailHost;
  let targetFile: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    ({ host, targetFile, env } = await startFakeHostWithTarget({ accounts: ACCOUNTS }));
  });
  afterAll(async () => {
    await host?.close();
  });

  it('a run that passes against a baseline where it passed: the diff is printed after the reports, exit 0', async () => {
    const r = await runCli(['run', 'suites/pop3', '--target', targetFile, '--baseline', BASELINE, ...NO_TIMING], { env });
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout).toMatch(/^report diff: baseline 20261201t180221-e82919 → current /);
    // The baseline also ran the smtp suite: those are listed, not counted as regressions.
    expect(r.stdout).toMatch(/Scenarios only in the baseline:\n[\s\S]*smtp\/no-open-relay/);
    expect(r.stdout).toMatch(/no regression\n$/);
  });

  it('a regression after a pass exits 1 with the diff; the diff goes to stderr when a report takes stdout', async () => {
    host.faults.ignoreRset = true;
    try {
      const r = await runCli(['run', 'suites/pop3', '--target', targetFile, '--baseline', BASELINE, '--reporter', 'json', ...NO_TIMING], { env });
      // The run itself failed (1) and regressed: 1 either way; the JSON on stdout stays whole.
      expect(r.code, describeRun(r)).toBe(1);
      const report = JSON.parse(r.stdout) as { scenarios: Array<{ id: string; state: string }> };
      expect(report.scenarios.find((s) => s.id === 'pop3/rset')?.state).toBe('failed');
      expect(r.stderr).toMatch(/Newly failing \(regression\):\n[\s\S]*pop3\/rset +passed → failed/);
    } finally {
      host.faults.ignoreRset = false;
    }
  });

  it('a passing run against a baseline where that scenario failed is an improvement: exit 0', async () => {
    const r = await runCli(['run', 'suites/pop3', '--grep', '^pop3/rset$', '--target', targetFile, '--baseline', CURRENT, ...NO_TIMING], { env });
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout).toMatch(/Newly passing:\n[\s\S]*pop3\/rset +failed → passed/);
    expect(r.stdout).toMatch(/no regression\n$/);
  });

  it('a baseline that is not a report is exit 2 before anything is connected to', async () => {
    const counter = await startCountingServer();
    try {
      const dir = await tempDir('baseline-bad');
      const target = join(dir, 'target.yaml');
      await writeCountingTarget(target, counter.port);
      await writeFile(join(dir, 'old.json'), await readFile(join(REPO_ROOT, 'package.json'), 'utf8'));
      const r = await runCli(['run', join(REPO_ROOT, 'suites', 'pop3'), '--target', target, '--baseline', 'old.json'], {
        cwd: dir,
        env: { MAILPROBE_FAKE_PRIMARY_PASSWORD: 'unused-pw' },
      });
      expect(r.code, describeRun(r)).toBe(2);
      expect(r.stderr).toContain('old.json:1:1: not a mailprobe JSON report: it has no schemaVersion');
      expect(counter.connections(), 'a run with a bad baseline connected to the target').toBe(0);
    } finally {
      await counter.close();
    }
  });
});
