import { formatDiagnostic } from '../input/errors.js';
import type { Scenario } from '../scenario/model.js';
import { missingSecrets, type Target } from '../target/index.js';

/** What a scenario needs that a target lacks: an endpoint or an account role (with the session that names it, if one does). */
export interface MissingItem {
  readonly kind: 'endpoint' | 'account';
  readonly name: string;
  readonly session?: string;
}

interface HasEndpointsAndAccounts {
  readonly endpoints: Readonly<Partial<Record<string, unknown>>>;
  readonly accounts: Readonly<Partial<Record<string, unknown>>>;
}

/**
 * Everything `scenario` requires that `target` lacks, in the order the
 * scenario names them: its requires (which the loader fills with every
 * session's endpoint and account), then any session's that is still missing.
 * The one check for the run, which skips the scenario, and the dry run, which
 * says it would.
 */
export function missingRequirements(scenario: Scenario, target: HasEndpointsAndAccounts): MissingItem[] {
  const missing: MissingItem[] = [];
  const has = (item: MissingItem) => missing.some((m) => m.kind === item.kind && m.name === item.name);
  const lacks = (kind: MissingItem['kind'], name: string) => (kind === 'endpoint' ? target.endpoints[name] : target.accounts[name]) === undefined;
  for (const name of scenario.requires.endpoints) if (lacks('endpoint', name)) missing.push({ kind: 'endpoint', name });
  for (const name of scenario.requires.accounts) if (lacks('account', name)) missing.push({ kind: 'account', name });
  for (const [session, decl] of Object.entries(scenario.sessions)) {
    const endpoint = { kind: 'endpoint', name: decl.endpoint, session } as const;
    const account = { kind: 'account', name: decl.account, session } as const;
    if (lacks('endpoint', decl.endpoint) && !has(endpoint)) missing.push(endpoint);
    if (lacks('account', decl.account) && !has(account)) missing.push(account);
  }
  return missing;
}

/** Why the run skips a scenario: the first thing missing, as the run reports it; undefined when nothing is. */
export function unmetRequirements(scenario: Scenario, target: HasEndpointsAndAccounts): string | undefined {
  const first = missingRequirements(scenario, target)[0];
  if (first === undefined) return undefined;
  const what = first.kind === 'endpoint' ? `'${first.name}' endpoint` : `account with role '${first.name}'`;
  return `the target has no ${what}${first.session === undefined ? '' : ` (session '${first.session}')`}`;
}

/**
 * The passwords the run will need and cannot have, as framed problems, once per account. Scenarios the target
 * lacks something for are skipped and need none. The run and the dry run both ask here, so a dry run that
 * says nothing wrong is a run that will not stop for a secret.
 */
export function unsetSecretsFor(
  target: Target,
  scenarios: readonly Scenario[],
  env: Readonly<Record<string, string | undefined>>,
  /** More than one scenario at once: the stand-ins of the roles needed may log in too (src/runner/stand-ins.ts). */
  concurrent = false,
): string[] {
  const needed = scenarios.filter((s) => missingRequirements(s, target).length === 0).flatMap((s) => s.requires.accounts);
  return missingSecrets(target, needed, env, { standIns: concurrent }).map((d) => formatDiagnostic(d));
}
