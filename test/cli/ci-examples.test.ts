import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseShard } from '../../src/runner/shard.js';
import { describeRun, REPO_ROOT, runCli } from '../support/cli.js';

/**
 * The ready-to-copy CI files in examples/ parse as YAML, have the shape their
 * CI reads (a matrix plus a merge job; `parallel:` plus the JUnit artefact),
 * and every mailprobe command in them is a command of this mailprobe with
 * option names its --help lists, and shard values --shard accepts.
 */
const EXAMPLES = join(REPO_ROOT, 'examples');

/** Words of a shell line; double and single quotes group, as the shell does for these simple lines. */
function words(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
}

/** Every `mailprobe …` command in the shell lines, as words (chained commands split at && and ;). */
function mailprobeCommands(lines: readonly string[]): string[][] {
  return lines
    .flatMap((l) => l.split('\n'))
    .flatMap((l) => l.split(/&&|;/))
    .map((l) => words(l.replace(/>.*$/, '').trim()))
    .filter((w) => w[0] === 'mailprobe');
}

const SUBCOMMANDS: Record<string, boolean> = { report: true, lab: true };

/** Checks the command against the built CLI's --help: the command exists, and each option is listed there. */
async function expectValidCommand(cmd: readonly string[]): Promise<void> {
  const path = SUBCOMMANDS[cmd[1]!] === true ? cmd.slice(1, 3) : cmd.slice(1, 2);
  const help = await runCli([...path, '--help']);
  expect(help.code, `${cmd.join(' ')}\n${describeRun(help)}`).toBe(0);
  expect(help.stdout, `mailprobe ${path.join(' ')} is not a command`).toMatch(new RegExp(`^Usage: mailprobe ${path.join(' ')} `));
  for (const option of cmd.filter((w) => /^--?[a-z]/.test(w)).map((w) => w.replace(/=.*$/, ''))) {
    expect(help.stdout, `${option} in: ${cmd.join(' ')}`).toMatch(new RegExp(`(^|[ ,])${option}( |,|$)`, 'm'));
  }
}

function shardValues(cmd: readonly string[], substitute: (word: string) => string[]): string[] {
  const i = cmd.indexOf('--shard');
  return i === -1 ? [] : substitute(cmd[i + 1]!);
}

interface GithubWorkflow {
  jobs: Record<string, { needs?: string | string[]; strategy?: { matrix?: { shard?: number[] } }; steps: Array<{ run?: string; uses?: string }> }>;
}

interface GitlabJob {
  parallel?: number;
  needs?: string[];
  script?: string[];
  artifacts?: { reports?: { junit?: string } };
}

describe('CI examples', () => {
  it('GitHub Actions: a shard matrix, a merge job after it, a PR comment with the Markdown diff', async () => {
    const workflow = parse(await readFile(join(EXAMPLES, 'github-actions.yml'), 'utf8')) as GithubWorkflow;
    const shardJob = Object.values(workflow.jobs).find((j) => j.strategy?.matrix?.shard !== undefined);
    expect(shardJob, 'a job with a shard matrix').toBeDefined();
    const shards = shardJob!.strategy!.matrix!.shard!;
    const mergeJob = Object.entries(workflow.jobs).find(([, j]) => j.steps.some((s) => s.run?.includes('mailprobe report merge')));
    expect(mergeJob, 'a job that merges').toBeDefined();
    const shardJobName = Object.entries(workflow.jobs).find(([, j]) => j === shardJob)![0];
    expect([mergeJob![1].needs].flat()).toContain(shardJobName);

    // The matrix expression as one word, so the line splits into words as the runner's shell sees it.
    const all = Object.values(workflow.jobs).flatMap((j) =>
      j.steps.flatMap((s) => (s.run === undefined ? [] : [s.run.replaceAll('${{ matrix.shard }}', 'MATRIX_SHARD')])),
    );
    const commands = mailprobeCommands(all);
    expect(commands.map((c) => c.slice(1, 3).join(' '))).toEqual(expect.arrayContaining(['run --target', 'report merge', 'report diff']));
    const diff = commands.find((c) => c[1] === 'report' && c[2] === 'diff')!;
    expect(diff.slice(diff.indexOf('--format'), diff.indexOf('--format') + 2)).toEqual(['--format', 'markdown']);
    expect(
      all.some((r) => /gh pr comment .*--body-file/.test(r)),
      'the diff is posted as a PR comment',
    ).toBe(true);
    for (const cmd of commands) await expectValidCommand(cmd);

    const values = commands.flatMap((c) => shardValues(c, (w) => shards.map((n) => w.replace('MATRIX_SHARD', String(n)))));
    expect(values).toEqual(shards.map((n) => `${n}/${shards.length}`));
    for (const v of values) expect(() => parseShard(v)).not.toThrow();
  });

  it('GitLab: parallel shard jobs with the JUnit report artefact, then a merge', async () => {
    const pipeline = parse(await readFile(join(EXAMPLES, 'gitlab-ci.yml'), 'utf8')) as Record<string, GitlabJob>;
    const jobs = Object.entries(pipeline).filter(([, j]) => typeof j === 'object' && j !== null && Array.isArray(j.script));
    const parallel = jobs.find(([, j]) => typeof j.parallel === 'number');
    expect(parallel, 'a job with parallel:').toBeDefined();
    const [name, job] = parallel!;
    expect(job.artifacts?.reports?.junit).toMatch(/\.xml$/);
    const merge = jobs.find(([, j]) => j.script!.some((l) => l.includes('mailprobe report merge')));
    expect(merge?.[1].needs).toContain(name);

    const commands = mailprobeCommands(jobs.flatMap(([, j]) => j.script!));
    expect(commands.map((c) => c.slice(1, 3).join(' '))).toEqual(expect.arrayContaining(['run --target', 'report merge']));
    for (const cmd of commands) await expectValidCommand(cmd);

    const total = job.parallel!;
    const values = commands.flatMap((c) =>
      shardValues(c, (w) => Array.from({ length: total }, (_, i) => w.replace('$CI_NODE_INDEX', String(i + 1)).replace('$CI_NODE_TOTAL', String(total)))),
    );
    expect(values).toEqual(Array.from({ length: total }, (_, i) => `${i + 1}/${total}`));
    for (const v of values) expect(() => parseShard(v)).not.toThrow();
    // The JUnit files the run writes are the ones the artefact publishes.
    const run = commands.find((c) => c[1] === 'run')!;
    expect(run.some((w) => w.startsWith('junit=reports/junit-'))).toBe(true);
  });
});
