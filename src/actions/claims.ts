/**
 * What each action touches on the server, for the scheduler of `run
 * --concurrency` (src/runner/claims.ts reads a scenario's steps through this
 * table and turns it into claims on an account's INBOX, folders, tree).
 * Actions name protocols; the runner does not, so the table lives here.
 *
 * - INBOX: a POP3 session (POP3 works on the maildrop, which is the INBOX; once
 *   the client has authenticated, RFC 1939 §4 has the server acquire "an
 *   exclusive-access lock on the maildrop" until the UPDATE state), pop3.stls
 *   (it logs in), and the cleanups (imap.cleanup sweeps INBOX for the run's mail;
 *   pop3.cleanup deletes its own recorded messages there, under the lock);
 * - deliveries: smtp.send's and smtp.pipeline's `to` (smtp.pipeline without
 *   one sends to its session's own account), and the smtp.rcpt recipients of a
 *   session that sends smtp.data (RCPT alone delivers nothing);
 * - mailbox parameters (INBOX, a special-use attribute, a folder of the run);
 * - the run's folder tree: imap.list, and imap.cleanup (it deletes the run's
 *   root and every folder LIST shows under it);
 * - an action not in this table: unknown, so the whole account.
 * Beside that, what each step opens besides its session's own connection.
 */

/** A claim an action makes whatever its parameters, on the account it works on. */
export type FixedClaim = 'inbox' | 'specials' | 'tree';

export interface StepUse {
  /** False: the action is not in this table, and takes its whole account. */
  readonly known: boolean;
  readonly fixed: readonly FixedClaim[];
  /** Parameter values that name a mailbox (INBOX, `\Drafts`, a folder; or `${…}`, not known before the run). */
  readonly mailboxes: readonly unknown[];
  /** The claims are on the account its `account` parameter names, not on its session's. */
  readonly onAccountParam: boolean;
  /** Recipients this step delivers to. */
  readonly delivers: readonly unknown[];
  /** A recipient the step's session delivers to if it also sends the message (RCPT). */
  readonly recipient?: unknown;
  /** The step sends the message its session's recipients get (DATA). */
  readonly sendsMessage: boolean;
  /** Connections the step opens besides its session's own, at most at once. */
  readonly extraConnections: number;
  /** It uses the raw IMAP connection beside its session's. */
  readonly raw: boolean;
  /** The endpoint it connects to by itself (its `endpoint` parameter or that one's default), if it does. */
  readonly ownEndpoint?: string;
}

interface Entry {
  readonly fixed?: readonly FixedClaim[];
  readonly mailboxes?: readonly string[];
  /** A mailbox parameter that defaults to INBOX when absent. */
  readonly inboxDefault?: boolean;
  readonly onAccountParam?: boolean;
  readonly delivers?: 'to';
  /** Without its `delivers` parameter the step delivers to its session's own account (not to an unknown recipient). */
  readonly deliversToSessionByDefault?: boolean;
  readonly recipient?: 'to';
  readonly sendsMessage?: boolean;
  readonly extra?: number;
  readonly raw?: boolean;
  readonly ownEndpoint?: string;
}

const TABLE: Readonly<Record<string, Entry>> = {
  'imap.capability': {},
  'imap.layout': {},
  // Logs in on the plain port after STARTTLS and reads CAPABILITY; opens no mailbox.
  'imap.starttls': { onAccountParam: true, extra: 2, ownEndpoint: 'imap' },
  // Waits on the mailbox its imap.idle-start opened (claimed there).
  'imap.idle-wait': {},
  // NOOP on what imap.raw-select opened (claimed there).
  'imap.raw-noop': { raw: true },
  'imap.list': { fixed: ['tree'] },
  'imap.cleanup': { fixed: ['inbox', 'specials', 'tree'], extra: 1, raw: true },
  'imap.append': { mailboxes: ['mailbox'] },
  'imap.count': { mailboxes: ['mailbox'] },
  'imap.expunge': { mailboxes: ['mailbox'] },
  'imap.fetch': { mailboxes: ['mailbox'] },
  'imap.find': { mailboxes: ['mailbox'] },
  'imap.flags': { mailboxes: ['mailbox'] },
  'imap.flags-of': { mailboxes: ['mailbox'] },
  'imap.noop': { mailboxes: ['mailbox'] },
  'imap.select': { mailboxes: ['mailbox'] },
  'imap.raw-select': { mailboxes: ['mailbox'], raw: true },
  'imap.move': { mailboxes: ['mailbox', 'to'] },
  'imap.raw-move': { mailboxes: ['mailbox', 'to'], raw: true },
  'imap.idle-start': { mailboxes: ['mailbox'], inboxDefault: true },
  'imap.wait-for': { mailboxes: ['mailbox'], inboxDefault: true },
  'imap.create': { mailboxes: ['folder'] },
  'imap.delete': { mailboxes: ['folder'] },
  'imap.subscribe': { mailboxes: ['folder'] },
  'imap.recreate-check': { mailboxes: ['folder'], onAccountParam: true },
  'imap.rename': { mailboxes: ['folder', 'to'] },
  'imap.special-use': { mailboxes: ['use'] },
  'pop3.capa': {},
  'pop3.stat': {},
  'pop3.list': {},
  'pop3.uidl': {},
  'pop3.find': {},
  'pop3.top': {},
  'pop3.retr': {},
  'pop3.dele': {},
  'pop3.rset': {},
  'pop3.noop': {},
  'pop3.quit': {},
  'pop3.drop': {},
  'pop3.wait-for': { extra: 1 },
  'pop3.observe': { extra: 1 },
  'pop3.cleanup': { fixed: ['inbox'], extra: 1 },
  'pop3.stls': { fixed: ['inbox'], onAccountParam: true, extra: 2, ownEndpoint: 'pop3' },
  'smtp.ehlo': {},
  'smtp.auth': {},
  'smtp.mail': {},
  'smtp.rcpt': { recipient: 'to' },
  'smtp.rset': {},
  'smtp.noop': {},
  'smtp.quit': {},
  'smtp.mail-without-login': {},
  'smtp.starttls': { extra: 1, ownEndpoint: 'submission' },
  'smtp.data': { sendsMessage: true },
  'smtp.pipeline': { delivers: 'to', deliversToSessionByDefault: true },
  'smtp.send': { delivers: 'to', extra: 1, ownEndpoint: 'submission' },
};

/** The actions this table classifies; any other takes its whole account (a test keeps the list complete). */
export const CLASSIFIED_ACTIONS: ReadonlySet<string> = new Set(Object.keys(TABLE));

/** Protocols whose sessions work on the INBOX as such (POP3's maildrop). */
const INBOX_SESSIONS = new Set(['pop3']);

export function stepUse(action: string, params: Readonly<Record<string, unknown>>, sessionProtocol: string | undefined): StepUse {
  const entry = TABLE[action];
  const sessionInbox: FixedClaim[] = sessionProtocol !== undefined && INBOX_SESSIONS.has(sessionProtocol) ? ['inbox'] : [];
  if (entry === undefined)
    return {
      known: false,
      fixed: sessionInbox,
      mailboxes: [],
      onAccountParam: false,
      delivers: [],
      sendsMessage: false,
      extraConnections: Infinity,
      raw: false,
    };
  const mailboxes = (entry.mailboxes ?? []).flatMap((name) => {
    const value = params[name] ?? (entry.inboxDefault === true && name === 'mailbox' ? 'INBOX' : undefined);
    // An absent destination (`to`) means the step fails before it touches anything.
    return value === undefined && name === 'to' ? [] : [value];
  });
  const ownEndpoint = entry.ownEndpoint === undefined ? undefined : typeof params.endpoint === 'string' ? params.endpoint : entry.ownEndpoint;
  // An absent recipient list that defaults to the session's account is that account's INBOX, not an unknown
  // recipient (which would hold every account of the target, and run the step's scenario alone).
  const toOwnInbox = entry.delivers !== undefined && entry.deliversToSessionByDefault === true && params[entry.delivers] === undefined;
  return {
    known: true,
    fixed: [...sessionInbox, ...(entry.fixed ?? []), ...(toOwnInbox ? (['inbox'] as const) : [])],
    mailboxes,
    onAccountParam: entry.onAccountParam === true,
    delivers: entry.delivers === undefined || toOwnInbox ? [] : asList(params[entry.delivers]),
    ...(entry.recipient === undefined ? {} : { recipient: params[entry.recipient] }),
    sendsMessage: entry.sendsMessage === true,
    extraConnections: entry.extra ?? 0,
    raw: entry.raw === true,
    ...(ownEndpoint === undefined ? {} : { ownEndpoint }),
  };
}

function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}
