import { readdir, readFile, readlink } from 'node:fs/promises';

/**
 * Process inspection through /proc. `kill -0` succeeds on zombies, and the
 * daemonised masters are re-parented to a PID 1 that may never reap them, so
 * "alive" here means: the process exists and is not a zombie (LAB-NOTES 8).
 */
export async function processState(pid: number): Promise<string | null> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const m = /^State:\s+(\S)/m.exec(status);
    return m?.[1] ?? null;
  } catch {
    return null;
  }
}

export async function isAlive(pid: number): Promise<boolean> {
  const state = await processState(pid);
  return state !== null && state !== 'Z' && state !== 'X';
}

export async function commandLine(pid: number): Promise<string> {
  try {
    return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

/** One variable of a process's environment (root can read every process's). */
export async function environVar(pid: number, name: string): Promise<string | null> {
  try {
    const vars = (await readFile(`/proc/${pid}/environ`, 'utf8')).split('\0');
    const hit = vars.find((v) => v.startsWith(`${name}=`));
    return hit === undefined ? null : hit.slice(name.length + 1);
  } catch {
    return null;
  }
}

export async function readPidFile(path: string): Promise<number | null> {
  try {
    const pid = Number.parseInt((await readFile(path, 'utf8')).trim(), 10);
    return Number.isInteger(pid) && pid > 1 ? pid : null;
  } catch {
    return null;
  }
}

async function allPids(): Promise<number[]> {
  const entries = await readdir('/proc');
  return entries.filter((e) => /^\d+$/.test(e)).map(Number);
}

async function parentOf(pid: number): Promise<number | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may contain spaces: parse after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(rest[1]);
    return Number.isInteger(ppid) ? ppid : null;
  } catch {
    return null;
  }
}

/** Every descendant of the given roots (not the roots themselves). */
export async function descendants(roots: readonly number[]): Promise<number[]> {
  const children = new Map<number, number[]>();
  for (const pid of await allPids()) {
    const ppid = await parentOf(pid);
    if (ppid === null) continue;
    const list = children.get(ppid) ?? [];
    list.push(pid);
    children.set(ppid, list);
  }
  const out: number[] = [];
  const queue = [...roots];
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    for (const child of children.get(pid) ?? []) {
      if (!out.includes(child) && !roots.includes(child)) {
        out.push(child);
        queue.push(child);
      }
    }
  }
  return out;
}

interface ListenSocket {
  port: number;
  inode: string;
}

async function listenSockets(): Promise<ListenSocket[]> {
  const out: ListenSocket[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // cols: sl local_address rem_address st tx:rx tr:tm retrnsmt uid timeout inode
      if (cols.length < 10 || cols[3] !== '0A') continue; // 0A = LISTEN
      const port = Number.parseInt(cols[1]?.split(':')[1] ?? '', 16);
      if (Number.isInteger(port)) out.push({ port, inode: cols[9] ?? '' });
    }
  }
  return out;
}

/** Which of these TCP ports have a listening socket, by the kernel's table, not by connecting. */
export async function listeningPorts(ports: readonly number[]): Promise<Set<number>> {
  const wanted = new Set(ports);
  const found = new Set<number>();
  for (const s of await listenSockets()) if (wanted.has(s.port)) found.add(s.port);
  return found;
}

/** PIDs that hold a listening socket on any of these ports. */
export async function listenerPids(ports: readonly number[]): Promise<number[]> {
  const wanted = new Set(ports);
  const inodes = new Set((await listenSockets()).filter((s) => wanted.has(s.port)).map((s) => s.inode));
  if (inodes.size === 0) return [];
  const pids: number[] = [];
  for (const pid of await allPids()) {
    let fds: string[];
    try {
      fds = await readdir(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      const link = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
      const m = /^socket:\[(\d+)\]$/.exec(link);
      if (m && inodes.has(m[1] as string)) {
        pids.push(pid);
        break;
      }
    }
  }
  return pids;
}

export function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
