import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { describeRun, POP3_SUITE, REPO_ROOT, runCli, startFakeHostWithTarget, tempDir } from '../support/cli.js';

/**
 * Cold start (issue 12 §2): printing the version or the help must not load a protocol library, a schema or a
 * parser it does not use. Checked by the modules the process loaded, recorded by a `node --import` preload,
 * never by a time.
 */
const RECORDER = join(REPO_ROOT, 'test', 'support', 'load-recorder.mjs');
const HEAVY = ['imapflow', 'nodemailer', 'xmlbuilder2', 'zod', 'yaml', 'dns-packet'] as const;

/**
 * What each file of the bundled CLI holds (scripts/bundle.mjs writes it): a package bundled into a chunk is loaded
 * with the chunk, never from node_modules/, so a loaded chunk stands for every source in it. Empty when dist/ is
 * tsc's alone.
 */
async function bundledSources(): Promise<Map<string, readonly string[]>> {
  const text = await readFile(join(REPO_ROOT, 'dist', 'chunks', 'sources.json'), 'utf8').catch(() => '{}');
  return new Map(Object.entries(JSON.parse(text) as Record<string, string[]>).map(([file, inputs]) => [join(REPO_ROOT, file), inputs]));
}

/** The packages under node_modules/ that a run of the CLI loaded, directly or inside a chunk of the bundle. */
async function loadedPackages(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<{ packages: Set<string>; stdout: string; code: number | null }> {
  const log = join(await mkdtemp(join(tmpdir(), 'mailprobe-loads-')), 'loads.txt');
  const r = await runCli(args, { env: { ...env, MAILPROBE_LOAD_LOG: log, NODE_OPTIONS: `--import=${RECORDER}` } });
  expect(r.code, describeRun(r)).toBe(0);
  const bundled = await bundledSources();
  const lines = (await readFile(log, 'utf8')).split('\n').filter(Boolean);
  const packages = new Set<string>();
  for (const line of lines) {
    const path = line.startsWith('file:') ? fileURLToPath(line) : line;
    for (const source of [path, ...(bundled.get(path) ?? [])]) {
      const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(source);
      if (m?.[1]) packages.add(m[1]);
    }
  }
  return { packages, stdout: r.stdout, code: r.code };
}

describe('cold start loads only what the command uses', () => {
  it('the recorder sees what a command really loads (validate needs yaml and zod)', async () => {
    // Guards the guard: a recorder that saw nothing would make every test below pass.
    const { packages } = await loadedPackages(['validate', join(REPO_ROOT, 'suites', 'pop3')]);
    expect(packages).toContain('commander');
    expect(packages).toContain('yaml');
    expect(packages).toContain('zod');
  });

  it('mailprobe validate suites/ reads and checks the files without the protocol libraries (imapflow, nodemailer)', async () => {
    // validate needs the action registry's parameter schemas, never a session or a message composer.
    const { packages, code } = await loadedPackages(['validate', join(REPO_ROOT, 'suites')]);
    expect(code).toBe(0);
    expect(
      ['imapflow', 'nodemailer'].filter((name) => packages.has(name)),
      `loaded: ${[...packages].sort().join(', ')}`,
    ).toEqual([]);
  });

  for (const args of [['--version'], ['--help'], ['run', '--help'], ['probe', '--help'], ['validate', '--help'], ['load', '--help']]) {
    it(`mailprobe ${args.join(' ')} loads none of ${HEAVY.join(', ')}, and prints what it prints without the recorder`, async () => {
      const { packages, stdout } = await loadedPackages(args);
      expect(packages).toContain('commander');
      const heavy = HEAVY.filter((name) => packages.has(name));
      expect(heavy, `loaded: ${[...packages].sort().join(', ')}`).toEqual([]);
      const plain = await runCli(args);
      expect(plain.code, describeRun(plain)).toBe(0);
      expect(stdout).toBe(plain.stdout);
      expect(stdout.length).toBeGreaterThan(0);
    });
  }

  it('mailprobe run loads the XML builder only for a JUnit report, and imapflow only for an IMAP session', async () => {
    const { host, targetFile, env } = await startFakeHostWithTarget({
      accounts: { alice: { password: 'alice-Cold-pw-1', address: 'alice@fake.test' }, bob: { password: 'bob-Cold-pw-2', address: 'bob@fake.test' } },
    });
    try {
      const dir = await tempDir('cold-run');
      const run = (reporter: string) => ['run', join(POP3_SUITE, 'retrieve-then-delete.yaml'), '--target', targetFile, '--quiet', '--reporter', reporter];
      const json = await loadedPackages(run(`json=${join(dir, 'report.json')}`), env);
      // It really ran: the POP3 client and a scenario's passing report, without xmlbuilder2.
      expect(JSON.parse(await readFile(join(dir, 'report.json'), 'utf8'))).toMatchObject({ counts: { total: 1, passed: 1 } });
      expect(json.packages.has('xmlbuilder2'), `loaded: ${[...json.packages].sort().join(', ')}`).toBe(false);
      // A scenario of POP3 and SMTP alone: imapflow loads with the first IMAP session, and there is none.
      expect(json.packages.has('imapflow'), `loaded: ${[...json.packages].sort().join(', ')}`).toBe(false);
      const junit = await loadedPackages(run(`junit=${join(dir, 'junit.xml')}`), env);
      expect(junit.packages).toContain('xmlbuilder2');
      expect(await readFile(join(dir, 'junit.xml'), 'utf8')).toMatch(/^<\?xml [^>]*\?>\s*<testsuites [^>]*tests="1" failures="0" errors="0"/);
    } finally {
      await host.close();
    }
  }, 60_000);
});
