import { access, chmod, constants, unlink, writeFile } from 'node:fs/promises';
import { LabError } from './errors.js';
import { run, runToFile } from './exec.js';
import { withLogTails } from './logs.js';

/** What the lab needs from Debian. Postfix delivers into the Maildirs itself (virtual(8)), so no Dovecot LMTP. */
export const LAB_PACKAGES = ['dovecot-core', 'dovecot-imapd', 'dovecot-pop3d', 'postfix'] as const;

const POLICY_RC_D = '/usr/sbin/policy-rc.d';

/** The exact command a non-root user is told to run. */
export function installCommandLine(packages: readonly string[]): string {
  return "sudo sh -c 'apt-get update && DEBIAN_FRONTEND=noninteractive " + `apt-get install -y --no-install-recommends ${packages.join(' ')}'`;
}

export async function missingPackages(packages: readonly string[] = LAB_PACKAGES): Promise<string[]> {
  const missing: string[] = [];
  for (const pkg of packages) {
    let installed = false;
    try {
      const res = await run('dpkg-query', ['-W', '-f=${Status}', pkg]);
      installed = res.code === 0 && res.stdout.trim().endsWith(' installed');
    } catch {
      // No dpkg-query at all: not a Debian system, treat everything as missing.
      installed = false;
    }
    if (!installed) missing.push(pkg);
  }
  return missing;
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path, constants.F_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Install whatever lab package is missing, without letting the package
 * scripts start the system Dovecot/Postfix on all interfaces (LAB-NOTES 1):
 * policy-rc.d answers 101 ("action forbidden") for the duration, and Postfix is
 * preseeded to "No configuration" so the system instance stays inert.
 * Returns the packages it installed (empty when nothing was missing).
 */
export async function ensurePackages(logFile: string, log: (line: string) => void = () => {}, packages: readonly string[] = LAB_PACKAGES): Promise<string[]> {
  const missing = await missingPackages(packages);
  if (missing.length === 0) return [];
  if (!isRoot()) {
    throw new LabError(
      'ELAB_PACKAGES_MISSING',
      `The mailprobe lab needs these Debian packages, which are not installed: ${missing.join(', ')}.\n` +
        `Install them with:\n  ${installCommandLine(missing)}\n` +
        'or run "mailprobe lab up" as root, which installs them without starting any system service.',
    );
  }

  const createdPolicy = !(await exists(POLICY_RC_D));
  if (createdPolicy) {
    await writeFile(POLICY_RC_D, '#!/bin/sh\n# written by mailprobe lab install; removed when it ends\nexit 101\n');
    await chmod(POLICY_RC_D, 0o755);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive', DEBCONF_NONINTERACTIVE_SEEN: 'true' };
  try {
    log(`installing ${missing.join(' ')} (policy-rc.d blocks service starts)`);
    const preseed = await run('debconf-set-selections', [], {
      env,
      input: 'postfix postfix/main_mailer_type select No configuration\npostfix postfix/mailname string lab.test\n',
    });
    if (preseed.code !== 0) {
      throw new LabError('ELAB_INSTALL', `debconf-set-selections failed: ${preseed.stderr.trim()}`);
    }
    const update = await runToFile('apt-get', ['update'], logFile, { env });
    if (update !== 0) {
      throw new LabError('ELAB_INSTALL', await withLogTails(`apt-get update exited with ${update}`, [logFile]));
    }
    const install = await runToFile('apt-get', ['install', '-y', '--no-install-recommends', '-o', 'Dpkg::Options::=--force-confold', ...missing], logFile, {
      env,
    });
    if (install !== 0) {
      throw new LabError('ELAB_INSTALL', await withLogTails(`apt-get install ${missing.join(' ')} exited with ${install}`, [logFile]));
    }
  } finally {
    if (createdPolicy) await unlink(POLICY_RC_D).catch(() => {});
  }
  const still = await missingPackages(packages);
  if (still.length > 0) {
    throw new LabError('ELAB_INSTALL', await withLogTails(`still missing after install: ${still.join(', ')}`, [logFile]));
  }
  return missing;
}
