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
  const entry = listed.untagged.map(listEntry).find((e) => e?.name === path);
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

/** `* LIST (\HasNoChildren) "/" name` → its attributes and name (quoted, atom or literal). */
function listEntry(response: UntaggedResponse): { attributes: string[]; name: string } | undefined {
  if (response.kind !== 'LIST') return undefined;
  const match = /^\* LIST \(([^)]*)\) (?:NIL|"(?:[^"\\]|\\.)*") (.*)$/i.exec(response.raw);
  if (!match) return undefined;
  const attributes = match[1]!.split(' ').filter((a) => a !== '');
  const token = match[2]!;
  let name = token;
  if (token.startsWith('"')) name = token.slice(1, token.lastIndexOf('"')).replace(/\\(.)/g, '$1');
  else if (/^\{\d+\}$/.test(token) && response.literals[0]) name = response.literals[0].toString('utf8');
  return { attributes, name };
}
