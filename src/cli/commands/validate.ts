import { basename, join } from 'node:path';
import { escapeControls } from '../../reporters/escape.js';
import { EXIT } from '../exit-codes.js';
import { loadScenarios, loadTarget, profileProblems } from '../../runner/load-inputs.js';
import type { CliContext } from '../run-context.js';

/**
 * Offline check of scenario and target files. Never opens a socket. A file is
 * taken as a target when it is passed with --target, named *target*.yaml on the
 * command line, or, anywhere, when its content is a target's (a root with host
 * and endpoints, or kind: target; see isTargetText).
 */
export async function validateCommand(paths: readonly string[], options: { target?: string[] }, ctx: CliContext): Promise<number> {
  const targets = [...(options.target ?? []), ...paths.filter((p) => /target[^/]*\.ya?ml$/i.test(basename(p)))];
  const scenarioPaths = paths.filter((p) => !targets.includes(p));
  const problems: string[] = [];
  let scenarioCount = 0;
  let targetCount = targets.length;
  let scenarios: Awaited<ReturnType<typeof loadScenarios>>['value'];
  if (scenarioPaths.length > 0 || targets.length === 0) {
    const loaded = await loadScenarios(scenarioPaths.length > 0 ? scenarioPaths : [join(ctx.packageRoot, 'suites')]);
    problems.push(...loaded.problems, ...loaded.targets.problems);
    scenarios = loaded.value;
    scenarioCount = loaded.value?.length ?? 0;
    targetCount += loaded.targets.files.length;
  }
  for (const file of targets) {
    const target = await loadTarget(file);
    problems.push(...target.problems);
    // With scenarios given too, the target's deviations must name their checks (deviation-profile.ts).
    if (target.value !== undefined && scenarios !== undefined && scenarios.length > 0) {
      const profile = profileProblems(target.value, scenarios);
      problems.push(...profile.problems);
      for (const w of profile.warnings) ctx.stderr.write(`${escapeControls(w)}\n`);
    }
  }
  // Problems quote the user's files: a bidi override there must not reorder the terminal.
  for (const p of problems) ctx.stderr.write(`${escapeControls(p, { keep: '\n' })}\n\n`);
  if (problems.length > 0) {
    ctx.stderr.write(`mailprobe validate: ${problems.length} problem(s) found\n`);
    return EXIT.USAGE;
  }
  ctx.stderr.write(`mailprobe validate: ${scenarioCount} scenario(s) and ${targetCount} target file(s) are valid\n`);
  return EXIT.OK;
}
