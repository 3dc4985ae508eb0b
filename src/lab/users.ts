import { LabError } from './errors.js';
import { run } from './exec.js';
import { isRoot } from './install.js';

export const MAIL_USER = 'vmail';

export interface SystemUser {
  name: string;
  uid: number;
  gid: number;
}

export async function lookupUser(name: string): Promise<SystemUser | null> {
  const res = await run('getent', ['passwd', name]).catch(() => null);
  if (res?.code !== 0) return null;
  const cols = res.stdout.trim().split(':');
  const uid = Number(cols[2]);
  const gid = Number(cols[3]);
  return Number.isInteger(uid) && Number.isInteger(gid) ? { name, uid, gid } : null;
}

/**
 * Mail is stored as a dedicated system user, never as dovecot (Dovecot's
 * internal user) or root. Created on first use; Dovecot's first_valid_uid is
 * lowered to its uid in the config (LAB-NOTES 4).
 */
export async function ensureMailUser(): Promise<SystemUser> {
  const existing = await lookupUser(MAIL_USER);
  if (existing) return existing;
  if (!isRoot()) {
    throw new LabError('ELAB_NOT_ROOT', `system user "${MAIL_USER}" is missing; run "mailprobe lab up" as root once to create it`);
  }
  const res = await run('useradd', [
    '--system',
    '--user-group',
    '--no-create-home',
    '--home-dir',
    '/nonexistent',
    '--shell',
    '/usr/sbin/nologin',
    '--comment',
    'mailprobe lab mail storage',
    MAIL_USER,
  ]);
  const created = await lookupUser(MAIL_USER);
  if (!created) throw new LabError('ELAB_START', `could not create system user ${MAIL_USER}: ${res.stderr.trim()}`);
  return created;
}

/** Daemon accounts the packages create; their absence means a broken install. */
export async function requireUser(name: string): Promise<SystemUser> {
  const user = await lookupUser(name);
  if (!user) throw new LabError('ELAB_START', `system user "${name}" is missing; reinstall the lab packages`);
  return user;
}
