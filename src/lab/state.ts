import { readFile, rename, writeFile } from 'node:fs/promises';
import { ENDPOINTS, type LabPorts } from './ports.js';

/**
 * What a running lab needs to be found again by a later `up`, `status` or
 * `down`, possibly from another process: its ports and its master PIDs.
 * Contains no secrets.
 */
export interface LabState {
  version: 1;
  instance: string;
  ports: LabPorts;
  dovecotPid: number | null;
  postfixPid: number | null;
  startedAt: string;
}

export async function readState(file: string): Promise<LabState | null> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const s = parsed as Partial<LabState>;
  if (s.version !== 1 || typeof s.instance !== 'string' || typeof s.ports !== 'object' || s.ports === null) return null;
  const ports = s.ports as Partial<Record<string, unknown>>;
  if (!ENDPOINTS.every((e) => typeof ports[e] === 'number')) return null;
  const pid = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) && v > 1 ? v : null);
  return {
    version: 1,
    instance: s.instance,
    ports: s.ports as LabPorts,
    dovecotPid: pid(s.dovecotPid),
    postfixPid: pid(s.postfixPid),
    startedAt: typeof s.startedAt === 'string' ? s.startedAt : '',
  };
}

export async function writeState(file: string, state: LabState): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, JSON.stringify(state, null, 2) + '\n', { mode: 0o644 });
  await rename(tmp, file);
}
