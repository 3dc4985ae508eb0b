import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import { REPO_ROOT } from '../support/cli.js';

const run = promisify(execFile);

/**
 * `npm run bench -- --quick` once, against the test lab, so that the bench cannot rot. It checks that the table has
 * every row with a figure and a goal; it never judges a figure (CI machines are shared: a timing says nothing).
 */
const ROW_IDS = [
  'startup:--version',
  'startup:--help',
  'startup:validate suites/',
  'suite:concurrency',
  // --quick replays one scenario of each protocol (bench/replay-rows.ts, QUICK_SUBSET), in the report's order.
  'replay:imap/starttls',
  'replay:pop3/rset',
  'replay:smtp/unknown-recipient',
  'delivery:pop3',
  'delivery:imap',
  'scale:seeded',
  'probe:blackhole',
  'rss:big-message',
];

interface BenchJson {
  quick: boolean;
  rows: Array<{
    id: string;
    measure: string;
    reps: number;
    ratio: { median: number; min: number; max: number };
    goal: { maxRatio: number; text: string };
    met: boolean;
  }>;
  notes: string[];
}

describe('npm run bench -- --quick', () => {
  beforeAll(async () => {
    // The bench compiles on its own, against dist/ (built before the CLI tests run).
    await run(process.execPath, [join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(REPO_ROOT, 'bench', 'tsconfig.json')], {
      cwd: REPO_ROOT,
    });
  }, 120_000);

  it('prints one table with every row, each with a numeric ratio and a goal, and writes the same rows as JSON', async () => {
    const lab = inject('lab');
    const dir = await mkdtemp(join(tmpdir(), 'mailprobe-bench-test-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const json = join(dir, 'bench.json');
    const { stdout } = await run(
      process.execPath,
      [join(REPO_ROOT, 'dist-bench', 'main.js'), '--quick', '--json', json, '--target', lab.targetFile, '--secrets-file', lab.envFile],
      { cwd: REPO_ROOT, env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 16 * 1024 * 1024 },
    );
    const report = JSON.parse(await readFile(json, 'utf8')) as BenchJson;
    expect(report.quick).toBe(true);
    // The one note of a quick run on the lab: what an IMAP command costs the client (bench/imap-command-cost.ts).
    expect(report.notes).toHaveLength(1);
    expect(report.notes[0]).toMatch(
      /^IMAP per command: a NOOP through mailprobe's IMAP session \(imapflow\) took \d+\.\d{3} ms against \d+\.\d{3} ms over a raw TLS socket .*\(\d+\.\d{2}×/,
    );
    expect(stdout).toContain(report.notes[0]);
    expect(report.rows.map((r) => r.id)).toEqual(ROW_IDS);
    for (const row of report.rows) {
      expect(row.reps, row.id).toBeGreaterThanOrEqual(1);
      for (const v of [row.ratio.median, row.ratio.min, row.ratio.max, row.goal.maxRatio]) {
        // A lag row's figure is a lag over its allowance, which may be 0 (seen in the millisecond it arrived).
        expect(Number.isFinite(v) && v >= 0, `${row.id}: ${v}`).toBe(true);
      }
      expect(row.goal.text, row.id).toMatch(/^≤ /);
      expect(typeof row.met).toBe('boolean');
      // The same row in the printed table, with its ratio and goal.
      const line = stdout.split('\n').find((l) => l.startsWith(`| ${row.measure} |`));
      expect(line, `${row.id} missing from:\n${stdout}`).toBeDefined();
      expect(line).toContain(`| ${row.ratio.median.toFixed(2)}× |`);
      expect(line).toContain(`| ${row.goal.text} |`);
    }
  }, 240_000);
});
