/**
 * The big-mailbox row (issue 12 §1): each shipped scenario on an account that already holds 50,000 messages in INBOX
 * and 2,000 folders, against the same scenario on an empty account. Two private labs, identical but for the seeding
 * (written straight into the primary account's Maildir by src/lab/seed-mailbox.ts, with correct S= sizes), so that
 * both sides run the very same scenarios with the same accounts; runs alternate between them. Each scenario's time
 * is its own durationMs from the JSON report, so a lab's start and the CLI's start weigh on neither side.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labDown, labUp, type LabInfo } from '../dist/lab/index.js';
import { seedMaildir } from '../dist/lab/seed-mailbox.js';
import { lookupUser, MAIL_USER } from '../dist/lab/users.js';
import { median, spread, timeCommand } from './measure.js';
import { serverFloor, type FloorTimes } from './server-floor.js';
import type { Row } from './rows.js';

export interface ScaleOptions {
  readonly reps: number;
  readonly messages: number;
  readonly folders: number;
  /** Scenario files or folders to run; the whole suite unless the quick mode narrows it. */
  readonly suites: readonly string[];
  readonly cli: string;
  readonly scratch: string;
  readonly say: (line: string) => void;
  /** Registers an undo that must run at the end or on Ctrl-C. */
  readonly onCleanup: (undo: () => Promise<void>) => void;
}

const GOAL = 1.2;
/** Sessions timed per account for the server's floor: each is one login, a few milliseconds to a few hundred. */
const FLOOR_REPS = 5;

interface Report {
  readonly scenarios: Array<{ id: string; state: string; durationMs: number }>;
}

async function privateLab(name: string, options: ScaleOptions): Promise<{ lab: LabInfo; stateDir: string }> {
  const stateDir = await mkdtemp(join(tmpdir(), `mailprobe-bench-${name}-`));
  options.onCleanup(async () => {
    await labDown({ stateDir });
    await rm(stateDir, { recursive: true, force: true });
  });
  const lab = await labUp({ stateDir, log: () => {} });
  return { lab, stateDir };
}

export async function scaleRow(options: ScaleOptions): Promise<Row> {
  const empty = await privateLab('empty', options);
  const seeded = await privateLab('seeded', options);
  const user = seeded.lab.accounts.find((a) => a.role === 'primary')?.user ?? 'alice';
  options.say(`seeding ${options.messages} messages and ${options.folders} folders into ${user}'s Maildir`);
  const owner = await lookupUser(MAIL_USER);
  await seedMaildir({ maildir: join(seeded.stateDir, 'mail', user, 'Maildir'), messages: options.messages, folders: options.folders, ...(owner ? { owner } : {}) });

  const durations = { seeded: new Map<string, number[]>(), empty: new Map<string, number[]>() };
  let wall = { seeded: [] as number[], empty: [] as number[] };
  const runOn = async (side: 'seeded' | 'empty', lab: LabInfo) => {
    const report = join(options.scratch, `scale-${side}.json`);
    const run = await timeCommand({
      argv: [process.execPath, options.cli, 'run', '--target', lab.targetFile, '--secrets-file', lab.envFile, ...options.suites, '--quiet', '--reporter', `json=${report}`, '--out-dir', join(options.scratch, 'messages')],
    });
    if (run.code === null || ![0, 1, 4].includes(run.code)) throw new Error(`run on the ${side} account exited ${run.code}:\n${run.stderr.slice(-2000)}`);
    const json = JSON.parse(await readFile(report, 'utf8')) as Report;
    for (const s of json.scenarios) {
      if (s.state === 'skipped') continue;
      const list = durations[side].get(s.id) ?? [];
      list.push(s.durationMs);
      durations[side].set(s.id, list);
    }
    wall = { ...wall, [side]: [...wall[side], json.scenarios.reduce((sum, s) => sum + s.durationMs, 0)] };
  };
  for (let i = 0; i < options.reps; i++) {
    await runOn('seeded', seeded.lab);
    await runOn('empty', empty.lab);
  }

  // The server's own cost of a session on each account, alternating too: what no client can save.
  const floors = { seeded: [] as FloorTimes[], empty: [] as FloorTimes[] };
  for (let i = 0; i < FLOOR_REPS; i++) {
    floors.seeded.push(await serverFloor(seeded.lab.targetFile, seeded.lab.envFile));
    floors.empty.push(await serverFloor(empty.lab.targetFile, empty.lab.envFile));
  }
  const floorOf = (key: keyof FloorTimes) => {
    const [s, e] = [median(floors.seeded.map((f) => f[key])), median(floors.empty.map((f) => f[key]))];
    return `${s.toFixed(0)} ms against ${e.toFixed(0)} ms (${(s / Math.max(1, e)).toFixed(2)}×)`;
  };
  const floor = `the server alone (no harness, median of ${FLOOR_REPS}): a POP3 USER/PASS/STAT/QUIT session ${floorOf('pop3Ms')}, an IMAP LOGIN/SELECT INBOX/LOGOUT session ${floorOf('imapMs')}`;

  // One ratio per scenario (median seeded / median empty): the row's figure is their median, its spread the best and worst scenario.
  const ratios = [...durations.seeded]
    .filter(([id]) => durations.empty.has(id))
    .map(([id, ms]) => ({ id, ratio: median(ms) / Math.max(1, median(durations.empty.get(id)!)) }))
    .sort((a, b) => b.ratio - a.ratio);
  if (ratios.length === 0) throw new Error('no scenario ran on both accounts');
  const ratio = spread(ratios.map((r) => r.ratio));
  const worst = ratios
    .slice(0, 3)
    .map((r) => `${r.id} ${r.ratio.toFixed(2)}×`)
    .join(', ');
  const size = `${options.messages.toLocaleString('en')} messages, ${options.folders.toLocaleString('en')} folders`;
  return {
    id: 'scale:seeded',
    measure: `each scenario on an account with ${size} (median of per-scenario ratios)`,
    reference: 'the same scenario on an empty account',
    reps: options.reps,
    subjectMs: spread(wall.seeded),
    referenceMs: spread(wall.empty),
    ratio,
    goal: { maxRatio: GOAL, text: `≤ ${GOAL}× (every scenario)` },
    // The goal holds for each scenario, so the worst one decides.
    met: ratio.max <= GOAL,
    work: {
      subject: `${ratios.length} scenarios, times summed from the JSON reports' durationMs; ratio min–max is the best and worst scenario; worst: ${worst}; ${floor}`,
      reference: `the same ${ratios.length} scenarios on a second lab whose account is empty`,
    },
  };
}
