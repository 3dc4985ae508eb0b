import type { FetchMessageObject, ListResponse, MailboxObject, NamespaceObject } from 'imapflow';

/**
 * What the IMAP session's named commands hand back, in mailprobe's own plain
 * types: the actions read these and never imapflow's objects, so the library
 * under the session can change (or go, see README "Design notes") without
 * touching an action. Big numbers imapflow keeps as bigint (UIDVALIDITY,
 * MODSEQ) are decimal strings here, as the reports show them.
 */

/** One mailbox of a LIST (with LSUB or RETURN (SUBSCRIBED) folded in). */
export interface ListedMailbox {
  readonly path: string;
  /** The hierarchy delimiter, '' for NIL. */
  readonly delimiter: string;
  /** Attributes as listed (\HasChildren, \NonExistent, …), \Subscribed folded into `subscribed`. */
  readonly flags: readonly string[];
  /** Shown by LIST (false for a name only LSUB returned). */
  readonly listed: boolean;
  readonly subscribed: boolean;
  /** RFC 6154 attribute (\Drafts, \Sent, …), and whether the server said so or the name suggested it. */
  readonly specialUse?: string;
  readonly specialUseSource?: string;
}

/** The mailbox a SELECT or EXAMINE opened, as its answer described it. Items the server did not send are absent. */
export interface SelectedMailbox {
  readonly path: string;
  readonly readOnly: boolean;
  readonly exists: number;
  readonly uidValidity?: string;
  readonly uidNext?: number;
  readonly highestModseq?: string;
}

/** A message's FETCH FLAGS (and MODSEQ with CONDSTORE). */
export interface FetchedFlags {
  readonly uid: number;
  readonly seq: number;
  readonly flags: readonly string[];
  readonly modseq?: string;
}

/** A message's bytes (BODY.PEEK[]) and flags. */
export interface FetchedSource {
  readonly uid: number;
  readonly source: Buffer;
  readonly flags: readonly string[];
}

/** APPENDUID (RFC 4315 §3), when the server gave it. */
export interface AppendResult {
  readonly uid?: number;
  readonly uidValidity?: string;
}

/** COPYUID of a MOVE (the response code of RFC 4315 §3): old UID → new UID, when the server gave it. */
export interface MoveResult {
  readonly uidMap?: ReadonlyMap<number, number>;
}

export interface Namespace {
  readonly prefix: string;
  /** Absent for NIL (a flat namespace) or when it could not be read. */
  readonly delimiter?: string;
}

const decimal = (value: bigint | number | null | undefined): string | undefined => (value === undefined || value === null ? undefined : String(value));

export function listedMailbox(m: ListResponse): ListedMailbox {
  return {
    path: m.path,
    delimiter: m.delimiter ?? '',
    flags: [...m.flags],
    listed: m.listed,
    subscribed: m.subscribed,
    ...(m.specialUse ? { specialUse: m.specialUse } : {}),
    ...(m.specialUseSource ? { specialUseSource: m.specialUseSource } : {}),
  };
}

export function selectedMailbox(m: MailboxObject): SelectedMailbox {
  const uidValidity = decimal(m.uidValidity);
  const highestModseq = decimal(m.highestModseq);
  return {
    path: m.path,
    readOnly: m.readOnly === true,
    exists: m.exists,
    ...(uidValidity !== undefined ? { uidValidity } : {}),
    ...(m.uidNext !== undefined && m.uidNext !== null ? { uidNext: m.uidNext } : {}),
    ...(highestModseq !== undefined ? { highestModseq } : {}),
  };
}

export function fetchedFlags(m: FetchMessageObject): FetchedFlags {
  const modseq = decimal(m.modseq);
  return { uid: m.uid, seq: m.seq, flags: [...(m.flags ?? [])], ...(modseq !== undefined ? { modseq } : {}) };
}

export function fetchedSource(m: FetchMessageObject): FetchedSource {
  return { uid: m.uid, source: m.source ?? Buffer.alloc(0), flags: [...(m.flags ?? [])] };
}

export function namespaceOf(ns: NamespaceObject | undefined): Namespace | undefined {
  if (ns === undefined) return undefined;
  return { prefix: ns.prefix ?? '', ...(ns.delimiter ? { delimiter: ns.delimiter } : {}) };
}
