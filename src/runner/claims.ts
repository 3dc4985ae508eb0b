/**
 * What a scenario holds while it runs, read statically from its YAML, so that
 * `--concurrency N` runs side by side only scenarios that cannot disturb each
 * other (issue 10 §6). Nearly every shipped suite uses the account `primary`,
 * so a lock per account would make any N serial; the claims are finer:
 *
 * - the INBOX of an account: what the actions' table (src/actions/claims.ts)
 *   says works on it (a session whose protocol works on the maildrop, the
 *   cleanups' sweeps for the run's mail), a mailbox parameter naming INBOX,
 *   and mail delivered to it: a recipient `${accounts.R.address}` or the
 *   literal address of an account (RCPT alone delivers nothing; the message does);
 * - one special-use mailbox (`\Drafts`), or all of them;
 * - one folder under the run's root, and its subfolders: two scenarios naming
 *   the same folder (or one inside the other) never overlap;
 * - the run's whole folder tree (what lists or deletes every run folder);
 * - the whole account: anything not classified (an action the table does not
 *   know, a mailbox named through `${…}`, `with` given as one interpolation);
 *   a recipient that is no account's address holds every account's INBOX (it
 *   may be an alias), one computed through `${…}` every account. Unknown is
 *   exclusive: the safe default.
 *
 * Accounts are told apart by their user (two roles may be one mailbox).
 * Beside the locks, each scenario's peak number of connections per host, for
 * the connection budget: every session its steps use (plus the raw connection
 * beside it when a step uses one), plus the most any one step opens besides;
 * the same for its cleanup, which runs after the steps' sessions are closed.
 * An unknown action counts as needing the whole budget (it runs alone there).
 */
import { everyMailbox, type RunTarget } from '../actions/run-target.js';
import { hostKey } from '../transport/budget.js';
import { stepUse } from '../actions/claims.js';
import type { Scenario, Step } from '../scenario/model.js';

export type Claim =
  | { readonly account: string; readonly scope: 'account' | 'inbox' | 'specials' | 'tree' }
  | { readonly account: string; readonly scope: 'special'; readonly name: string }
  | { readonly account: string; readonly scope: 'folder'; readonly path: string };

export interface ScenarioClaims {
  readonly claims: readonly Claim[];
  /** Peak connections open at once, by host (hostKey); Infinity: the whole budget. */
  readonly connections: ReadonlyMap<string, number>;
}

/** Two claims on one account that cannot be held at once. */
export function conflicts(a: Claim, b: Claim): boolean {
  if (a.account !== b.account) return false;
  if (a.scope === 'account' || b.scope === 'account') return true;
  if (area(a) !== area(b)) return false;
  if (a.scope === 'inbox') return true;
  if (a.scope === 'specials' || b.scope === 'specials' || a.scope === 'tree' || b.scope === 'tree') return true;
  if (a.scope === 'special' && b.scope === 'special') return a.name.toLowerCase() === b.name.toLowerCase();
  return a.scope === 'folder' && b.scope === 'folder' && nested(a.path, b.path);
}

/** INBOX, the special-use mailboxes and the run's folders are three places that never overlap. */
function area(claim: Claim): 'inbox' | 'special' | 'folders' {
  if (claim.scope === 'inbox') return 'inbox';
  return claim.scope === 'special' || claim.scope === 'specials' ? 'special' : 'folders';
}

export function claimsConflict(a: ScenarioClaims, b: ScenarioClaims): boolean {
  return a.claims.some((x) => b.claims.some((y) => conflicts(x, y)));
}

/** Equal, or one inside the other ("a" and "a/b"): a DELETE or RENAME of one reaches the other. */
function nested(p: string, q: string): boolean {
  return p === q || p.startsWith(`${q}/`) || q.startsWith(`${p}/`);
}

export function scenarioClaims(scenario: Scenario, target: RunTarget): ScenarioClaims {
  const claims: Claim[] = [];
  // Stand-ins included: an alias, or a recipient computed at run time, may be any mailbox of the target.
  const everyAccount = everyMailbox(target).map((a) => a.user.toLowerCase());
  const userOf = (role: string): string => target.accounts[role]?.user.toLowerCase() ?? `role:${role}`;
  const add = (accounts: readonly string[], claim: (account: string) => Claim) => {
    for (const account of accounts) claims.push(claim(account));
  };
  const deliverTo = (recipient: unknown) => {
    if (typeof recipient !== 'string') return add(everyAccount, (account) => ({ account, scope: 'account' }));
    const role = /^\$\{\s*accounts\.([A-Za-z0-9_-]+)\.address\s*\}$/.exec(recipient)?.[1];
    if (role !== undefined) return add([userOf(role)], (account) => ({ account, scope: 'inbox' }));
    if (recipient.includes('${')) return add(everyAccount, (account) => ({ account, scope: 'account' }));
    const owners = everyMailbox(target).filter((a) => a.address.toLowerCase() === recipient.toLowerCase());
    // Not an account's address: it may still be an alias of one.
    add(owners.length > 0 ? owners.map((a) => a.user.toLowerCase()) : everyAccount, (account) => ({ account, scope: 'inbox' }));
  };

  // Per session: the recipients it names, delivered only if it also sends the message.
  const recipients = new Map<string, unknown[]>();
  const sendsMessage = new Set<string>();
  for (const step of [...scenario.steps, ...scenario.cleanup]) {
    const decl = step.session === undefined ? undefined : scenario.sessions[step.session];
    const sessionAccounts = decl === undefined ? everyAccount : [userOf(decl.account)];
    if (typeof step.with !== 'object' || step.with === null || Array.isArray(step.with)) {
      // `with` as one `${…}`: nothing is known of it.
      add(sessionAccounts, (account) => ({ account, scope: 'account' }));
      continue;
    }
    const params = step.with as Record<string, unknown>;
    const use = stepUse(step.action, params, decl?.protocol);
    const role = params.account;
    const accounts =
      !use.onAccountParam || role === undefined ? sessionAccounts : typeof role === 'string' && !role.includes('${') ? [userOf(role)] : everyAccount;
    if (!use.known) add(accounts, (account) => ({ account, scope: 'account' }));
    for (const scope of use.fixed) add(accounts, (account) => ({ account, scope }));
    for (const value of use.mailboxes) add(accounts, (account) => mailboxClaim(account, value));
    for (const r of use.delivers) deliverTo(r);
    if (step.session !== undefined && use.recipient !== undefined) recipients.set(step.session, [...(recipients.get(step.session) ?? []), use.recipient]);
    if (step.session !== undefined && use.sendsMessage) sendsMessage.add(step.session);
  }
  for (const session of sendsMessage) for (const r of recipients.get(session) ?? []) deliverTo(r);

  return { claims: dedupe(claims), connections: peakConnections(scenario, target) };
}

function mailboxClaim(account: string, value: unknown): Claim {
  if (typeof value !== 'string' || value.includes('${')) return { account, scope: 'account' };
  if (value.toUpperCase() === 'INBOX') return { account, scope: 'inbox' };
  if (value.startsWith('\\')) return { account, scope: 'special', name: value };
  return { account, scope: 'folder', path: value.replace(/^\/+|\/+$/g, '') };
}

function dedupe(claims: readonly Claim[]): Claim[] {
  const seen = new Map<string, Claim>();
  for (const claim of claims) seen.set(JSON.stringify(claim), claim);
  return [...seen.values()];
}

/** The most connections each host sees at once from this scenario: max of its steps and its cleanup. */
function peakConnections(scenario: Scenario, target: RunTarget): Map<string, number> {
  const steps = phasePeak(scenario, scenario.steps, target);
  const cleanup = phasePeak(scenario, scenario.cleanup, target);
  const peak = new Map(steps);
  for (const [host, n] of cleanup) peak.set(host, Math.max(peak.get(host) ?? 0, n));
  return peak;
}

function phasePeak(scenario: Scenario, steps: readonly Step[], target: RunTarget): Map<string, number> {
  const hostOfEndpoint = (name: string): string | undefined => {
    const endpoint = target.endpoints[name as keyof RunTarget['endpoints']];
    return endpoint === undefined ? undefined : hostKey(endpoint.host);
  };
  const extra = new Map<string, number>();
  /** Sessions the phase uses, and whether a raw connection goes beside one. */
  const sessions = new Map<string, boolean>();
  for (const step of steps) {
    const decl = step.session === undefined ? undefined : scenario.sessions[step.session];
    const params = typeof step.with === 'object' && step.with !== null ? (step.with as Record<string, unknown>) : {};
    const use = stepUse(step.action, params, decl?.protocol);
    if (step.session !== undefined) sessions.set(step.session, (sessions.get(step.session) ?? false) || use.raw);
    const endpoint = use.ownEndpoint ?? decl?.endpoint;
    const host = endpoint === undefined ? undefined : hostOfEndpoint(endpoint);
    if (host !== undefined) extra.set(host, Math.max(extra.get(host) ?? 0, use.extraConnections));
  }
  const peak = new Map<string, number>();
  for (const [name, raw] of sessions) {
    const decl = scenario.sessions[name];
    const host = decl === undefined ? undefined : hostOfEndpoint(decl.endpoint);
    if (host !== undefined) peak.set(host, (peak.get(host) ?? 0) + (raw ? 2 : 1));
  }
  for (const [host, n] of extra) peak.set(host, (peak.get(host) ?? 0) + n);
  return peak;
}
