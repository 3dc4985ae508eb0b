/**
 * The bench's memory row (issue 12 §1): the peak RSS of one `mailprobe run` of examples/big-message.yaml, which
 * submits a 25 MB message and saves it by IMAP FETCH (partial fetches) and POP3 RETR, against the message size.
 * Goal: ≤ 2 × size + 80 MB. The peak is the kernel's own count for the mailprobe process (getrusage ru_maxrss,
 * read by a module loaded with `node --import` that writes it at exit), so nothing in mailprobe measures itself.
 * For scale the same scenario also runs once with a 512 KB message: what the process needs whatever the size.
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { spread } from './measure.js';
import type { Row } from './rows.js';

const run = promisify(execFile);
const MB = 1000 * 1000;
const SIZE = 25 * MB;
/** Written into the scratch folder at run time: plain JavaScript, so it loads before mailprobe and needs no build. */
const PROBE = `import { writeFileSync } from 'node:fs';
process.on('exit', () => writeFileSync(process.env.MAILPROBE_BENCH_RSS_FILE, String(process.resourceUsage().maxRSS * 1024)));
`;

interface Paths {
  readonly root: string;
  readonly cli: string;
  readonly target: string;
  readonly secretsFile: string;
  readonly scratch: string;
}

/** One run of the scenario at `size` (as the scenario writes it); its peak RSS in octets. Throws unless it passed. */
async function peakRss(paths: Paths, scenario: string, tag: string): Promise<number> {
  const probe = join(paths.scratch, 'rss-probe.mjs');
  await writeFile(probe, PROBE);
  const rssFile = join(paths.scratch, `rss-${tag}.txt`);
  const report = join(paths.scratch, `rss-${tag}.json`);
  const argv = ['--import', probe, paths.cli, 'run', scenario, '--target', paths.target, '--secrets-file', paths.secretsFile, '--quiet'];
  argv.push('--reporter', `json=${report}`, '--out-dir', join(paths.scratch, `rss-${tag}-messages`));
  try {
    await run(process.execPath, argv, { cwd: paths.root, env: { ...process.env, NO_COLOR: '1', MAILPROBE_BENCH_RSS_FILE: rssFile }, maxBuffer: 16 * MB });
  } catch (err) {
    throw new Error(`mailprobe run ${scenario} did not pass: ${(err as { stderr?: string }).stderr?.slice(-2000) ?? (err as Error).message}`);
  }
  const counts = (JSON.parse(await readFile(report, 'utf8')) as { counts: { total: number; passed: number } }).counts;
  if (counts.total !== 1 || counts.passed !== 1) throw new Error(`mailprobe run ${scenario}: ${counts.passed} of ${counts.total} passed`);
  return Number(await readFile(rssFile, 'utf8'));
}

export async function rssRow(reps: number, paths: Paths): Promise<Row> {
  const scenario = join(paths.root, 'examples', 'big-message.yaml');
  const small = join(paths.scratch, 'small-message.yaml');
  await writeFile(small, (await readFile(scenario, 'utf8')).replace(/size: 25MB/, 'size: 512KB'));
  const peaks: number[] = [];
  for (let i = 0; i < reps; i++) peaks.push(await peakRss(paths, scenario, `big-${i}`));
  const base = await peakRss(paths, small, 'small');
  const max = (2 * SIZE + 80 * MB) / SIZE;
  const peakMb = spread(peaks.map((p) => p / MB));
  return {
    id: 'rss:big-message',
    measure: 'peak RSS, IMAP FETCH + POP3 RETR save of a 25 MB message',
    reference: 'the message size',
    unit: 'MB',
    reps,
    subjectMs: peakMb,
    referenceMs: spread([SIZE / MB]),
    ratio: spread(peaks.map((p) => p / SIZE)),
    goal: { maxRatio: max, text: `≤ 2 × size + 80 MB (≤ ${max.toFixed(2)}× here)` },
    met: peakMb.median * MB <= 2 * SIZE + 80 * MB,
    work: {
      subject: `1 run of examples/big-message.yaml each (submit, IMAP save, POP3 save, cleanup), peak ${peakMb.median.toFixed(0)} MB; the same with a 512 KB message: ${(base / MB).toFixed(0)} MB`,
      reference: `${SIZE} octets`,
    },
  };
}
