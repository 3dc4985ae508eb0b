import type { ImapFlow } from 'imapflow';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ImapMutations } from '../../fixtures/servers/imap-proxy-mutations.js';
import type { ImapProxy } from '../../fixtures/servers/imap-proxy.js';
import { dropTestFolders } from './cleanup.js';
import {
  appendUid,
  closeAll,
  directClient,
  type LabImap,
  labImap,
  proxiedClient,
  RawImap,
  startProxy,
  storedFlags,
  testMessage,
  testPrefix,
} from './lab-imap.js';
import { replaceFlags } from '../support/expect-helpers.js';

/**
 * One test per mutation, each showing the behaviour both ways on the same
 * proxy: with the flag off the lab Dovecot keeps the promise, with it on the
 * promise is broken in exactly the named way. So a scenario checking that
 * promise has something to fail against, and these tests could fail too.
 */
describe('IMAP proxy mutations', () => {
  let lab: LabImap;
  let proxy: ImapProxy;
  let control: ImapFlow;
  const prefix = testPrefix();

  const set = (flags: ImapMutations): void => {
    replaceFlags(proxy.mutations, flags);
  };

  beforeAll(async () => {
    lab = await labImap();
    proxy = await startProxy(lab);
    control = await directClient(lab);
    await control.mailboxCreate(prefix);
  });

  afterEach(() => set({}));

  afterAll(async () => {
    await proxy?.close();
    if (control) await dropTestFolders(control, prefix);
    await closeAll(control);
  });

  /** A message's stored flags as Dovecot itself reports them, bypassing the proxy. */
  async function flagsOnServer(uid: number): Promise<string[]> {
    // A fresh SELECT, so messages appended since the last one are known to the session.
    await control.mailboxOpen(prefix);
    const message = await control.fetchOne(String(uid), { flags: true }, { uid: true });
    if (!message) throw new Error(`UID ${uid} not found in ${prefix}`);
    return storedFlags(message.flags);
  }

  it('hideFoldersCreatedElsewhere: a folder created on A is listed on A but not on B', async () => {
    const a = await proxiedClient(lab, proxy);
    const b = await proxiedClient(lab, proxy);
    try {
      set({ hideFoldersCreatedElsewhere: true });
      const folder = `${prefix}/x`;
      await a.mailboxCreate(folder);
      expect((await a.list()).map((m) => m.path)).toContain(folder);
      expect((await b.list()).map((m) => m.path)).not.toContain(folder);
      expect((await control.list()).map((m) => m.path)).toContain(folder);

      // Names sent as a literal, and RENAME targets, count as created too; the proxy compares raw names.
      const raw = await RawImap.proxied(proxy);
      try {
        await raw.login(lab);
        const literalName = `${prefix}/lit`;
        expect((await raw.command(`CREATE {${literalName.length}+}\r\n${literalName}`)).tagged).toMatch(/ OK /);
        const renamed = `${prefix}/renamed`;
        expect((await raw.command(`RENAME "${literalName}" ${renamed}`)).tagged).toMatch(/ OK /);
        expect((await a.list()).map((m) => m.path)).not.toContain(renamed);
        expect((await raw.command(`LIST "" "${prefix}/*"`)).text).toContain(renamed);
      } finally {
        await raw.close();
      }

      set({});
      expect((await b.list()).map((m) => m.path)).toEqual(expect.arrayContaining([folder, `${prefix}/renamed`]));
    } finally {
      await closeAll(a, b);
    }
  });

  it('stripDraftOnAppend: \\Draft given at APPEND is not stored, other flags are', async () => {
    const a = await proxiedClient(lab, proxy);
    try {
      const plain = await appendUid(a, prefix, testMessage(prefix, 'draft-kept'), ['\\Draft', '\\Seen']);
      expect(await flagsOnServer(plain)).toEqual(['\\Draft', '\\Seen']);

      set({ stripDraftOnAppend: true });
      const stripped = await appendUid(a, prefix, testMessage(prefix, 'draft-lost'), ['\\Draft', '\\Seen']);
      expect(await flagsOnServer(stripped)).toEqual(['\\Seen']);
    } finally {
      await closeAll(a);
    }
  });

  it('corruptFetchedBody: the fetched source differs in exactly one octet, same length', async () => {
    const sent = testMessage(prefix, 'corrupt');
    const uid = await appendUid(control, prefix, sent);
    const a = await proxiedClient(lab, proxy);
    try {
      await a.mailboxOpen(prefix);
      const fetch = async (): Promise<Buffer> => {
        const message = await a.fetchOne(String(uid), { source: true }, { uid: true });
        if (!message || !message.source) throw new Error(`UID ${uid} has no source`);
        return message.source;
      };
      expect((await fetch()).equals(sent)).toBe(true);

      set({ corruptFetchedBody: true });
      const got = await fetch();
      expect(got.length).toBe(sent.length);
      const differing = [...got].filter((byte, i) => byte !== sent[i]).length;
      expect(differing).toBe(1);
    } finally {
      await closeAll(a);
    }
  });

  it('swallowIdleNotifications: no EXISTS while IDLE, but the next NOOP shows the new count', async () => {
    const folder = `${prefix}/idle`;
    await control.mailboxCreate(folder);
    const watcher = await RawImap.direct(lab);
    const idler = await RawImap.proxied(proxy);
    try {
      await watcher.login(lab);
      await idler.login(lab);
      const selected = await idler.command(`SELECT "${folder}"`);
      expect(selected.text).toMatch(/^\* 0 EXISTS\r$/m);
      await watcher.command(`SELECT "${folder}"`);

      // Without the mutation the EXISTS arrives during IDLE.
      let idleTag = await idler.startIdle();
      await control.append(folder, testMessage(prefix, 'idle-1'));
      await idler.waitFor(/\* 1 EXISTS\r\n/);
      await idler.endIdle(idleTag);

      set({ swallowIdleNotifications: true });
      idleTag = await idler.startIdle();
      const watcherIdle = await watcher.startIdle();
      await control.append(folder, testMessage(prefix, 'idle-2'));
      // The direct watcher proves Dovecot has pushed the update; the proxied idler then still sees nothing.
      await watcher.waitFor(/\* 2 EXISTS\r\n/);
      expect(await idler.collectFor(1500)).not.toMatch(/EXISTS/);
      expect(await idler.endIdle(idleTag)).not.toMatch(/EXISTS/);
      await watcher.endIdle(watcherIdle);
      expect((await idler.command('NOOP')).text).toMatch(/^\* 2 EXISTS\r$/m);
    } finally {
      await Promise.all([watcher.close(), idler.close()]);
    }
  });

  it('dropFlagUpdates: STORE is answered OK but the other client never sees \\Flagged', async () => {
    const uid = await appendUid(control, prefix, testMessage(prefix, 'flags'));
    const a = await proxiedClient(lab, proxy);
    const b = await proxiedClient(lab, proxy);
    try {
      await a.mailboxOpen(prefix);
      await b.mailboxOpen(prefix);
      const flagsOnB = async (): Promise<string[]> => {
        const message = await b.fetchOne(String(uid), { flags: true }, { uid: true });
        if (!message) throw new Error(`B cannot see UID ${uid}`);
        return storedFlags(message.flags);
      };

      set({ dropFlagUpdates: true });
      expect(await a.messageFlagsAdd(String(uid), ['\\Flagged'], { uid: true })).toBe(true);
      expect(await flagsOnB()).not.toContain('\\Flagged');
      expect(await flagsOnServer(uid)).toEqual([]);

      set({});
      await a.messageFlagsAdd(String(uid), ['\\Flagged'], { uid: true });
      expect(await flagsOnB()).toContain('\\Flagged');
    } finally {
      await closeAll(a, b);
    }
  });

  it('hideMove: MOVE leaves every capability list and UID MOVE is answered BAD', async () => {
    const probe = async (): Promise<{ caps: string; move: string }> => {
      const raw = await RawImap.proxied(proxy);
      try {
        const login = await raw.command(`LOGIN "${lab.user}" "${lab.password}"`);
        const caps = await raw.command('CAPABILITY');
        await raw.command(`SELECT "${prefix}"`);
        // A UID no message has: without the mutation Dovecot accepts it and moves nothing.
        const move = await raw.command(`UID MOVE 4000000000 "${prefix}"`);
        return { caps: `${raw.greeting}${login.tagged}\n${caps.text}`, move: move.tagged };
      } finally {
        await raw.close();
      }
    };
    const plain = await probe();
    expect(plain.caps).toMatch(/\bMOVE\b/);
    expect(plain.move).toMatch(/^R\d+ OK /);

    set({ hideMove: true });
    const hidden = await probe();
    expect(hidden.caps).toMatch(/CAPABILITY IMAP4rev1/);
    expect(hidden.caps).not.toMatch(/\bMOVE\b/);
    expect(hidden.move).toMatch(/^R\d+ BAD Unknown command$/);
  });

  it('stripUidNext: SELECT answers without [UIDNEXT], and still with [UIDVALIDITY]', async () => {
    const select = async (): Promise<string> => {
      const raw = await RawImap.proxied(proxy);
      try {
        await raw.login(lab);
        return (await raw.command(`SELECT "${prefix}"`)).text;
      } finally {
        await raw.close();
      }
    };
    expect(await select()).toMatch(/^\* OK \[UIDNEXT \d+\]/m);
    set({ stripUidNext: true });
    const stripped = await select();
    expect(stripped).not.toMatch(/UIDNEXT/);
    expect(stripped).toMatch(/^\* OK \[UIDVALIDITY \d+\]/m);
  });

  it("dropUnsolicitedFetch: another session's NOOP carries no FETCH, but its own UID FETCH shows the change", async () => {
    const uid = await appendUid(control, prefix, testMessage(prefix, 'unsolicited'));
    const a = await RawImap.proxied(proxy);
    const b = await RawImap.proxied(proxy);
    try {
      for (const raw of [a, b]) {
        await raw.login(lab);
        await raw.command(`SELECT "${prefix}"`);
      }
      set({ dropUnsolicitedFetch: true });
      expect((await a.command(`UID STORE ${uid} +FLAGS (\\Flagged)`)).text, "the acting session's own FETCH stays").toMatch(/FETCH .*\\Flagged/);
      expect((await b.command('NOOP')).text).not.toMatch(/FETCH/);
      expect((await b.command(`UID FETCH ${uid} (FLAGS)`)).text).toMatch(/FETCH .*\\Flagged/);

      set({});
      await a.command(`UID STORE ${uid} +FLAGS (\\Answered)`);
      expect((await b.command('NOOP')).text).toMatch(/^\* \d+ FETCH .*\\Answered/m);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('moveIsCopy: UID MOVE is answered OK but the source keeps the message', async () => {
    const destination = `${prefix}/copy-dest`;
    await control.mailboxCreate(destination);
    const moveAndLook = async (): Promise<{ move: string; left: string }> => {
      const uid = await appendUid(control, prefix, testMessage(prefix, 'move'));
      const raw = await RawImap.proxied(proxy);
      try {
        await raw.login(lab);
        await raw.command(`SELECT "${prefix}"`);
        const move = await raw.command(`UID MOVE ${uid} "${destination}"`);
        const left = await raw.command(`UID SEARCH UID ${uid}`);
        return { move: move.tagged, left: left.text.includes(`* SEARCH ${uid}`) ? 'kept' : 'gone' };
      } finally {
        await raw.close();
      }
    };
    expect(await moveAndLook()).toEqual({ move: expect.stringMatching(/^R\d+ OK /), left: 'gone' });
    set({ moveIsCopy: true });
    expect(await moveAndLook()).toEqual({ move: expect.stringMatching(/^R\d+ OK /), left: 'kept' });
  });

  it('hideSpecialUse: no SPECIAL-USE capability and no \\Drafts attribute in LIST', async () => {
    const probe = async (): Promise<string> => {
      const raw = await RawImap.proxied(proxy);
      try {
        await raw.login(lab);
        return `${(await raw.command('CAPABILITY')).text}${(await raw.command('LIST "" "*"')).text}`;
      } finally {
        await raw.close();
      }
    };
    const plain = await probe();
    expect(plain).toMatch(/\bSPECIAL-USE\b/);
    expect(plain).toMatch(/^\* LIST \([^)]*\\Drafts[^)]*\) "\/" "?Drafts"?\r$/m);

    set({ hideSpecialUse: true });
    const hidden = await probe();
    expect(hidden).not.toMatch(/\bSPECIAL-USE\b/);
    expect(hidden).toMatch(/^\* LIST \([^)]*\) "\/" "?Drafts"?\r$/m);
    expect(hidden).not.toMatch(/\\(Drafts|Sent|Trash|Junk)\b/);
  });

  it('hideIdle: IDLE leaves the capability lists and is answered BAD', async () => {
    const probe = async (): Promise<{ caps: string; idle: string }> => {
      const raw = await RawImap.proxied(proxy);
      try {
        const login = await raw.command(`LOGIN "${lab.user}" "${lab.password}"`);
        const caps = await raw.command('CAPABILITY');
        await raw.command(`EXAMINE "${prefix}"`);
        // Dovecot itself would answer "+ idling"; startIdle resolves on that.
        const idle = proxy.mutations.hideIdle ? (await raw.command('IDLE')).tagged : await raw.endIdle(await raw.startIdle());
        return { caps: `${raw.greeting}${login.tagged}\n${caps.text}`, idle: idle.trimEnd() };
      } finally {
        await raw.close();
      }
    };
    const plain = await probe();
    expect(plain.caps).toMatch(/\bIDLE\b/);
    expect(plain.idle).toMatch(/^R\d+ OK /m);

    set({ hideIdle: true });
    const hidden = await probe();
    expect(hidden.caps).toMatch(/CAPABILITY IMAP4rev1/);
    expect(hidden.caps).not.toMatch(/\bIDLE\b/);
    expect(hidden.idle).toMatch(/^R\d+ BAD Unknown command$/);
  });
  it('refuseRepeatedDelete: a second DELETE of a name within a second is refused, a later one goes through', async () => {
    const a = await proxiedClient(lab, proxy);
    const b = await proxiedClient(lab, proxy);
    try {
      const folder = `${prefix}/again`;
      // Without the flag a quick DELETE, CREATE, DELETE is fine.
      const unflagged = `${prefix}/again-off`;
      await a.mailboxCreate(unflagged);
      await a.mailboxDelete(unflagged);
      await a.mailboxCreate(unflagged);
      await a.mailboxDelete(unflagged);

      set({ refuseRepeatedDelete: true });
      await a.mailboxCreate(folder);
      await a.mailboxDelete(folder);
      await a.mailboxCreate(folder);
      // Any connection's earlier DELETE counts, as on one Cyrus server.
      const refused = await b.mailboxDelete(folder).then(
        () => 'OK',
        (err: { responseText?: string }) => `NO ${err.responseText ?? ''}`,
      );
      expect(refused).toBe('NO Mailbox already exists');
      expect(
        (await control.list()).map((m) => m.path),
        'the refused DELETE never reached the server',
      ).toContain(folder);
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      await b.mailboxDelete(folder);
      expect((await control.list()).map((m) => m.path)).not.toContain(folder);
    } finally {
      await closeAll(a, b);
    }
  });
});
