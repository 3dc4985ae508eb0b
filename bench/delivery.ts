/**
 * The delivery-lag rows (issue 12 §1): how long after a message lands in the account's Maildir does the wait step
 * see it. The arrival is taken from the file system itself: fs.watch (inotify on Linux) on every lab account's
 * Maildir/new, where Postfix's virtual(8) renames each delivered file, reading the file at once for its run header.
 * The sighting is the wait step's own transcript: the time of its last line before it ends its poll session (POP3
 * QUIT) or, for a wait on the scenario's session (IMAP), its last line. Both clocks are this machine's Date.now().
 */
import { closeSync, existsSync, type FSWatcher, openSync, readdirSync, readSync, watch } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { timeCommand, type Command, type Pairs, spread } from './measure.js';
import { rowFrom, type Row } from './rows.js';

/** Each row: one shipped scenario whose wait step is timed against the arrival of its message. */
const SCENARIOS = [
  { id: 'delivery:pop3', file: 'suites/pop3/retrieve-then-delete.yaml', action: 'pop3.wait-for' },
  { id: 'delivery:imap', file: 'suites/imap/folder-sync.yaml', action: 'imap.wait-for' },
] as const;
const GOAL_LAG_MS = 100;
const RUN_HEADER = /^x-mailprobe-run:\s*(\S+)/im;

/** The first 64 KiB of a file (its headers), or of the file in folder `dir` whose name starts with `prefix`. */
function readHead(path: string, prefix?: string): string | undefined {
  try {
    const file = prefix === undefined ? path : join(path, readdirSync(path).find((n) => n.startsWith(prefix)) ?? '');
    const fd = openSync(file, 'r');
    try {
      const buf = Buffer.alloc(65536);
      return buf.toString('latin1', 0, readSync(fd, buf, 0, buf.length, 0));
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

interface Arrival {
  readonly at: number;
  readonly runId: string;
}

/** Watches every account's Maildir/new under `<lab state>/mail` and notes when each file carrying a run header came. */
async function watchArrivals(labDir: string): Promise<{ arrivals: Arrival[]; close(): void }> {
  const mailRoot = join(labDir, 'mail');
  const arrivals: Arrival[] = [];
  const watchers: FSWatcher[] = [];
  for (const user of await readdir(mailRoot)) {
    const maildir = join(mailRoot, user, 'Maildir');
    const newDir = join(maildir, 'new');
    // Only Dovecot's accounts have mail/<user>/Maildir: Cyrus and Courier keep their own folders there too.
    if (!existsSync(newDir)) continue;
    watchers.push(
      watch(newDir, (_event, name) => {
        const at = Date.now();
        if (name === null) return;
        // Read at once and synchronously (a small file, well under a millisecond): a POP3 session may move it to
        // cur/ and delete it within tens of milliseconds. Missed here, it is looked for in cur/ under its new name.
        const text = readHead(join(newDir, name)) ?? readHead(join(maildir, 'cur'), name);
        const run = text === undefined ? undefined : RUN_HEADER.exec(text)?.[1];
        if (run !== undefined && !arrivals.some((a) => a.runId === run)) arrivals.push({ at, runId: run });
      }),
    );
  }
  return { arrivals, close: () => watchers.forEach((w) => w.close()) };
}

interface ReportLine {
  readonly at: number;
  readonly direction: string;
  readonly text: string;
}
interface Report {
  readonly runId: string;
  readonly scenarios: Array<{ state: string; steps: Array<{ action: string; transcript?: ReportLine[] }>; properties?: Record<string, string> }>;
}

/** When the wait step knew: the last line before the QUIT that ends its successful poll, or its last line. */
function seenAt(lines: readonly ReportLine[]): number {
  const quit = lines.findLastIndex((l) => l.direction === 'client' && /^QUIT\b/i.test(l.text));
  const last = quit > 0 ? lines[quit - 1] : lines.at(-1);
  if (last === undefined) throw new Error('the wait step has no transcript');
  return last.at;
}

export async function deliveryRows(reps: number, labDir: string, target: string, secretsFile: string, cli: string, scratch: string): Promise<Row[]> {
  const watcher = await watchArrivals(labDir);
  try {
    const pairs = new Map<string, Pairs>(SCENARIOS.map((s) => [s.id, { subject: [], reference: [] }]));
    const timed = (ms: number) => ({ ms, code: 0, stdout: '', stderr: '' });
    // Interleaved (POP3, IMAP, POP3, …), so that a noisy neighbour weighs on both rows alike.
    for (let i = 0; i < reps; i++) {
      for (const scenario of SCENARIOS) {
        const report = join(scratch, `delivery-${scenario.id.replace(':', '-')}.json`);
        const command: Command = {
          argv: [process.execPath, cli, 'run', '--target', target, '--secrets-file', secretsFile, scenario.file, '--quiet', '--reporter', `json=${report}`, '--out-dir', join(scratch, 'messages')],
        };
        const run = await timeCommand(command);
        if (run.code !== 0) throw new Error(`${scenario.file} exited ${run.code}:\n${run.stderr.slice(-2000)}`);
        const json = JSON.parse(await readFile(report, 'utf8')) as Report;
        const steps = json.scenarios[0]?.steps ?? [];
        const send = steps.find((s) => s.action === 'smtp.send');
        const wait = steps.find((s) => s.action === scenario.action);
        if (send?.transcript === undefined || wait?.transcript === undefined) throw new Error(`${scenario.file}: no smtp.send or ${scenario.action} step in the report`);
        const arrival = watcher.arrivals.find((a) => a.runId === json.runId);
        if (arrival === undefined) throw new Error(`${scenario.file}: no file with run ${json.runId} appeared in ${labDir}/mail/*/Maildir/new`);
        // Both sides count from the server's 250 to the message's DATA (the send step's last 250 reply).
        const sent = send.transcript.findLast((l) => l.direction === 'server' && /^250 /.test(l.text))?.at;
        if (sent === undefined) throw new Error(`${scenario.file}: the send step has no 250 reply`);
        const p = pairs.get(scenario.id)!;
        p.subject.push(timed(seenAt(wait.transcript) - sent));
        p.reference.push(timed(arrival.at - sent));
      }
    }
    return SCENARIOS.map((s) => {
      const p = pairs.get(s.id)!;
      const lag = spread(p.subject.map((x, i) => x.ms - p.reference[i]!.ms));
      return rowFrom(
        {
          id: s.id,
          measure: `delivery seen by ${s.action} (${s.file.replace(/^suites\/|\.yaml$/g, '')})`,
          // The arrival is a few ms after the 250 (sometimes seen before the client has the 250): a ratio
          // against it says nothing, so the row's figure is the lag against the lag the goal allows.
          reference: `arrival in Maildir/new (inotify); ratio = lag / ${GOAL_LAG_MS} ms`,
          work: {
            subject: `lag after arrival ${lag.median.toFixed(0)} ms median (${lag.min.toFixed(0)}–${lag.max.toFixed(0)} ms), both from the 250 to DATA`,
            reference: 'fs.watch event of the file carrying the run header',
          },
        },
        p,
        () => ({ maxRatio: 1, text: `≤ 1× (a lag of ≤ ${GOAL_LAG_MS} ms)` }),
        (seen, arrival) => (seen - arrival) / GOAL_LAG_MS,
      );
    });
  } finally {
    watcher.close();
  }
}
