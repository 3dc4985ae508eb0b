import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImapProxy } from '../../fixtures/servers/imap-proxy.js';
import { loadTargetFile } from '../../src/target/index.js';
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

/**
 * Without mutations the proxy must be invisible: everything an IMAP client
 * does through it works as against Dovecot itself, and the bytes are the
 * server's own except for the capabilities the proxy always hides.
 */
describe('IMAP proxy without mutations', () => {
  let lab: LabImap;
  let proxy: ImapProxy;
  let control: ImapFlow;
  const prefix = testPrefix();

  beforeAll(async () => {
    lab = await labImap();
    proxy = await startProxy(lab);
    control = await directClient(lab);
    await control.mailboxCreate(prefix);
  });

  afterAll(async () => {
    await proxy?.close();
    if (control) await dropTestFolders(control, prefix);
    await closeAll(control);
  });

  it('sends the server greeting and FETCH bytes unchanged, minus STARTTLS/LOGINDISABLED', async () => {
    const uid = await appendUid(control, prefix, testMessage(prefix, 'bytes'));
    const direct = await RawImap.direct(lab);
    const proxied = await RawImap.proxied(proxy);
    try {
      expect(proxied.greeting).toMatch(/^\* OK /);
      expect(proxied.greeting).toBe(direct.greeting.replace(/ (STARTTLS|LOGINDISABLED)(?=[ \]])/g, ''));
      await direct.login(lab);
      await proxied.login(lab);
      await direct.command(`EXAMINE "${prefix}"`);
      await proxied.command(`EXAMINE "${prefix}"`);
      const fetch = `UID FETCH ${uid} (UID RFC822.SIZE BODY.PEEK[] BODY.PEEK[HEADER.FIELDS (SUBJECT)])`;
      const viaProxy = await proxied.command(fetch);
      const straight = await direct.command(fetch);
      expect(viaProxy.text).toMatch(/BODY\[\] \{\d+\}\r\n/);
      // Byte for byte up to the tagged line; that line only without Dovecot's timing note ("(0.001 + 0.000 secs)"),
      // which differs between two runs of the same command on a busy machine.
      const untagged = (r: { bytes: Buffer; tagged: string }) => r.bytes.subarray(0, r.bytes.length - Buffer.byteLength(`${r.tagged}\r\n`, 'latin1'));
      const withoutTiming = (tagged: string) => tagged.replace(/ \([0-9.]+(?: \+ [0-9.]+)* secs\)\.?$/, '');
      expect(untagged(viaProxy).equals(untagged(straight))).toBe(true);
      expect(untagged(viaProxy).length).toBeGreaterThan(0);
      expect(withoutTiming(viaProxy.tagged)).toBe(withoutTiming(straight.tagged));
      expect(withoutTiming(viaProxy.tagged)).toMatch(/^R\d+ OK /);
      const caps = await proxied.command('CAPABILITY');
      expect(caps.text).not.toMatch(/\b(STARTTLS|LOGINDISABLED)\b/);
      expect(caps.text).toMatch(/^\* CAPABILITY .*\bIDLE\b.*\r\n/m);
    } finally {
      await Promise.all([direct.close(), proxied.close()]);
    }
  });

  it('passes synchronizing literals: the server, not the proxy, sends the continuation', async () => {
    const raw = await RawImap.proxied(proxy);
    try {
      await raw.login(lab);
      const folder = `${prefix}/literal name`;
      const create = raw.begin(`CREATE {${Buffer.byteLength(folder)}}`);
      expect(await raw.waitFor(/\r\n/)).toMatch(/^\+ /);
      raw.write(`${folder}\r\n`);
      expect(await raw.finish(create)).toMatch(new RegExp(`^${create} OK `, 'm'));

      const message = testMessage(prefix, 'sync-literal');
      const append = raw.begin(`APPEND {${Buffer.byteLength(folder)}}`);
      await raw.waitFor(/^\+ [^\r\n]*\r\n/);
      raw.write(`${folder} (\\Seen) {${message.length}}\r\n`);
      await raw.waitFor(/^\+ [^\r\n]*\r\n/);
      raw.write(Buffer.concat([message, Buffer.from('\r\n')]));
      expect(await raw.finish(append)).toMatch(new RegExp(`^${append} OK `, 'm'));

      const status = await raw.command(`STATUS "${folder}" (MESSAGES)`);
      expect(status.text).toMatch(/\(MESSAGES 1\)/);
    } finally {
      await raw.close();
    }
  });

  it('lets two clients list, create and delete folders', async () => {
    const a = await proxiedClient(lab, proxy);
    const b = await proxiedClient(lab, proxy);
    try {
      expect((await a.list()).map((m) => m.path)).toContain('INBOX');
      const folder = `${prefix}/made-by-a`;
      await a.mailboxCreate(folder);
      expect((await b.list()).map((m) => m.path)).toContain(folder);
      await a.mailboxDelete(folder);
      expect((await b.list()).map((m) => m.path)).not.toContain(folder);
    } finally {
      await closeAll(a, b);
    }
  });

  it('round-trips an appended message byte-identical, and shares flags between clients', async () => {
    const a = await proxiedClient(lab, proxy);
    const b = await proxiedClient(lab, proxy);
    try {
      const sent = testMessage(prefix, 'roundtrip');
      const uid = await appendUid(a, prefix, sent, ['\\Seen']);
      await a.mailboxOpen(prefix);
      const fetched = await a.fetchOne(String(uid), { source: true, flags: true }, { uid: true });
      expect(fetched && fetched.source?.equals(sent)).toBe(true);
      expect(fetched && storedFlags(fetched.flags)).toEqual(['\\Seen']);

      await a.messageFlagsAdd(String(uid), ['\\Flagged'], { uid: true });
      await b.mailboxOpen(prefix);
      const seen = await b.fetchOne(String(uid), { flags: true }, { uid: true });
      expect(seen && storedFlags(seen.flags)).toEqual(['\\Flagged', '\\Seen']);
    } finally {
      await closeAll(a, b);
    }
  });

  it('delivers EXISTS to an IDLE-ing client when another client appends', async () => {
    const a = await proxiedClient(lab, proxy);
    const b = await proxiedClient(lab, proxy);
    try {
      const before = (await a.mailboxOpen(prefix)).exists;
      const exists = new Promise<number>((resolve) => a.on('exists', (update: { count: number }) => resolve(update.count)));
      const idling = a.idle();
      await b.append(prefix, testMessage(prefix, 'idle'));
      expect(await exists).toBe(before + 1);
      await a.noop(); // breaks the IDLE
      await idling;
    } finally {
      await closeAll(a, b);
    }
  });

  it('counts its client connections and writes a target that routes IMAP through it', async () => {
    const before = proxy.connections();
    const raw = await RawImap.proxied(proxy);
    await raw.close();
    expect(proxy.connections()).toBe(before + 1);

    const dir = await mkdtemp(join(tmpdir(), 'mailprobe-imap-proxy-'));
    try {
      const file = join(dir, 'target.yaml');
      await proxy.writeTarget(file, { labTargetFile: lab.targetFile });
      const [written, original] = await Promise.all([loadTargetFile(file), loadTargetFile(lab.targetFile)]);
      expect(written.endpoints.imap).toMatchObject({ host: '127.0.0.1', port: proxy.port, security: 'none' });
      expect(written.endpoints.imaps).toBeUndefined();
      for (const name of ['smtp', 'submission', 'pop3', 'pop3s'] as const) {
        expect(written.endpoints[name]?.port, name).toBe(original.endpoints[name]?.port);
      }
      expect(Object.keys(written.accounts)).toEqual(Object.keys(original.accounts));
      expect(written.tls.caFile).toBe(original.tls.caFile);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
