import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';

/** One child process to time: argv[0] is the program. */
export interface Command {
  readonly argv: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
}

export interface Timed {
  readonly ms: number;
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** CPU ms spent meanwhile, as the interleave's counter counts it (when it was given one). */
  readonly cpuMs?: number;
}

/** Runs COMMAND to its end and returns its wall time, from spawn to exit (stdio read to the end). */
export function timeCommand(command: Command): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command.argv[0]!, command.argv.slice(1), {
      cwd: command.cwd,
      env: { ...process.env, NO_COLOR: '1', ...command.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.once('error', reject);
    child.once('close', (code) => resolve({ ms: performance.now() - started, code, stdout, stderr }));
  });
}

export interface Pairs {
  readonly subject: Timed[];
  readonly reference: Timed[];
}

/**
 * Runs SUBJECT and REFERENCE `reps` times each, interleaved (A B A B …), so that a noisy neighbour slows both
 * alike. `check` sees every run and throws when one did not do its work (a wrong exit code, a missing line).
 */
export async function interleave(
  subject: Command,
  reference: Command,
  reps: number,
  check: (run: Timed, which: 'subject' | 'reference') => void,
  /** A cumulative CPU counter (ms) read around each run, whose growth becomes the run's cpuMs. */
  cpuCounter?: () => Promise<number>,
): Promise<Pairs> {
  const pairs: Pairs = { subject: [], reference: [] };
  const timed = async (command: Command): Promise<Timed> => {
    if (cpuCounter === undefined) return timeCommand(command);
    const before = await cpuCounter();
    const run = await timeCommand(command);
    return { ...run, cpuMs: (await cpuCounter()) - before };
  };
  for (let i = 0; i < reps; i++) {
    const a = await timed(subject);
    check(a, 'subject');
    pairs.subject.push(a);
    const b = await timed(reference);
    check(b, 'reference');
    pairs.reference.push(b);
  }
  return pairs;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export function spread(values: readonly number[]): Spread {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}
