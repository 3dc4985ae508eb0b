import { copyFile, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Parser, type Result } from 'tap-parser';
import { describe, expect, it } from 'vitest';
import { HtmlReporter } from '../../src/reporters/html.js';
import { JsonReporter } from '../../src/reporters/json.js';
import { JUnitReporter } from '../../src/reporters/junit-reporter.js';
import { TapReporter } from '../../src/reporters/tap.js';
import { execute } from '../../src/runner/execute.js';
import type { Reporter } from '../../src/runner/reporter.js';
import type { RunResult } from '../../src/runner/results.js';
import { captureContext } from '../reporters/support.js';
import { gitlabCases, mikepenzAnnotations } from '../support/junit-consumers.js';

/**
 * Issue 10 §2: files that fail to load still appear in the reports, as
 * errored cases with the load error, so a CI job gets a junit.xml that says
 * why (not none, nor the previous run's). Nothing connects: the target names
 * a port nobody listens on, and the run is refused before any connection.
 */
const FIXTURES = fileURLToPath(new URL('../../fixtures/scenarios/', import.meta.url));
const GOOD_TARGET = path.join(FIXTURES, 'targets/good/lab.yaml');
const SHIPPED_RSET = fileURLToPath(new URL('../../suites/pop3/rset.yaml', import.meta.url));

async function workspace(): Promise<{ dir: string; bad: string; good: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'mailprobe-loaderr-'));
  const bad = path.join(dir, 'suites', 'unknown-action.yaml');
  const good = path.join(dir, 'suites', 'rset.yaml');
  await mkdir(path.join(dir, 'suites'), { recursive: true });
  await copyFile(path.join(FIXTURES, 'bad/unknown-action.yaml'), bad);
  await copyFile(SHIPPED_RSET, good);
  return { dir, bad, good };
}

async function invalidRun(targetFile: string, paths: string[], cwd: string) {
  const seen: RunResult[] = [];
  const collector: Reporter = { name: 'collector', onRunEnd: (r) => void seen.push(r) };
  const contexts = { junit: captureContext({ cwd }), tap: captureContext({ cwd }), json: captureContext({ cwd }) };
  const outcome = await execute({
    targetFile,
    paths,
    env: {},
    reporters: () => [],
    loadErrorReporters: (redactor) => [
      collector,
      new JUnitReporter({ ...contexts.junit, redactor }),
      new TapReporter({ ...contexts.tap, redactor }),
      new JsonReporter({ ...contexts.json, redactor }),
      new HtmlReporter({ ...captureContext({ cwd }), redactor, outFile: 'report.html' }),
    ],
    stderr: captureContext().stderr,
    signal: new AbortController().signal,
    messagesDir: path.join(cwd, 'messages'),
    version: '0.0.0-test',
  });
  const html = await readFile(path.join(cwd, 'report.html'), 'utf8').catch(() => '');
  return { outcome, run: seen[0], junit: contexts.junit.stdout.text, tap: contexts.tap.stdout.text, json: contexts.json.stdout.text, html };
}

describe('load errors in the reports', () => {
  it('a scenario file that fails to load is an errored case in JUnit, TAP, JSON and HTML; the run is still refused', async () => {
    const { dir, bad, good } = await workspace();
    const { outcome, run, junit, tap, json, html } = await invalidRun(GOOD_TARGET, [bad, good], dir);
    expect(outcome.kind).toBe('invalid');
    expect(run, 'the load-error reporters were not given a run').toBeDefined();
    expect(run?.scenarios).toHaveLength(1);
    const [only] = run?.scenarios ?? [];
    expect(only).toMatchObject({
      state: 'errored',
      file: bad,
      line: 5,
      error: { code: 'ESCENARIO_INVALID', phase: 'load', source: { file: bad, line: 5, col: 13 } },
    });
    expect(only?.state === 'errored' ? only.error.message : '').toContain("unknown action 'pop3.retrr'");

    // JUnit: an <error>, annotated on the offending line, its body naming the problem with a code frame.
    expect(junit).toMatch(/<testsuites name="mailprobe" tests="1" failures="0" errors="1"/);
    expect(mikepenzAnnotations(junit)).toEqual([expect.objectContaining({ path: 'suites/unknown-action.yaml', line: 5, level: 'failure' })]);
    const [gitlab] = gitlabCases(junit);
    expect(gitlab?.status).toBe('error');
    expect(gitlab?.details).toContain("suites/unknown-action.yaml:5:13: unknown action 'pop3.retrr' (did you mean 'pop3.retr'?)");
    expect(gitlab?.details).toMatch(/> 5 \| .*pop3\.retrr/);

    // TAP: one failing test point with the error's place as node-tap writes it.
    const asserts = Parser.parse(tap)
      .filter((e) => e[0] === 'assert')
      .map((e) => e[1] as Result);
    expect(asserts).toHaveLength(1);
    expect(asserts[0]?.ok).toBe(false);
    expect(asserts[0]?.diag).toMatchObject({ severity: 'error', code: 'ESCENARIO_INVALID', at: { file: 'suites/unknown-action.yaml', line: 5, column: 13 } });

    // JSON: the same case, counted as errored.
    const report = JSON.parse(json) as { counts: { errored: number; total: number }; scenarios: Array<{ state: string; error: { code: string } }> };
    expect(report.counts).toMatchObject({ total: 1, errored: 1 });
    expect(report.scenarios[0]).toMatchObject({ state: 'errored', error: { code: 'ESCENARIO_INVALID' } });

    // HTML: one errored row with the code, the place and the problem.
    expect(html.match(/<details class="scenario v-errored" [^>]*data-verdict="errored"/g)).toHaveLength(1);
    expect(html).toContain('<code>ESCENARIO_INVALID</code> (phase load)');
    expect(html).toContain('<code>suites/unknown-action.yaml:5:13</code>');
    expect(html).toContain('unknown action &#39;pop3.retrr&#39;');
  });

  it('a target file that fails to load is an errored case too, and its password never reaches a report', async () => {
    const { dir, good } = await workspace();
    const target = path.join(dir, 'target.yaml');
    // A literal password in the target file is itself a load error (secrets come from the environment).
    const text = (await readFile(GOOD_TARGET, 'utf8')).replace(/password_env: *\S+/, 'password: Canary-Target-pw-9');
    expect(text, 'lab.yaml changed shape: no password_env to replace').toContain('Canary-Target-pw-9');
    await writeFile(target, text);
    const { outcome, run, junit, tap, json, html } = await invalidRun(target, [good], dir);
    expect(outcome.kind).toBe('invalid');
    expect(run?.scenarios.map((s) => [s.state, s.file])).toEqual([['errored', target]]);
    expect(run?.scenarios[0]?.state === 'errored' ? run.scenarios[0].error.code : '').toBe('ETARGET_INVALID');
    expect(html).toContain('ETARGET_INVALID');
    for (const report of [junit, tap, json, html]) expect(report).not.toContain('Canary-Target-pw-9');
  });
});
