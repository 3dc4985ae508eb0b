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
  for (const a of Object.values(target.accounts)) {
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
export function missingSecrets(target: Target, roles: Iterable<string>, env: Readonly<Record<string, string | undefined>>): Diagnostic[] {
  const setNames = Object.keys(env).filter((k) => env[k] !== undefined && env[k] !== '');
  const out: Diagnostic[] = [];
  for (const role of new Set(roles)) {
    const account = target.accounts[role];
    if (account === undefined) continue;
    const value = env[account.passwordEnv];
    if (value !== undefined && value !== '') continue;
    const state = value === '' ? 'set but empty' : 'not set';
    out.push({
      pos: target.positions.posOf(['accounts', role, 'password_env']),
      message: `the password for account '${role}' is read from environment variable ${account.passwordEnv}, which is ${state}${didYouMean(account.passwordEnv, setNames)}; export it, or put it in a --secrets-file`,
    });
  }
  return out;
}
