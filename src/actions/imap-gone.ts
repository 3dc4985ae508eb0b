import { astringPart, searchResults, type ImapRawClient, type UntaggedResponse } from '../protocols/imap/raw/index.js';

/**
 * Checks by name that what cleanup deleted is gone, on a connection of its
 * own and without asking LIST what exists: a server that hides folders from
 * other sessions would otherwise make every check pass. A folder is gone when
 * STATUS of its exact name answers NO (RFC 9051 §6.3.11) and a LIST of that
 * exact name returns nothing; a name still listed, even as \NonExistent or
 * \Noselect, still holds children this session cannot see. A message is gone
 * when UID SEARCH of its UID in its mailbox finds nothing.
 */
export type GoneVerdict = { gone: true } | { gone: false; why: string };

export async function folderGone(raw: ImapRawClient, path: string): Promise<GoneVerdict> {
  const status = await raw.command(['STATUS ', astringPart(path), ' (MESSAGES)']);
  if (status.status === 'OK') return { gone: false, why: 'still there after cleanup (STATUS answers OK)' };
  if (status.status === 'BAD') return { gone: false, why: `could not be checked (STATUS answered BAD ${status.text})` };
  const listed = await raw.command(['LIST "" ', astringPart(path)]);
  if (listed.status !== 'OK') return { gone: false, why: `could not be checked (LIST answered ${listed.status} ${listed.text})` };
  const entry = listed.untagged.map((u) => listEntry(u)).find((e) => e?.name === path);
  if (!entry) return { gone: true };
  const attributes = entry.attributes.map((a) => a.toLowerCase());
  if (['\\haschildren', '\\nonexistent', '\\noselect'].some((a) => attributes.includes(a))) {
    return { gone: false, why: `has children that this session cannot see (LIST shows it ${entry.attributes.join(' ')})` };
  }
  return { gone: false, why: `still listed after cleanup (${entry.attributes.join(' ') || 'no attributes'})` };
}

/** Whether UID `uid` is still in `mailbox` (EXAMINE, then UID SEARCH UID; nothing is changed). */
export async function messageGone(raw: ImapRawClient, mailbox: string, uid: number): Promise<GoneVerdict> {
  const opened = await raw.command(['EXAMINE ', astringPart(mailbox)]);
  // The mailbox itself is gone, and the message with it.
  if (opened.status === 'NO') return { gone: true };
  if (opened.status !== 'OK') return { gone: false, why: `could not be checked (EXAMINE ${mailbox} answered ${opened.status} ${opened.text})` };
  const search = await raw.command(`UID SEARCH UID ${uid}`);
  if (search.status !== 'OK') return { gone: false, why: `could not be checked (UID SEARCH answered ${search.status} ${search.text})` };
  const hits = searchResults(search.untagged);
  return hits.includes(uid) ? { gone: false, why: `still in '${mailbox}' as UID ${uid} after cleanup` } : { gone: true };
}

/**
 * The subscriptions whose names match `pattern` (LSUB, RFC 3501 §6.3.9; on a
 * server that refuses LSUB, LIST (SUBSCRIBED), which RFC 9051 §6.3.7 names as
 * what returns the subscribed set), or a reason they could not be read. A
 * subscription outlives its folder, so LIST cannot show one left behind.
 */
export async function subscribedNames(raw: ImapRawClient, pattern: string): Promise<{ names: string[] } | { why: string }> {
  return subscriptionReader(raw)(pattern);
}

export type SubscriptionReader = (pattern: string) => Promise<{ names: string[] } | { why: string }>;

/**
 * subscribedNames for many patterns on one connection: once LSUB has been
 * refused and LIST (SUBSCRIBED) answered instead, the rest go straight to LIST
 * (SUBSCRIBED), rather than sending a command the server has already refused
 * before every name.
 */
export function subscriptionReader(raw: ImapRawClient): SubscriptionReader {
  let lsubRefused: string | undefined;
  return async (pattern) => {
    if (lsubRefused === undefined) {
      const lsub = await raw.command(['LSUB "" ', astringPart(pattern)]);
      if (lsub.status === 'OK') return { names: lsub.untagged.map((u) => listEntry(u, 'LSUB')?.name).filter((n): n is string => n !== undefined) };
      const list = await listSubscribed(raw, pattern);
      if ('why' in list) return { why: `could not be checked (LSUB answered ${lsub.status} ${lsub.text}; ${list.why})` };
      lsubRefused = `${lsub.status} ${lsub.text}`;
      return list;
    }
    const list = await listSubscribed(raw, pattern);
    return 'why' in list ? { why: `could not be checked (LSUB answered ${lsubRefused} before; ${list.why})` } : list;
  };
}

async function listSubscribed(raw: ImapRawClient, pattern: string): Promise<{ names: string[] } | { why: string }> {
  const list = await raw.command(['LIST (SUBSCRIBED) "" ', astringPart(pattern)]);
  if (list.status !== 'OK') return { why: `LIST (SUBSCRIBED) answered ${list.status} ${list.text}` };
  const names = list.untagged
    .map((u) => listEntry(u, 'LIST'))
    .filter((e) => e?.attributes.some((a) => a.toLowerCase() === '\\subscribed'))
    .map((e) => e!.name);
  return { names };
}

/** Whether the subscription to exactly this name is gone, asked by that name on a connection of its own. */
export async function subscriptionGone(raw: ImapRawClient, path: string, read: SubscriptionReader = subscriptionReader(raw)): Promise<GoneVerdict> {
  // An exact name with no wildcard matches only itself; a name that holds one is checked by equality below.
  const found = await read(path);
  if ('why' in found) return { gone: false, why: found.why };
  return found.names.includes(path) ? { gone: false, why: 'still subscribed after cleanup (LSUB lists it)' } : { gone: true };
}

/** `* LIST (\HasNoChildren) "/" name` (or `* LSUB …`) → its attributes and name (quoted, atom or literal). */
function listEntry(response: UntaggedResponse, kind: 'LIST' | 'LSUB' = 'LIST'): { attributes: string[]; name: string } | undefined {
  if (response.kind !== kind) return undefined;
  const match = new RegExp(`^\\* ${kind} \\(([^)]*)\\) (?:NIL|"(?:[^"\\\\]|\\\\.)*") (.*)$`, 'i').exec(response.raw);
  if (!match) return undefined;
  const attributes = match[1]!.split(' ').filter((a) => a !== '');
  const token = match[2]!;
  let name = token;
  if (token.startsWith('"')) name = token.slice(1, token.lastIndexOf('"')).replace(/\\(.)/g, '$1');
  else if (/^\{\d+\}$/.test(token) && response.literals[0]) name = response.literals[0].toString('utf8');
  return { attributes, name };
}
