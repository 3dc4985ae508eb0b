/**
 * What a scenario holds while it runs, read statically from its YAML, so that
 * `--concurrency N` runs side by side only scenarios that cannot disturb each
 * other (issue 10 §6). Nearly every shipped suite uses the account `primary`,
 * so a lock per account would make any N serial; the claims are finer:
 *
 * - the INBOX of an account: a pop3 session or pop3.stls on it (POP3 works on
 *   the maildrop, which is the INBOX, and RFC 1939 lets the server hold an
 *   exclusive lock on it from login to QUIT, so a second POP3 login would get
 *   -ERR [IN-USE]); mail delivered to it (smtp.send `to`, and the smtp.rcpt
 *   recipients of a session that sends smtp.data, or smtp.pipeline `to`:
 *   a recipient of the form `${accounts.R.address}`, or the literal address of
 *   an account); an imap action naming INBOX; pop3.cleanup and imap.cleanup,
 *   which sweep INBOX for run mail (the run id is shared by every scenario of
 *   the run, so one scenario's sweep would take another's message in flight);
 * - one special-use mailbox (`\Drafts`), or all of them (imap.cleanup sweeps them);
 * - one folder under the run's root, and its subfolders: two scenarios naming
 *   the same folder (or one inside the other) never overlap;
 * - the run's whole folder tree: imap.list (which sees every run folder) and
 *   imap.cleanup (which deletes the run's root and every folder LIST shows under it);
 * - the whole account: anything not classified here (an action this table does
 *   not know, a mailbox named through `${…}`, `with` given as one interpolation),
 *   and, for a recipient that is neither of the above, every account (it may be
 *   an alias). Unknown is exclusive: the safe default.
 *
 * Accounts are told apart by their user (two roles may be one mailbox).
 * Beside the locks, each scenario's peak number of connections per host, for
 * the connection budget: every session its steps use (plus the raw IMAP
 * connection beside it when a raw action uses one), plus the most any one
 * step opens besides (a poll, a cleanup session, smtp.send's own connection);
 * the same for its cleanup, which runs after the steps' sessions are closed.
 * An action not in the table counts as needing the whole budget (it runs
 * alone on that host).
 */
import type { RunTarget } from '../actions/run-target.js';
import { hostKey } from '../transport/budget.js';
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

/** "INBOX of probe@example.com", for the schedule's log. */
export function describeClaim(claim: Claim): string {
  switch (claim.scope) {
    case 'account':
      return `all of ${claim.account}`;
    case 'inbox':
      return `INBOX of ${claim.account}`;
    case 'specials':
      return `special-use mailboxes of ${claim.account}`;
    case 'special':
      return `${claim.name} of ${claim.account}`;
    case 'tree':
      return `run folders of ${claim.account}`;
    case 'folder':
      return `folder ${claim.path} of ${claim.account}`;
  }
}

/** Equal, or one inside the other ("a" and "a/b"): a DELETE or RENAME of one reaches the other. */
function nested(p: string, q: string): boolean {
  return p === q || p.startsWith(`${q}/`) || q.startsWith(`${p}/`);
}

/** How an imap action names what it touches: its mailbox parameters, or a fixed claim. */
type ImapUse = { readonly mailboxes: readonly string[]; readonly defaultInbox?: boolean } | { readonly fixed: readonly Claim['scope'][] };

const IMAP_USES: Readonly<Record<string, ImapUse>> = {
  'imap.capability': { fixed: [] },
  'imap.layout': { fixed: [] },
  // Logs in on the plain port after STARTTLS, reads CAPABILITY; opens no mailbox.
  'imap.starttls': { fixed: [] },
  // Waits on the mailbox its imap.idle-start opened (claimed there).
  'imap.idle-wait': { fixed: [] },
  // NOOP on what imap.raw-select opened (claimed there).
  'imap.raw-noop': { fixed: [] },
  'imap.list': { fixed: ['tree'] },
  'imap.cleanup': { fixed: ['inbox', 'specials', 'tree'] },
  'imap.append': { mailboxes: ['mailbox'] },
  'imap.count': { mailboxes: ['mailbox'] },
  'imap.expunge': { mailboxes: ['mailbox'] },
  'imap.fetch': { mailboxes: ['mailbox'] },
  'imap.find': { mailboxes: ['mailbox'] },
  'imap.flags': { mailboxes: ['mailbox'] },
  'imap.flags-of': { mailboxes: ['mailbox'] },
  'imap.noop': { mailboxes: ['mailbox'] },
  'imap.select': { mailboxes: ['mailbox'] },
  'imap.raw-select': { mailboxes: ['mailbox'] },
  'imap.move': { mailboxes: ['mailbox', 'to'] },
  'imap.raw-move': { mailboxes: ['mailbox', 'to'] },
  'imap.idle-start': { mailboxes: ['mailbox'], defaultInbox: true },
  'imap.wait-for': { mailboxes: ['mailbox'], defaultInbox: true },
  'imap.create': { mailboxes: ['folder'] },
  'imap.delete': { mailboxes: ['folder'] },
  'imap.subscribe': { mailboxes: ['folder'] },
  'imap.recreate-check': { mailboxes: ['folder'] },
  'imap.rename': { mailboxes: ['folder', 'to'] },
  'imap.special-use': { mailboxes: ['use'] },
};

/** SMTP steps that deliver nothing by themselves (RCPT alone is no delivery: only DATA is). */
const SMTP_QUIET = new Set(['smtp.ehlo', 'smtp.auth', 'smtp.mail', 'smtp.rcpt', 'smtp.rset', 'smtp.noop', 'smtp.quit', 'smtp.starttls', 'smtp.mail-without-login']);

/** POP3 steps that need nothing beyond their session's claim on the INBOX. */
const POP3_KNOWN = new Set([
  'pop3.capa',
  'pop3.stat',
  'pop3.list',
  'pop3.uidl',
  'pop3.find',
  'pop3.top',
  'pop3.retr',
  'pop3.dele',
  'pop3.rset',
  'pop3.noop',
  'pop3.quit',
  'pop3.drop',
  'pop3.wait-for',
  'pop3.observe',
  'pop3.cleanup',
]);

/** Connections a step opens besides its session's own (at most at once); absent: none. */
const EXTRA_CONNECTIONS: Readonly<Record<string, number>> = {
  'smtp.send': 1,
  'smtp.starttls': 1,
  'pop3.wait-for': 1,
  'pop3.observe': 1,
  'pop3.cleanup': 1,
  'pop3.stls': 2,
  'imap.starttls': 2,
  'imap.cleanup': 1,
};

/** Actions that use the raw IMAP connection beside their session's. */
const RAW_IMAP = new Set(['imap.raw-select', 'imap.raw-noop', 'imap.raw-move', 'imap.cleanup']);

/** Actions that connect to an endpoint of their own (`endpoint` parameter, with its default). */
const OWN_ENDPOINT: Readonly<Record<string, string>> = {
  'smtp.send': 'submission',
  'smtp.starttls': 'submission',
  'pop3.stls': 'pop3',
  'imap.starttls': 'imap',
};

const KNOWN = new Set([...Object.keys(IMAP_USES), ...SMTP_QUIET, ...POP3_KNOWN, 'smtp.send', 'smtp.data', 'smtp.pipeline', 'pop3.stls']);

/** The actions this module classifies; any other takes its whole account (a test keeps the list complete). */
export const CLASSIFIED_ACTIONS: ReadonlySet<string> = KNOWN;

export function scenarioClaims(scenario: Scenario, target: RunTarget): ScenarioClaims {
  const claims: Claim[] = [];
  const everyAccount = [...new Set(Object.values(target.accounts).map((a) => a.user.toLowerCase()))];
  const userOf = (role: string): string => target.accounts[role]?.user.toLowerCase() ?? `role:${role}`;
  const sessionAccount = (step: Step): string[] => {
    const decl = step.session === undefined ? undefined : scenario.sessions[step.session];
    return decl === undefined ? everyAccount : [userOf(decl.account)];
  };
  const roleParam = (params: Record<string, unknown>, step: Step): string[] =>
    typeof params.account === 'string' && !params.account.includes('${') ? [userOf(params.account)] : typeof params.account === 'string' ? everyAccount : sessionAccount(step);
  const add = (accounts: readonly string[], claim: (account: string) => Claim) => {
    for (const account of accounts) claims.push(claim(account));
  };
  const deliverTo = (recipient: unknown) => {
    if (typeof recipient !== 'string') return add(everyAccount, (account) => ({ account, scope: 'account' }));
    const role = /^\$\{\s*accounts\.([A-Za-z0-9_-]+)\.address\s*\}$/.exec(recipient)?.[1];
    if (role !== undefined) return add([userOf(role)], (account) => ({ account, scope: 'inbox' }));
    if (recipient.includes('${')) return add(everyAccount, (account) => ({ account, scope: 'account' }));
    const owners = Object.values(target.accounts).filter((a) => a.address.toLowerCase() === recipient.toLowerCase());
    // Not an account's address: it may still be an alias of one.
    add(owners.length > 0 ? owners.map((a) => a.user.toLowerCase()) : everyAccount, (account) => ({ account, scope: 'inbox' }));
  };

  // Per SMTP session: its RCPT recipients, delivered only if the session sends DATA.
  const recipients = new Map<string, unknown[]>();
  const sendsData = new Set<string>();
  for (const step of [...scenario.steps, ...scenario.cleanup]) {
    const params = step.with;
    const accounts = sessionAccount(step);
    if (typeof params !== 'object' || params === null || Array.isArray(params)) {
      // `with` as one `${…}`: nothing is known of it.
      add(accounts, (account) => ({ account, scope: 'account' }));
      continue;
    }
    const p = params as Record<string, unknown>;
    const decl = step.session === undefined ? undefined : scenario.sessions[step.session];
    if (decl?.protocol === 'pop3' || step.action === 'pop3.stls') add(step.action === 'pop3.stls' ? roleParam(p, step) : accounts, (account) => ({ account, scope: 'inbox' }));
    if (!KNOWN.has(step.action)) {
      add(accounts, (account) => ({ account, scope: 'account' }));
      continue;
    }
    if (step.action === 'smtp.send') for (const r of asList(p.to)) deliverTo(r);
    if (step.action === 'smtp.pipeline') for (const r of asList(p.to)) deliverTo(r);
    if (step.action === 'smtp.rcpt' && step.session !== undefined) recipients.set(step.session, [...(recipients.get(step.session) ?? []), p.to]);
    if (step.action === 'smtp.data' && step.session !== undefined) sendsData.add(step.session);
    const use = IMAP_USES[step.action];
    if (use === undefined) continue;
    const imapAccounts = step.action === 'imap.recreate-check' || step.action === 'imap.starttls' ? roleParam(p, step) : accounts;
    if ('fixed' in use) {
      for (const scope of use.fixed) add(imapAccounts, (account) => ({ account, scope }) as Claim);
      continue;
    }
    for (const name of use.mailboxes) {
      const value = p[name] ?? (use.defaultInbox === true && name === 'mailbox' ? 'INBOX' : undefined);
      // A move's or rename's target is optional in no action; absent, the action fails before it touches anything.
      if (value === undefined && name === 'to') continue;
      add(imapAccounts, (account) => mailboxClaim(account, value));
    }
  }
  for (const session of sendsData) for (const r of recipients.get(session) ?? []) deliverTo(r);

  return { claims: dedupe(claims), connections: peakConnections(scenario, target) };
}

function mailboxClaim(account: string, value: unknown): Claim {
  if (typeof value !== 'string' || value.includes('${')) return { account, scope: 'account' };
  if (value.toUpperCase() === 'INBOX') return { account, scope: 'inbox' };
  if (value.startsWith('\\')) return { account, scope: 'special', name: value };
  return { account, scope: 'folder', path: value.replace(/^\/+|\/+$/g, '') };
}

function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
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
  const held = new Map<string, number>();
  const extra = new Map<string, number>();
  const sessions = new Map<string, boolean>();
  for (const step of steps) {
    if (step.session !== undefined) sessions.set(step.session, (sessions.get(step.session) ?? false) || RAW_IMAP.has(step.action));
    const own = OWN_ENDPOINT[step.action];
    const params = typeof step.with === 'object' && step.with !== null ? (step.with as Record<string, unknown>) : {};
    const endpoint = own === undefined ? undefined : typeof params.endpoint === 'string' ? params.endpoint : own;
    const decl = step.session === undefined ? undefined : scenario.sessions[step.session];
    const host = endpoint !== undefined ? hostOfEndpoint(endpoint) : decl !== undefined ? hostOfEndpoint(decl.endpoint) : undefined;
    if (host === undefined) continue;
    const n = KNOWN.has(step.action) ? (EXTRA_CONNECTIONS[step.action] ?? 0) : Number.POSITIVE_INFINITY;
    extra.set(host, Math.max(extra.get(host) ?? 0, n));
  }
  for (const [name, raw] of sessions) {
    const decl = scenario.sessions[name];
    const host = decl === undefined ? undefined : hostOfEndpoint(decl.endpoint);
    if (host !== undefined) held.set(host, (held.get(host) ?? 0) + (raw ? 2 : 1));
  }
  const peak = new Map(held);
  for (const [host, n] of extra) peak.set(host, (peak.get(host) ?? 0) + n);
  return peak;
}
