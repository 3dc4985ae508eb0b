import type { Diagnostic } from '../core/diagnostics.js';
import { closest } from '../core/did-you-mean.js';
import type { Scenario } from '../scenario/model.js';
import type { Target } from '../target/index.js';

/**
 * Checks a target's `deviations:` against the scenarios this run loaded,
 * before anything connects. Two cases, told apart on purpose:
 *
 * - the scenario is loaded but has no such check: an error (exit 2), with a
 *   "did you mean" among its check ids. The scenario is right there, so the
 *   entry can only be a typo or a check renamed since, and a typo in a
 *   profile would otherwise hide nothing and excuse nothing, silently;
 * - no loaded scenario has that id: a warning on stderr, and the run goes on.
 *   One profile is shared by runs of parts of a suite (`mailprobe run
 *   suites/pop3` with a profile that also lists IMAP checks) and by suite
 *   versions that add or drop scenarios, so its absence is no mistake of
 *   this run; the warning still names it, so a stale entry is seen.
 *
 * A check of a scenario's cleanup cannot be listed (an error): cleanup checks
 * never decide a verdict, so the entry would never mean anything.
 * The scenarios are those loaded from the paths, before --grep and --shard.
 */
export function checkDeviationProfile(target: Target, scenarios: readonly Scenario[]): { errors: Diagnostic[]; warnings: Diagnostic[] } {
  const errors: Diagnostic[] = [];
  const warnings: Diagnostic[] = [];
  const byId = new Map(scenarios.map((s) => [s.id, s]));
  for (const d of target.deviations) {
    const hash = d.check.lastIndexOf('#');
    const scenarioId = d.check.slice(0, hash);
    const checkId = d.check.slice(hash + 1);
    const scenario = byId.get(scenarioId);
    if (scenario === undefined) {
      const near = closest(scenarioId, byId.keys());
      warnings.push({
        pos: d.source,
        message: `deviation '${d.check}' names no scenario of this run${near !== undefined ? ` (did you mean '${near}'?)` : ''}; it is ignored`,
      });
      continue;
    }
    const steps = scenario.steps.flatMap((s) => s.expect.map((e) => e.id));
    if (steps.includes(checkId)) continue;
    if (scenario.cleanup.some((s) => s.expect.some((e) => e.id === checkId))) {
      errors.push({
        pos: d.source,
        message: `deviation '${d.check}' names a cleanup check; cleanup checks never decide a verdict, so it cannot be a known deviation`,
      });
      continue;
    }
    const near = closest(checkId, steps);
    errors.push({
      pos: d.source,
      message: `scenario '${scenarioId}' has no check '${checkId}'${near !== undefined ? ` (did you mean '${scenarioId}#${near}'?)` : `; its checks are: ${steps.join(', ')}`}`,
    });
  }
  return { errors, warnings };
}
