/**
 * The named scopes a template may read. Accounts expose user, address and
 * the address's domain only: passwords never enter the interpolation scope, so no scenario can
 * print one into a message or a log.
 */
export interface RunScope {
  readonly id: string;
  /** Prefix for everything the run creates (folders, subjects), e.g. "mailprobe-<id>". */
  readonly prefix: string;
  /** ISO 8601 start time. */
  readonly started: string;
}

export interface AccountScope {
  readonly user: string;
  readonly address: string;
  /** The address's domain, for an address of this host that is no account (an unknown recipient). */
  readonly domain: string;
}

export interface TargetScope {
  readonly host: string;
  readonly name: string;
}

export interface Scopes {
  readonly run: RunScope;
  readonly vars: Readonly<Record<string, unknown>>;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly captures: Readonly<Record<string, unknown>>;
  readonly accounts: Readonly<Record<string, AccountScope>>;
  readonly target: TargetScope;
}

export const SCOPE_NAMES = ['run', 'vars', 'env', 'captures', 'accounts', 'target'] as const;
export type ScopeName = (typeof SCOPE_NAMES)[number];

/** Fields statically known, so typos are caught at load time. */
export const RUN_FIELDS = ['id', 'prefix', 'started'] as const;
export const TARGET_FIELDS = ['host', 'name'] as const;
export const ACCOUNT_FIELDS = ['user', 'address', 'domain'] as const;

/** Builds the accounts scope from anything account-like, dropping every other field (passwords included). */
export function accountsScope(accounts: Readonly<Record<string, { readonly user: string; readonly address: string }>>): Record<string, AccountScope> {
  const out: Record<string, AccountScope> = {};
  for (const [role, a] of Object.entries(accounts)) out[role] = { user: a.user, address: a.address, domain: a.address.slice(a.address.lastIndexOf('@') + 1) };
  return out;
}
