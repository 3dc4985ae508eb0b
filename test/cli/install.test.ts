import { execFile } from 'node:child_process';
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { FakeMailHost } from '../../fixtures/servers/fake-mail-host.js';
import { REPO_ROOT, startFakeHostWithTarget, tempDir } from '../support/cli.js';

const run = promisify(execFile);

interface Ran {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A command's exit code and output, whether it exits 0 or not. */
async function exec(file: string, args: readonly string[], options: { cwd: string; env?: Record<string, string> }): Promise<Ran> {
  try {
    const r = await run(file, [...args], { cwd: options.cwd, env: { ...process.env, NO_COLOR: '1', ...options.env }, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/**
 * Installs the tarball into `prefix` as npm would for a user, from npm's cache only. `npm install --global
 * TARBALL` would resolve the dependencies' version ranges through the registry's metadata, which the cache
 * of an `npm ci` does not hold (ENOTCACHED offline); so `prefix` is a project that depends on the tarball,
 * locked to the checkout's own production dependencies (the lock entries an `npm ci` of the checkout put
 * in the cache), and `npm ci --offline` installs it: the same unpacking, dependency tree and bin links.
 */
async function installOffline(tarball: string, prefix: string, npmOptions: readonly string[]): Promise<Ran> {
  const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
  const lock = JSON.parse(await readFile(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
  const from = `file:${tarball}`;
  const root = { name: 'mailprobe-install-check', version: '1.0.0', dependencies: { mailprobe: from } };
  const packages: Record<string, unknown> = {
    '': root,
    'node_modules/mailprobe': {
      version: pkg.version,
      resolved: from,
      dependencies: pkg.dependencies,
      bin: pkg.bin,
      engines: pkg.engines,
      license: pkg.license,
    },
  };
  for (const [path, entry] of Object.entries(lock.packages)) if (path !== '' && entry.dev !== true) packages[path] = entry;
  await mkdir(prefix, { recursive: true });
  await writeFile(join(prefix, 'package.json'), JSON.stringify(root));
  await writeFile(join(prefix, 'package-lock.json'), JSON.stringify({ ...root, lockfileVersion: 3, requires: true, packages }));
  return exec('npm', ['ci', '--offline', ...npmOptions], { cwd: prefix });
}

const show = (r: Ran) => `exit ${r.code}\n--- stderr ---\n${r.stderr}\n--- stdout ---\n${r.stdout.slice(0, 4000)}`;

/**
 * What an install puts on a user's PATH: the packed tarball (what a registry
 * would serve), installed into a private prefix (see installOffline), and run
 * through its installed bin (the shebang, as a shell runs it) from a folder
 * that is neither the checkout nor the prefix. One test, since packing and installing is slow; dist/ must be
 * built (as for every CLI test), and the install reads npm's cache only
 * (--offline): tests talk to no registry.
 */
describe('the packed package, installed', () => {
  let host: FakeMailHost | undefined;
  let dir: string | undefined;
  afterAll(async () => {
    await host?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('installs a working mailprobe: --version, validate, a run whose JUnit names files from the package root; --env-file stays Node’s', async () => {
    dir = await tempDir('install');
    const elsewhere = join(dir, 'elsewhere');
    const prefix = join(dir, 'prefix');
    await mkdir(elsewhere, { recursive: true });
    const npmOptions = ['--no-audit', '--no-fund', '--loglevel=error'];

    // dist/ is built already; the prepare script (which builds it on a fresh clone's npm ci) is not needed here.
    const packed = await exec('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir, ...npmOptions], { cwd: REPO_ROOT });
    expect(packed.code, show(packed)).toBe(0);
    const [{ filename, files }] = JSON.parse(packed.stdout) as [{ filename: string; files: { path: string }[] }];
    const shipped = files.map((f) => f.path);
    expect(shipped).toEqual(expect.arrayContaining(['dist/cli/main.js', 'schema/target.schema.json', 'suites/pop3/rset.yaml']));
    expect(shipped.some((p) => p.startsWith('src/') || p.startsWith('test/'))).toBe(false);

    const installed = await installOffline(join(dir, filename), prefix, npmOptions);
    expect(installed.code, show(installed)).toBe(0);
    const bin = join(prefix, 'node_modules', '.bin', 'mailprobe');

    const version = await exec(bin, ['--version'], { cwd: elsewhere });
    const { version: shippedVersion } = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(version.code, show(version)).toBe(0);
    expect(version.stdout.trim()).toBe(shippedVersion);

    // validate from another folder: the shipped suites by default, then a user's folder holding a target file.
    const shippedValid = await exec(bin, ['validate'], { cwd: elsewhere });
    expect(shippedValid.code, show(shippedValid)).toBe(0);
    const started = await startFakeHostWithTarget({ accounts: { alice: { password: 'alice-Install-pw', address: 'alice@fake.test' } } });
    host = started.host;
    const mine = join(elsewhere, 'checks');
    await mkdir(mine, { recursive: true });
    await copyFile(join(REPO_ROOT, 'suites', 'pop3', 'rset.yaml'), join(mine, 'rset.yaml'));
    await copyFile(started.targetFile, join(mine, 'staging.yaml'));
    const valid = await exec(bin, ['validate', 'checks'], { cwd: elsewhere });
    expect(valid.code, show(valid)).toBe(0);
    expect(valid.stderr).toContain('1 scenario(s) and 1 target file(s) are valid');

    // A real run of a shipped scenario: the JUnit file attribute is the package-relative path it has in a
    // checkout (suites/pop3/rset.yaml), not a climb out of the user's folder into the install prefix.
    const secrets = join(elsewhere, 'ci.secrets');
    await writeFile(
      secrets,
      Object.entries(started.env)
        .map(([k, v]) => `${k}=${v}\n`)
        .join(''),
    );
    const ran = await exec(
      bin,
      ['run', '--target', started.targetFile, '--grep', '^pop3/rset$', '--secrets-file', 'ci.secrets', '--reporter', 'junit=out/junit.xml', '--quiet'],
      {
        cwd: elsewhere,
      },
    );
    expect(ran.code, show(ran)).toBe(0);
    const xml = await readFile(join(elsewhere, 'out', 'junit.xml'), 'utf8');
    expect(xml).toMatch(/<testcase [^>]*file="suites\/pop3\/rset\.yaml"/);
    expect(xml).not.toContain('..');
    expect(xml).not.toContain(prefix);

    // The old option name cannot be kept as an alias: Node itself reads --env-file wherever it stands, even
    // after the script of an installed bin, and exits 9 before mailprobe runs. The documented name is --secrets-file.
    const eaten = await exec(bin, ['run', '--env-file', join(dir, 'no-such.env')], { cwd: elsewhere });
    expect(eaten.code, show(eaten)).toBe(9);
    expect(eaten.stderr).toMatch(/^node: /m);
  }, 300_000);
});
