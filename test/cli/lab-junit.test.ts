import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { describeRun, REPO_ROOT, runCli, tempDir, type CliResult } from '../support/cli.js';

/**
 * The main job's reports: the default suites against the real Dovecot +
 * Postfix lab, through the built CLI, exactly as CI consumes them.
 */
const exec = promisify(execFile);

/** Every scenario file the CLI's default path (suites/) holds. */
async function scenarioFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await scenarioFiles(p)));
    else if (/\.ya?ml$/.test(entry.name)) out.push(p);
  }
  return out;
}

async function xmllint(args: string[]): Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout, stderr } = await exec('xmllint', args);
    return { ok: true, output: stdout + stderr };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` || e.message };
  }
}

/** The attributes of every <testcase …> start tag, and the body up to its end tag. */
function testcases(xml: string): Array<{ attrs: Record<string, string>; body: string }> {
  const cases: Array<{ attrs: Record<string, string>; body: string }> = [];
  const re = /<testcase\b([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g;
  for (const m of xml.matchAll(re)) {
    const attrs: Record<string, string> = {};
    for (const a of (m[1] ?? '').matchAll(/([\w:-]+)="([^"]*)"/g)) attrs[a[1]!] = a[2]!;
    cases.push({ attrs, body: m[3] ?? '' });
  }
  return cases;
}

describe('mailprobe run against the lab: JUnit for CI', () => {
  const lab = inject('lab');
  let r: CliResult;
  let junit: string;
  let strict: string;

  beforeAll(async () => {
    const dir = await tempDir('lab-junit');
    junit = join(dir, 'junit.xml');
    strict = join(dir, 'junit-strict.xml');
    r = await runCli([
      'run',
      '--target',
      lab.targetFile,
      '--env-from',
      lab.envFile,
      '--out-dir',
      join(dir, 'out'),
      '--reporter',
      `junit=${junit}`,
      '--reporter',
      `junit-strict=${strict}`,
    ]);
  }, 300_000);

  it('exits 0', () => {
    expect(r.code, describeRun(r)).toBe(0);
  });

  it('writes well-formed JUnit with one testcase per scenario file, each with classname, name, time, file and line', async () => {
    const lint = await xmllint(['--noout', junit]);
    expect(lint.ok, lint.output).toBe(true);

    const files = await scenarioFiles(join(REPO_ROOT, 'suites'));
    expect(files.length).toBeGreaterThan(0);
    const xml = await readFile(junit, 'utf8');
    const cases = testcases(xml);
    expect(cases).toHaveLength(files.length);
    for (const { attrs, body } of cases) {
      const label = JSON.stringify(attrs);
      for (const key of ['classname', 'name', 'time', 'file', 'line']) expect(attrs[key], `${key} missing on ${label}`).toBeTruthy();
      expect(attrs.time, label).toMatch(/^\d+(\.\d+)?$/);
      expect(attrs.line, label).toMatch(/^[1-9]\d*$/);
      expect(body, label).not.toMatch(/<(failure|error)\b/);
    }
    // One testcase per file, and each file named by exactly one testcase.
    const named = cases.map((c) => c.attrs.file!.replace(/\\/g, '/')).sort();
    const expected = files.map((f) => relative(REPO_ROOT, f).replace(/\\/g, '/')).sort();
    expect(named.map((f) => f.slice(f.indexOf('suites/')))).toEqual(expected);
  });

  it('writes strict JUnit that validates against the Jenkins xunit junit-10.xsd', async () => {
    const lint = await xmllint(['--noout', '--schema', join(REPO_ROOT, 'fixtures', 'junit', 'junit-10.xsd'), strict]);
    expect(lint.ok, lint.output).toBe(true);
    expect(testcases(await readFile(strict, 'utf8')).length).toBeGreaterThan(0);
  });
});
