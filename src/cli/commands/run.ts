import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { defaultLabDir } from '../../lab/index.js';
import { createReporter, parseReporterSpec, type ReporterSpec } from '../../reporters/index.js';
import { execute } from '../../runner/execute.js';
import { exitCodeFor, EXIT } from '../../runner/exit-codes.js';
import { parseEnvFile } from '../../target/index.js';
import type { CliContext } from '../run-context.js';
import { PRIVATE_MODES, setOutputModes, type OutputModes } from '../../transport/private-files.js';

export interface RunCommandOptions {
  readonly target?: string;
  readonly envFile?: string;
  readonly reporter: readonly string[];
  readonly grep?: string;
  readonly timeout?: number;
  readonly outDir: string;
  /** --report-mode, parsed; reports and saved messages are 0600 (folders 0700) without it. */
  readonly reportMode?: OutputModes;
  readonly quiet: boolean;
}

export async function runCommand(paths: readonly string[], options: RunCommandOptions, ctx: CliContext): Promise<number> {
  const say = (line: string) => ctx.stderr.write(`${line}\n`);

  // Which target, and where its passwords come from.
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
  try {
    if (options.envFile !== undefined) Object.assign(env, await readEnvFile(resolve(ctx.cwd, options.envFile)));
  } catch (err) {
    say(`mailprobe: ${(err as Error).message}`);
    return EXIT.USAGE;
  }
  let specs: ReporterSpec[];
  try {
    specs = options.reporter.map(parseReporterSpec);
  } catch (err) {
    say(`mailprobe: ${(err as Error).message}`);
    return EXIT.USAGE;
  }
  setOutputModes(options.reportMode ?? PRIVATE_MODES);
  // Console progress unless --quiet; the console reporter is never added twice.
  const wanted = options.quiet ? specs : [{ name: 'console' } as ReporterSpec, ...specs.filter((s) => s.name !== 'console')];

  // Ctrl-C stops the steps; cleanup still runs and the reports are written. A second Ctrl-C leaves at once.
  const abort = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (abort.signal.aborted) {
      say('mailprobe: interrupted again; leaving without cleanup');
      process.exit(EXIT.INTERRUPTED);
    }
    say(`mailprobe: ${signal} received; cleaning up what this run created, then writing reports (Ctrl-C again to leave now)`);
    abort.abort(new Error(`interrupted by ${signal}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const outcome = await execute({
      targetFile: resolve(ctx.cwd, targetFile),
      paths: paths.length > 0 ? paths : [join(ctx.packageRoot, 'suites')],
      env,
      ...(options.grep !== undefined ? { grep: options.grep } : {}),
      ...(options.timeout !== undefined ? { commandTimeout: options.timeout } : {}),
      reporters: (redactor) =>
        wanted.map((spec) => createReporter(spec, { redactor, color: ctx.color, stderr: ctx.stderr, stdout: ctx.stdout, cwd: ctx.cwd })),
      stderr: ctx.stderr,
      signal: abort.signal,
      messagesDir: resolve(ctx.cwd, options.outDir, 'messages'),
      version: ctx.version,
    });
    if (outcome.kind === 'invalid') {
      for (const p of outcome.problems) say(p);
      say(`mailprobe: ${outcome.problems.length} problem(s) in the input files; nothing was run.`);
      return EXIT.USAGE;
    }
    const code = exitCodeFor(outcome.result);
    // A report that could not be written is a run that could not fully happen.
    return outcome.reporterCrashed && (code === EXIT.OK || code === EXIT.INCONCLUSIVE) ? EXIT.ERRORED : code;
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
