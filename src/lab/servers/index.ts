import { LabError } from '../errors.js';
import { labLayout } from '../paths.js';
import { courier } from './courier.js';
import { cyrus } from './cyrus.js';
import { dovecot } from './dovecot.js';
import { SERVER_NAMES, type LabServer, type ServerName } from './types.js';

export type { LabServer, ServerName, ServerPorts } from './types.js';
export { SERVER_NAMES } from './types.js';

/** The servers the lab can run; a new server is one more module here. */
const AVAILABLE: Partial<Record<ServerName, LabServer>> = { dovecot, cyrus, courier };

export function serverModule(name: ServerName): LabServer {
  const server = AVAILABLE[name];
  if (!server) throw new LabError('ELAB_USAGE', `${name} is not available in the lab yet`);
  return server;
}

/** Names the lab can start today, for help and error messages. */
export function availableServers(): ServerName[] {
  return SERVER_NAMES.filter((n) => AVAILABLE[n] !== undefined);
}

/**
 * `--servers dovecot,cyrus` -> the modules, Dovecot first. Dovecot always runs:
 * target.yaml (the default target of `mailprobe run`) and the lab's Postfix
 * are its, so "cyrus" alone means Dovecot and Cyrus. Unknown names and names
 * not available yet are a usage error.
 */
export function parseServerList(text: string): ServerName[] {
  const names = text
    .split(',')
    .map((n) => n.trim().toLowerCase())
    .filter((n) => n !== '');
  if (names.length === 0) throw new LabError('ELAB_USAGE', `--servers needs at least one name (known: ${SERVER_NAMES.join(', ')})`);
  const out: ServerName[] = ['dovecot'];
  for (const name of names) {
    if (!(SERVER_NAMES as readonly string[]).includes(name)) {
      throw new LabError('ELAB_USAGE', `unknown server "${name}" in --servers (known: ${SERVER_NAMES.join(', ')})`);
    }
    if (AVAILABLE[name as ServerName] === undefined) {
      throw new LabError('ELAB_USAGE', `server "${name}" is not available yet (available: ${availableServers().join(', ')})`);
    }
    if (!out.includes(name as ServerName)) out.push(name as ServerName);
  }
  return SERVER_NAMES.filter((n) => out.includes(n));
}

/** Where the lab in STATEDIR writes NAME's target file (target.yaml for Dovecot, target-<name>.yaml for the others). */
export function labTargetFile(stateDir: string, name: ServerName): string {
  return serverModule(name).targetFile(labLayout(stateDir));
}
