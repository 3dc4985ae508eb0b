import { didYouMean } from '../core/did-you-mean.js';
import type { Diagnostic } from '../core/diagnostics.js';
import type { Account, Target } from './model.js';

/** A password's environment variable is unset. The message names the variable, never a value. */
export class SecretError extends Error {
  readonly code = 'ESECRET_MISSING';
  readonly variable: string;
  readonly role: string;

  constructor(role: string, variable: string) {
    super(`the password for account '${role}' is read from environment variable ${variable}, which is not set`);
    this.name = 'SecretError';
    this.variable = variable;
    this.role = role;
  }
}

/** The account's password from `env` (passed in: only the CLI reads process.env). */
export function resolveAccountPassword(account: Account, env: Readonly<Record<string, string | undefined>>): string {
  const value = env[account.passwordEnv];
  // An empty value is almost always a missing export, not a real password.
  if (value === undefined || value === '') throw new SecretError(account.role, account.passwordEnv);
  return value;
}

/** Every password value that is set, for the Redactor to scrub from transcripts and reports. */
export function collectSecrets(target: Target, env: Readonly<Record<string, string | undefined>>): string[] {
  const out = new Set<string>();
  for (const a of Object.values(target.accounts).flatMap((account) => [account, ...(account.standIns ?? [])])) {
    const v = env[a.passwordEnv];
    if (v !== undefined && v !== '') out.add(v);
  }
  return [...out];
}

/**
 * The accounts among `roles` whose password variable is unset or empty, as
 * diagnostics at the account's password_env, one per account, each with a
 * "did you mean" when a similarly named variable is set (a typo in the file or
 * in the CI job's secrets). Only names are compared and shown, never a value.
 */
export function missingSecrets(
  target: Target,
  roles: Iterable<string>,
  env: Readonly<Record<string, string | undefined>>,
  options: { readonly standIns?: boolean } = {},
): Diagnostic[] {
  const setNames = Object.keys(env).filter((k) => env[k] !== undefined && env[k] !== '');
  const out: Diagnostic[] = [];
  const check = (what: string, variable: string, path: readonly (string | number)[]) => {
    const value = env[variable];
    if (value !== undefined && value !== '') return;
    const state = value === '' ? 'set but empty' : 'not set';
    out.push({
      pos: target.positions.posOf(path),
      message: `the password for ${what} is read from environment variable ${variable}, which is ${state}${didYouMean(variable, setNames)}; export it, or put it in a --secrets-file`,
    });
  };
  for (const role of new Set(roles)) {
    const account = target.accounts[role];
    if (account === undefined) continue;
    check(`account '${role}'`, account.passwordEnv, ['accounts', role, 'password_env']);
    // A run with scenarios at once may log in as any stand-in: each needs its password before anything connects.
    if (options.standIns) {
      for (const [i, s] of (account.standIns ?? []).entries())
        check(`stand-in '${s.user}' of account '${role}'`, s.passwordEnv, ['accounts', role, 'stand_ins', i, 'password_env']);
    }
  }
  return out;
}
