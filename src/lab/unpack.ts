import { existsSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LabError } from './errors.js';
import { run } from './exec.js';
import { isRoot } from './install.js';
import { makeFolders } from '../transport/private-files.js';

/**
 * Debian packages that conflict with the lab's Dovecot (cyrus-imapd and
 * cyrus-pop3d conflict with dovecot-imapd/dovecot-pop3d: apt would remove
 * Dovecot) are never installed. They are fetched with `apt-get download` at
 * the version of their installed companion package (cyrus-common carries the
 * libraries their binaries link against) and unpacked with `dpkg-deb -x` into
 * a private root under the lab's state dir. No maintainer script runs, so
 * nothing is started or registered. A package built from the same source may
 * carry its own version (courier-imap 5.0.13+1.0.16-3+b6 beside courier-base
 * 1.0.16-3+b6): then the one whose Depends pins the companion's installed
 * version is taken. The .deb files stay in `cacheDir`, so a
 * second `lab up` downloads nothing.
 */
export interface UnpackRequest {
  /** Packages to fetch and unpack. */
  packages: readonly string[];
  /** Installed package whose version they must have. */
  versionOf: string;
  cacheDir: string;
  rootDir: string;
}

const MARKER = '.mailprobe-unpacked';

async function installedVersion(pkg: string): Promise<string> {
  const res = await run('dpkg-query', ['-W', '-f=${Version}', pkg]).catch(() => null);
  const version = res?.code === 0 ? res.stdout.trim() : '';
  if (version === '') throw new LabError('ELAB_INSTALL', `${pkg} is not installed, so the version to download is unknown`);
  return version;
}

async function debVersion(file: string): Promise<string> {
  return debField(file, 'Version');
}

async function debField(file: string, field: string): Promise<string> {
  const res = await run('dpkg-deb', ['-f', file, field]).catch(() => null);
  return res?.code === 0 ? res.stdout.trim() : '';
}

/** Is this .deb built for the installed companion: the same version, or a Depends pinned to it? */
export function pinsCompanion(debVersionText: string, depends: string, companion: string, version: string): boolean {
  if (debVersionText === version) return true;
  return depends.split(',').some((d) => d.trim() === `${companion} (= ${version})`);
}

/** A cached .deb of `pkg` for the companion at `version`, if there is one. */
async function cachedDeb(cacheDir: string, pkg: string, companion: string, version: string): Promise<string | null> {
  const names = existsSync(cacheDir) ? await readdir(cacheDir) : [];
  for (const name of names.filter((n) => n.startsWith(`${pkg}_`) && n.endsWith('.deb'))) {
    const file = join(cacheDir, name);
    if (pinsCompanion(await debVersion(file), await debField(file, 'Depends'), companion, version)) return file;
  }
  return null;
}

async function download(
  cacheDir: string,
  spec: string,
  log: (line: string) => void,
  why = "not installed: it conflicts with Dovecot's packages",
): Promise<{ code: number | null; stderr: string }> {
  log(`downloading ${spec} (${why})`);
  // Run as root without apt's _apt sandbox user, who cannot write the lab's state dir.
  const res = await run('apt-get', ['-o', 'APT::Sandbox::User=root', 'download', spec], { cwd: cacheDir, timeoutMs: 300_000 });
  return { code: res.code, stderr: res.stderr.trim() };
}

/** Fetch (or reuse) and unpack; returns the packages it downloaded. */
export async function ensureUnpacked(req: UnpackRequest, log: (line: string) => void = () => {}): Promise<string[]> {
  const version = await installedVersion(req.versionOf);
  const want = req.packages.map((p) => `${p}=${version}`).join(' ');
  if (existsSync(join(req.rootDir, MARKER)) && (await readFile(join(req.rootDir, MARKER), 'utf8')).trim() === want) return [];
  if (!isRoot()) throw new LabError('ELAB_NOT_ROOT', `unpacking ${req.packages.join(', ')} needs root: run "mailprobe lab up" as root`);

  await makeFolders(req.cacheDir, 0o755);
  const downloaded: string[] = [];
  const debs: string[] = [];
  for (const pkg of req.packages) {
    let deb = await cachedDeb(req.cacheDir, pkg, req.versionOf, version);
    if (deb === null) {
      // At the companion's version, or else apt's candidate (checked below to pin that version).
      const attempt = async () => {
        const exact = await download(req.cacheDir, `${pkg}=${version}`, log);
        return exact.code === 0
          ? exact
          : download(req.cacheDir, pkg, log, `no ${pkg}=${version}: apt's candidate, if it is built for ${req.versionOf} ${version}`);
      };
      let res = await attempt();
      if (res.code !== 0) {
        // A machine that installed everything long ago may have no package lists left.
        await run('apt-get', ['update'], { timeoutMs: 300_000 });
        res = await attempt();
      }
      deb = await cachedDeb(req.cacheDir, pkg, req.versionOf, version);
      if (res.code !== 0 || deb === null) {
        const why = res.code !== 0 ? `failed (exit ${res.code}): ${res.stderr}` : `gave no package built for ${req.versionOf} ${version}`;
        throw new LabError('ELAB_INSTALL', `apt-get download ${pkg}=${version} ${why}`);
      }
      downloaded.push(pkg);
    }
    debs.push(deb);
  }

  await rm(req.rootDir, { recursive: true, force: true });
  await makeFolders(req.rootDir, 0o755);
  for (const deb of debs) {
    const res = await run('dpkg-deb', ['-x', deb, req.rootDir]);
    if (res.code !== 0) throw new LabError('ELAB_INSTALL', `dpkg-deb -x ${deb} failed: ${res.stderr.trim()}`);
  }
  await writeFile(join(req.rootDir, MARKER), `${want}\n`, { mode: 0o644 });
  return downloaded;
}
