import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeRun, REPO_ROOT, runCli } from '../support/cli.js';

/** What a user sees first: --help and --version of the built CLI. */
describe('mailprobe --help and --version', () => {
  it('--help exits 0 and lists the commands and every exit code', async () => {
    const r = await runCli(['--help']);
    expect(r.code, describeRun(r)).toBe(0);
    const out = r.stdout;
    for (const command of ['run', 'validate', 'lab', 'schema', 'report']) expect(out).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
    for (const code of ['0', '1', '2', '3', '4', '130']) expect(out, `exit code ${code} missing`).toMatch(new RegExp(`^\\s+${code}\\s+\\S`, 'm'));
  });

  it('run --help exits 0 and shows examples', async () => {
    const r = await runCli(['run', '--help']);
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout).toMatch(/^Examples:/m);
    expect(r.stdout).toMatch(/^\s+mailprobe run .*--target/m);
    expect(r.stdout).toContain('--reporter');
  });

  it('--version prints the version from package.json', async () => {
    const { version } = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    const r = await runCli(['--version']);
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout.trim()).toBe(version);
  });
});
