import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { defaultLabDir } from '../../lab/index.js';
import { createReporter, parseReporterSpec, ReporterMultiplexer, type ReporterSpec } from '../../reporters/index.js';
import { exitCodeFor, EXIT } from '../../runner/exit-codes.js';
import { makeResolverFactory } from '../../runner/resolver.js';
import { runAll } from '../../runner/run.js';
import { parseEnvFile, resolveAccountPassword } from '../../target/index.js';
import { Redactor } from '../../transport/redact.js';
import { loadScenarios, loadTarget } from '../load-inputs.js';
import type { CliContext } from '../run-context.js';

export interface RunCommandOptions {
  readonly target?: string;
  readonly envFile?: string;
  readonly reporter: readonly string[];
  readonly grep?: string;
  readonly timeout?: number;
  readonly outDir: string;
  readonly quiet: boolean;
}

/** A run id that sorts by time and is safe in a header, a folder name and a file name. */
export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', 't');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

export async function runCommand(paths: readonly string[], options: RunCommandOptions, ctx: CliContext): Promise<number> {
  const say = (line: string) => ctx.stderr.write(`${line}\n`);

  // 1. Which target, and where its passwords come from.
  let targetFile = options.target;
  const env: Record<string, string | undefined> = { ...ctx.env };
  if (targetFile === undefined) {
    const labDir = defaultLabDir(ctx.env);
    targetFile = join(labDir, 'target.yaml');
    if (!existsSync(targetFile)) {
      say(`mailprobe: no --target given and no lab is running (looked for ${targetFile}).`);
      say('Start the built-in lab with `mailprobe lab up`, or pass --target FILE for a real host.');
      return EXIT.USAGE;
    }
    say(`mailprobe: no --target given; running against the built-in lab (${targetFile})`);
    Object.assign(env, await readEnvFile(join(labDir, 'lab.env')));
  }
  if (options.envFile !== undefined) {
    const loaded = await readEnvFile(resolve(ctx.cwd, options.envFile)).catch((err: Error) => err);
    if (loaded instanceof Error) {
      say(`mailprobe: ${loaded.message}`);
      return EXIT.USAGE;
    }
    Object.assign(env, loaded);
  }

  // 2. Every input file is checked before anything connects.
  let specs: ReporterSpec[];
  try {
    specs = options.reporter.map(parseReporterSpec);
  } catch (err) {
    say(`mailprobe: ${(err as Error).message}`);
    return EXIT.USAGE;
  }
  const target = await loadTarget(resolve(ctx.cwd, targetFile));
  const suitePaths = paths.length > 0 ? paths : [join(ctx.packageRoot, 'suites')];
  const loaded = await loadScenarios(suitePaths);
  const problems = [...target.problems, ...loaded.problems];
  if (problems.length > 0 || !target.value || !loaded.value) {
    for (const p of problems) say(p);
    say(`mailprobe: ${problems.length} problem(s) in the input files; nothing was run.`);
    return EXIT.USAGE;
  }
  let scenarios = loaded.value;
  if (options.grep !== undefined) {
    const pattern = new RegExp(options.grep, 'i');
    scenarios = scenarios.filter((s) => pattern.test(s.name) || pattern.test(s.id) || s.tags.some((t) => pattern.test(t)));
    if (scenarios.length === 0) {
      say(`mailprobe: --grep ${options.grep} matches no scenario`);
      return EXIT.USAGE;
    }
  }

  // 3. Secrets: only from the environment; every value is known to the redactor.
  const passwords: Record<string, string> = {};
  for (const account of Object.values(target.value.accounts)) {
    try {
      passwords[account.role] = resolveAccountPassword(account, env);
    } catch {
      // Reported by the scenarios that need this account, as an error naming the variable.
    }
  }
  const redactor = new Redactor(Object.values(passwords));
  const timeouts = options.timeout !== undefined ? { ...target.value.timeouts, command: options.timeout } : target.value.timeouts;
  const runTarget = { ...target.value, timeouts };

  // 4. Reporters: console progress unless --quiet, plus every --reporter.
  const reporterContext = { redactor, color: ctx.color, stderr: ctx.stderr, stdout: ctx.stdout, cwd: ctx.cwd };
  const wanted = [...(options.quiet ? [] : [{ name: 'console' } as ReporterSpec]), ...specs.filter((s) => s.name !== 'console' || options.quiet)];
  const reporter = new ReporterMultiplexer(
    wanted.map((spec) => createReporter(spec, reporterContext)),
    { stderr: ctx.stderr, redactor },
  );

  // 5. Ctrl-C stops the steps; cleanup still runs and the reports are written. A second Ctrl-C leaves at once.
  const abort = new AbortController();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      say('mailprobe: interrupted again; leaving without cleanup');
      process.exit(EXIT.INTERRUPTED);
    }
    say(`mailprobe: ${signal} received; cleaning up what this run created, then writing reports (Ctrl-C again to leave now)`);
    abort.abort(new Error(`interrupted by ${signal}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const runId = newRunId();
  const startedAt = Date.now();
  try {
    const result = await runAll({
      runId,
      target: runTarget,
      scenarios,
      passwords,
      redactor,
      reporter,
      signal: abort.signal,
      messageDir: resolve(ctx.cwd, options.outDir, 'messages', runId),
      makeResolver: makeResolverFactory({ runId, startedAt, target: runTarget, env }),
      version: ctx.version,
    });
    const code = exitCodeFor(result);
    // A report that could not be written is a run that could not fully happen.
    return reporter.crashed && code === EXIT.OK ? EXIT.ERRORED : code;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

async function readEnvFile(file: string): Promise<Record<string, string>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read env file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseEnvFile(text, file);
}
