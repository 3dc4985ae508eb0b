import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeRun, POP3_SUITE, REPO_ROOT, runCli, startCountingServer, tempDir, writeCountingTarget } from '../support/cli.js';
import { gitlabCases } from '../support/junit-consumers.js';

/**
 * Issue 10 §2, through the built CLI: a run whose scenario file does not load
 * still writes its JUnit and JSON (replacing a stale report of an earlier
 * run), names the broken file in them as an errored case, exits 2 as the
 * README promises for invalid input, and connects to nothing.
 */
describe('mailprobe run: load errors in the reports', () => {
  let counter: Awaited<ReturnType<typeof startCountingServer>>;
  let dir: string;
  let target: string;

  beforeAll(async () => {
    counter = await startCountingServer();
    dir = await tempDir('load-error-reports');
    target = join(dir, 'target.yaml');
    await writeCountingTarget(target, counter.port);
  });
  afterAll(async () => {
    await counter?.close();
  });

  it('writes junit.xml and report.json with the broken file as an errored case, exits 2, connects to nothing', async () => {
    const suites = join(dir, 'suites');
    await mkdir(join(suites, 'pop3'), { recursive: true });
    await copyFile(join(POP3_SUITE, 'rset.yaml'), join(suites, 'pop3', 'rset.yaml'));
    await copyFile(join(REPO_ROOT, 'fixtures/scenarios/bad/unknown-action.yaml'), join(suites, 'pop3', 'broken.yaml'));
    // The previous run's report: a CI job must not read it as this run's.
    await mkdir(join(dir, 'reports'), { recursive: true });
    await writeFile(join(dir, 'reports', 'junit.xml'), '<testsuites name="mailprobe" tests="1" failures="0" errors="0"/>\n');
    const before = counter.connections();
    const r = await runCli(
      ['run', 'suites', '--target', target, '--reporter', 'junit=reports/junit.xml', '--reporter', 'json=reports/report.json', '--out-dir', 'reports'],
      { cwd: dir, env: { MAILPROBE_FAKE_PRIMARY_PASSWORD: 'unused-pw' } },
    );
    expect(r.code, describeRun(r)).toBe(2);
    expect(r.stderr).toContain("suites/pop3/broken.yaml:5:13: unknown action 'pop3.retrr'");
    expect(counter.connections(), 'a run with invalid input connected to the target').toBe(before);

    const junit = await readFile(join(dir, 'reports', 'junit.xml'), 'utf8');
    expect(junit).toMatch(/<testsuites name="mailprobe" tests="1" failures="0" errors="1"/);
    expect(junit).toContain('classname="mailprobe.pop3" name="scenario file broken.yaml could not be loaded"');
    expect(junit).toContain('file="suites/pop3/broken.yaml" line="5"');
    expect(gitlabCases(junit)[0]?.details).toContain("suites/pop3/broken.yaml:5:13: unknown action 'pop3.retrr' (did you mean 'pop3.retr'?)");

    const json = JSON.parse(await readFile(join(dir, 'reports', 'report.json'), 'utf8')) as {
      counts: Record<string, number>;
      scenarios: Array<{ id: string; state: string }>;
    };
    expect(json.counts).toMatchObject({ total: 1, errored: 1 });
    expect(json.scenarios.map((s) => [s.id, s.state])).toEqual([['pop3/broken', 'errored']]);
  });
});
