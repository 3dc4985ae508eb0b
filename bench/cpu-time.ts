/**
 * CPU time of a run, client and servers together, read from the kernel's own counts (/proc/PID/stat), for the
 * concurrency row's floor: a run that keeps the client and the lab's servers busy for C seconds of CPU cannot end
 * in less than C / cores seconds however many scenarios it overlaps, and on this kind of machine client and servers
 * share the same few cores.
 *
 * A process's CPU is its own utime+stime plus cutime+cstime, the CPU of the children it has reaped (Dovecot's master
 * reaps its per-connection imap and pop3 processes, Postfix's master its smtpd and cleanup). Summed over a server's
 * living process tree, the total only grows, whichever processes end in between, so two readings bracket a run.
 */
import { readdir, readFile } from 'node:fs/promises';
import { cpus } from 'node:os';

/** USER_HZ: Linux reports /proc times in clock ticks of 1/100 s on every architecture it runs Node on. */
const TICK_MS = 10;

interface ProcStat {
  readonly pid: number;
  readonly ppid: number;
  /** utime + stime + cutime + cstime, in ms. */
  readonly cpuMs: number;
}

/** Fields after the command name, which is in parentheses and may hold spaces (proc(5)). */
function parseStat(pid: number, text: string): ProcStat | undefined {
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state): ppid is field 4, utime..cstime are fields 14..17.
  const ppid = Number(rest[1]);
  const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(rest[i]), 0);
  return Number.isFinite(ppid) && Number.isFinite(ticks) ? { pid, ppid, cpuMs: ticks * TICK_MS } : undefined;
}

async function allProcesses(): Promise<ProcStat[]> {
  const out: ProcStat[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    // A process may end between the listing and the read: it is then in its parent's cutime, or gone with its tree.
    const text = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => undefined);
    const stat = text === undefined ? undefined : parseStat(Number(name), text);
    if (stat !== undefined) out.push(stat);
  }
  return out;
}

/** CPU ms so far of the process trees rooted at ROOTS (each root and every living descendant). */
export async function treeCpuMs(roots: readonly number[]): Promise<number> {
  const procs = await allProcesses();
  const children = new Map<number, ProcStat[]>();
  for (const p of procs) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const seen = new Set<number>();
  let total = 0;
  const walk = (p: ProcStat) => {
    if (seen.has(p.pid)) return;
    seen.add(p.pid);
    total += p.cpuMs;
    for (const c of children.get(p.pid) ?? []) walk(c);
  };
  for (const root of roots) {
    const p = procs.find((q) => q.pid === root);
    if (p !== undefined) walk(p);
  }
  return total;
}

/** The CPU ms this process's reaped children used so far: the timed mailprobe runs, once each has exited. */
export async function reapedChildrenCpuMs(): Promise<number> {
  const text = await readFile('/proc/self/stat', 'utf8');
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[13]) + Number(rest[14])) * TICK_MS;
}

export const CORES = cpus().length;
