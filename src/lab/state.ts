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
  /**
   * Servers started beside Dovecot (`lab up --servers`), by name: their ports
   * and their PIDs by role. Dovecot's stay in the fields above.
   */
  servers: Record<string, ServerRecord>;
}

export interface ServerRecord {
  ports: Record<string, number>;
  pids: Record<string, number | null>;
}

function serverRecords(value: unknown): Record<string, ServerRecord> {
  const out: Record<string, ServerRecord> = {};
  if (typeof value !== 'object' || value === null) return out;
  for (const [name, raw] of Object.entries(value as Record<string, unknown>)) {
    if (typeof raw !== 'object' || raw === null) continue;
    const r = raw as { ports?: unknown; pids?: unknown };
    if (typeof r.ports !== 'object' || r.ports === null) continue;
    const ports = Object.fromEntries(Object.entries(r.ports as Record<string, unknown>).filter((e): e is [string, number] => typeof e[1] === 'number'));
    const pids = Object.fromEntries(
      Object.entries(typeof r.pids === 'object' && r.pids !== null ? (r.pids as Record<string, unknown>) : {}).map(([k, v]) => [
        k,
        typeof v === 'number' && Number.isInteger(v) && v > 1 ? v : null,
      ]),
    );
    out[name] = { ports, pids };
  }
  return out;
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
    servers: serverRecords(s.servers),
  };
}

export async function writeState(file: string, state: LabState): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, JSON.stringify(state, null, 2) + '\n', { mode: 0o644 });
  await rename(tmp, file);
}
