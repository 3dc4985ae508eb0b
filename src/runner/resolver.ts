import { accountsScope, interpolate, type Scopes } from '../interpolate/index.js';
import { everyMailbox, type RunTarget } from '../actions/run-target.js';
import type { Resolve } from './run-step.js';
import type { Scenario } from '../scenario/model.js';
import { runPrefix } from '../core/run-identity.js';

export interface ResolverInputs {
  readonly runId: string;
  readonly startedAt: number;
  readonly target: RunTarget;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/**
 * Builds the ${…} resolver of one scenario. `captures` is the live object the
 * step runner fills in, so later steps see earlier steps' values. Scenario
 * vars are interpolated once, first, with every scope but captures.
 */
export function makeResolverFactory(inputs: ResolverInputs) {
  // `target`: the scenario's own view of it, where a stand-in may take a role (src/runner/stand-ins.ts).
  return (scenario: Scenario, captures: Record<string, unknown>, target: RunTarget = inputs.target): Resolve => {
    const base: Omit<Scopes, 'vars' | 'captures'> = {
      run: { id: inputs.runId, prefix: runPrefix(inputs.runId), started: new Date(inputs.startedAt).toISOString() },
      env: withoutPasswords(inputs.env, inputs.target),
      accounts: accountsScope(target.accounts),
      target: { host: inputs.target.host, name: inputs.target.name },
    };
    const posOf = (path: readonly (string | number)[]) => scenario.positions.posOf(path);
    let vars: Readonly<Record<string, unknown>> | undefined;
    const scopes = (): Scopes => {
      vars ??= interpolate(scenario.vars, { ...base, vars: {}, captures: {} }, posOf, ['vars']) as Record<string, unknown>;
      return { ...base, vars, captures };
    };
    return (tree, path) => interpolate(tree, scopes(), posOf, path);
  };
}

/**
 * The env scope without the variables that hold account passwords: a scenario
 * could otherwise put a password into a message, a saved copy or a report.
 */
function withoutPasswords(env: Readonly<Record<string, string | undefined>>, target: RunTarget): Record<string, string | undefined> {
  const secret = new Set(everyMailbox(target).map((a) => a.passwordEnv));
  return Object.fromEntries(Object.entries(env).filter(([name]) => !secret.has(name)));
}
