import type { ImapFlow } from 'imapflow';

/**
 * Deletes the test's folder tree (and with it every message the test put
 * there) over a direct connection, children first: Dovecot refuses to
 * delete a folder that still has children. Only names under the test's
 * own random prefix are touched; anything left over fails loudly, since
 * the lab mailbox is shared with other tests.
 */
export async function dropTestFolders(client: ImapFlow, prefix: string): Promise<void> {
  const mine = (await client.list())
    .map((m) => m.path)
    .filter((path) => path === prefix || path.startsWith(`${prefix}/`))
    .sort((x, y) => y.split('/').length - x.split('/').length);
  for (const path of mine) await client.mailboxDelete(path);
  const left = (await client.list()).map((m) => m.path).filter((path) => path.startsWith(prefix));
  if (left.length > 0) throw new Error(`test folders left behind: ${left.join(', ')}`);
}
