import { readdir, readFile, readlink } from 'node:fs/promises';
import { endianness } from 'node:os';

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
  /** Dotted IPv4 (also for v4-mapped IPv6), '::' for the IPv6 wildcard, else the raw hex. */
  address: string;
  port: number;
  inode: string;
}

/**
 * /proc/net/tcp{,6} print addresses as 32-bit words in host byte order:
 * 127.0.0.2 is "0200007F" on little-endian machines.
 */
export function decodeProcAddress(hex: string): string {
  const words = hex.match(/.{8}/g) ?? [];
  const bytes = Buffer.from(
    words
      .map((w) => {
        const b = Buffer.from(w, 'hex');
        return endianness() === 'LE' ? b.reverse() : b;
      })
      .flatMap((b) => [...b]),
  );
  if (bytes.length === 4) return [...bytes].join('.');
  if (bytes.length === 16) {
    if (bytes.every((b) => b === 0)) return '::';
    if (bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
      return [...bytes.subarray(12)].join('.');
    }
  }
  return hex;
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
      const [addr, portHex] = (cols[1] ?? '').split(':');
      const port = Number.parseInt(portHex ?? '', 16);
      if (Number.isInteger(port)) out.push({ address: decodeProcAddress(addr ?? ''), port, inode: cols[9] ?? '' });
    }
  }
  return out;
}

/** Does a listening socket take connections for host:port (bound to it, or to a wildcard)? */
function serves(s: ListenSocket, want: { host: string; port: number }): boolean {
  return s.port === want.port && (s.address === want.host || s.address === '0.0.0.0' || s.address === '::');
}

/**
 * Which of these host:port pairs have a listening socket, by the kernel's
 * table, not by connecting. Returns "host:port" keys. The address matters:
 * the lab uses both 127.0.0.1 and 127.0.0.2, and the same port number may be
 * someone else's on the other address.
 */
export async function listeningSockets(wanted: ReadonlyArray<{ host: string; port: number }>): Promise<Set<string>> {
  const sockets = await listenSockets();
  const found = new Set<string>();
  for (const w of wanted) if (sockets.some((s) => serves(s, w))) found.add(`${w.host}:${w.port}`);
  return found;
}

/** PIDs that hold a listening socket on any of these host:port pairs. */
export async function listenerPids(wanted: ReadonlyArray<{ host: string; port: number }>): Promise<number[]> {
  const inodes = new Set((await listenSockets()).filter((s) => wanted.some((w) => serves(s, w))).map((s) => s.inode));
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

/** `pid` when it is alive and `isOurs` says it is this lab's process; null otherwise (a recycled or stale PID). */
export async function livePid(pid: number | null | undefined, isOurs: (pid: number) => Promise<boolean>): Promise<number | null> {
  if (pid === null || pid === undefined || !(await isAlive(pid))) return null;
  return (await isOurs(pid)) ? pid : null;
}

/** Polls a PID file until it names a live process of this lab, for at most `ms`; null when none came. */
export async function waitForPidFile(file: string, isOurs: (pid: number) => Promise<boolean>, ms = 5_000): Promise<number | null> {
  const deadline = Date.now() + ms;
  for (;;) {
    const pid = await livePid(await readPidFile(file), isOurs);
    if (pid !== null || Date.now() > deadline) return pid;
    await sleep(50);
  }
}
