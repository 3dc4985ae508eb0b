import type { ActionSignatures, PlanContext, PlannedEffect } from '../actions/define-action.js';
import type { Shard } from './shard.js';
import { accountsScope, evaluate, interpolate, InterpolationError } from '../interpolate/index.js';
import type { Lookup, Scopes } from '../interpolate/index.js';
import { isPlainObject } from '../input/issues.js';
import type { Scenario, Step } from '../scenario/model.js';
import type { Target } from '../target/index.js';
import { loadRunInputs, type ScenarioFilter } from './load-inputs.js';
import { runPrefix } from '../core/run-identity.js';
import { missingRequirements, unsetSecretsFor } from './requirements.js';

/**
 * `mailprobe run --dry-run`: what a run would connect to, create, send,
 * change and delete, per scenario, worked out from the loaded scenarios and
 * target without opening a socket. Each action declares its effects
 * (`plans` in define-action.ts); this module only renders the step params
 * as far as they are known before running and lays the answers out.
 */
export interface StepPlan {
  readonly list: 'steps' | 'cleanup';
  readonly index: number;
  readonly name: string;
  readonly action: string;
  readonly effects: readonly PlannedEffect[];
}

export interface ScenarioPlan {
  readonly id: string;
  readonly name: string;
  /** Why the run would skip it (the target lacks an endpoint or account it needs), if it would. */
  readonly skipped?: string;
  readonly connects: readonly string[];
  readonly steps: readonly StepPlan[];
}

export function planRun(target: Target, scenarios: readonly Scenario[], actions: ActionSignatures, runId: string): ScenarioPlan[] {
  const scopes: Omit<Scopes, 'vars'> = {
    run: { id: runId, prefix: runPrefix(runId), started: '(start time)' },
    // Env values are never shown: they may hold secrets. A ${env.…} stays written.
    env: {},
    captures: {},
    accounts: accountsScope(target.accounts),
    target: { host: target.host, name: target.name },
  };
  const ctx: PlanContext = {
    runRoot: runPrefix(runId),
    account: (role) => target.accounts[role],
    messageIdPattern: `<mailprobe.${runId}.…@mailprobe.invalid>`,
  };
  return scenarios.map((scenario) => planScenario(scenario, target, actions, scopes, ctx));
}

function planScenario(scenario: Scenario, target: Target, actions: ActionSignatures, base: Omit<Scopes, 'vars'>, ctx: PlanContext): ScenarioPlan {
  const missing = missingRequirements(scenario, target).map((m) => `${m.kind} ${m.name}`);
  const head = { id: scenario.id, name: scenario.name };
  if (missing.length > 0) return { ...head, skipped: `the target has no ${missing.join(', ')}`, connects: [], steps: [] };
  const scopes: Scopes = { ...base, vars: renderKnown(scenario.vars, { ...base, vars: {} }) as Record<string, unknown> };
  const connects = Object.entries(scenario.sessions).map(([name, s]) => {
    const e = target.endpoints[s.endpoint]!;
    return `${name}: ${s.protocol} ${e.host}:${e.port} (${s.endpoint}, ${e.security}) as ${target.accounts[s.account]?.user ?? s.account}`;
  });
  const plan = (list: 'steps' | 'cleanup', step: Step): StepPlan => {
    const sig = actions[step.action];
    const raw = renderKnown(step.with, scopes);
    // Defaults (e.g. the default subject) come from the action's own schema when the params are complete.
    const parsed = sig?.params.safeParse(raw);
    const params = parsed?.success && isPlainObject(parsed.data) ? parsed.data : isPlainObject(raw) ? raw : {};
    return { list, index: step.index, name: step.name, action: step.action, effects: sig?.plans?.(params, ctx) ?? [] };
  };
  const steps = [...scenario.steps.map((s) => plan('steps', s)), ...scenario.cleanup.map((s) => plan('cleanup', s))];
  // Actions that open their own connection (smtp.send) name its endpoint.
  for (const s of steps) {
    for (const effect of s.effects) {
      const e = effect.endpoint === undefined ? undefined : target.endpoints[effect.endpoint as keyof Target['endpoints']];
      const line = e === undefined ? undefined : `${s.action}: ${e.protocol} ${e.host}:${e.port} (${effect.endpoint}, ${e.security})`;
      if (line !== undefined && !connects.includes(line)) connects.push(line);
    }
  }
  return { ...head, connects, steps };
}

/**
 * Renders `${…}` whose value is known before running (run, target, accounts,
 * vars) with the run's own interpolation; anything else (captures, env)
 * stays as written, so the listing shows where a value comes from rather
 * than guessing it.
 */
export function renderKnown(tree: unknown, scopes: Scopes): unknown {
  try {
    return interpolate(tree, scopes, () => NOWHERE, [], knownValue);
  } catch (err) {
    // A value that cannot stand in text (a map spliced into a string) is the run's error to report; the
    // listing shows the params as written.
    if (err instanceof InterpolationError) return tree;
    throw err;
  }
}

const NOWHERE = { file: '', line: 1, col: 1 };

const knownValue: Lookup = (ref, scopes, pos, path) => {
  const written = `\${${ref.expr}}`;
  if (ref.scope === 'captures' || ref.scope === 'env') return written;
  try {
    return evaluate(ref, scopes, pos, path);
  } catch {
    return written;
  }
};

const VERB: Record<PlannedEffect['kind'], string> = { create: 'create', send: 'send  ', change: 'change', delete: 'delete' };

/** The listing as printed on stdout. */
export function formatPlan(plans: readonly ScenarioPlan[], runId: string, targetName: string): string {
  const out: string[] = [
    `mailprobe run --dry-run: ${plans.length} scenario(s) against ${targetName}; nothing was connected to.`,
    `Names below use the run id ${runId}; a real run gets a new one. Folders are shown under the run root; the server may put its namespace prefix before it.`,
  ];
  for (const p of plans) {
    out.push('', `${p.id} — ${p.name}`);
    if (p.skipped !== undefined) {
      out.push(`  would be skipped: ${p.skipped}`);
      continue;
    }
    for (const c of p.connects) out.push(`  connect ${c}`);
    const acting = p.steps.filter((s) => s.effects.length > 0);
    if (acting.length === 0) out.push('  changes nothing on the server (its steps only read)');
    for (const s of acting) {
      out.push(`  ${s.list === 'steps' ? 'step' : 'cleanup'} ${s.index + 1} "${s.name}" (${s.action})`);
      for (const e of s.effects) out.push(`    ${VERB[e.kind]} ${e.what}`);
    }
  }
  return `${out.join('\n')}\n`;
}

/** `run --dry-run` end to end: load and check every input like a run, then list instead of connecting. */
export async function dryRun(options: {
  readonly targetFile: string;
  readonly paths: readonly string[];
  readonly grep?: ScenarioFilter;
  /** --shard: list only what this shard would run. */
  readonly shard?: Shard;
  readonly actions: ActionSignatures;
  readonly runId: string;
  /** The run's environment: only which password variables are set is looked at, never a value. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** --concurrency: above 1, the stand-ins' passwords are needed too. */
  readonly concurrency?: number;
}): Promise<{ readonly problems: readonly string[]; readonly warnings?: readonly string[]; readonly listing?: string }> {
  const inputs = await loadRunInputs(options.targetFile, options.paths, options.grep, options.shard);
  if (!inputs.target || !inputs.scenarios) return { problems: inputs.problems };
  // The plan is still listed with a password missing: it is what the run would do once the secret is there.
  const problems = unsetSecretsFor(inputs.target, inputs.scenarios, options.env, (options.concurrency ?? 1) > 1);
  return {
    problems,
    ...(inputs.warnings !== undefined ? { warnings: inputs.warnings } : {}),
    listing: formatPlan(planRun(inputs.target, inputs.scenarios, options.actions, options.runId), options.runId, inputs.target.name),
  };
}
