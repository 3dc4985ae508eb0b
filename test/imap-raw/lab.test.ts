import { readFile } from 'node:fs/promises';
import { describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import type { Security } from '../../src/core/protocols.js';
import { ImapRawClient } from '../../src/protocols/imap/raw/client.js';
import { Transcript } from '../../src/transport/transcript.js';

interface LabTarget {
  host: string;
  tls: { ca_file: string; servername: string };
  endpoints: Record<string, { host?: string; port: number; security: Security }>;
}

async function labInputs(): Promise<{ target: LabTarget; ca: string; password: string }> {
  const lab = inject('lab');
  const target = parse(await readFile(lab.targetFile, 'utf8')) as LabTarget;
  const env = await readFile(lab.envFile, 'utf8');
  const password = /^MAILPROBE_LAB_PRIMARY_PASSWORD=(.*)$/m.exec(env)?.[1]?.trim();
  if (password === undefined || password === '') throw new Error(`no MAILPROBE_LAB_PRIMARY_PASSWORD in ${lab.envFile}`);
  return { target, ca: await readFile(target.tls.ca_file, 'utf8'), password };
}

/** The raw client against the lab's real Dovecot. */
describe('ImapRawClient against the lab Dovecot', () => {
  it('logs in over IMAPS, selects INBOX, NOOPs, gets OK for UID MOVE (Dovecot has MOVE), logs out', async () => {
    const { target, ca, password } = await labInputs();
    const imaps = target.endpoints['imaps'];
    if (imaps === undefined) throw new Error('the lab target has no imaps endpoint');
    const transcript = new Transcript();
    const client = await ImapRawClient.connect({
      host: target.host,
      port: imaps.port,
      security: 'tls',
      tls: { ca, servername: target.tls.servername },
      transcript,
      session: 'lab',
    });
    try {
      expect(client.tlsInfo?.authorized).toBe(true);
      expect(client.greeting.status).toBe('OK');
      expect(client.hasCapability('IMAP4rev1')).toBe(true);

      const login = await client.login('alice', password);
      expect(login.status).toBe('OK');
      expect(client.hasCapability('MOVE')).toBe(true);

      const select = await client.select('INBOX');
      expect(select.status).toBe('OK');
      expect(select.untagged.some((u) => u.kind === 'EXISTS' && typeof u.number === 'number')).toBe(true);
      expect(select.untagged.some((u) => u.kind === 'FLAGS')).toBe(true);

      expect((await client.noop()).status).toBe('OK');

      // A UID no message has (the maximum): nothing is moved, but the command is
      // understood. A server without MOVE answers BAD here.
      const move = await client.command('UID MOVE 4294967295 INBOX');
      expect(move.status).toBe('OK');

      const logout = await client.logout();
      expect(logout.status).toBe('OK');
      expect(logout.untagged.map((u) => u.kind)).toContain('BYE');
      expect(client.closed).toBe(true);

      const text = transcript.entries.map((e) => e.text).join('\n');
      expect(text).toMatch(/^A\d+ LOGIN alice \[redacted\]$/m);
      expect(text).not.toContain(password);
    } finally {
      client.drop();
    }
  });

  it('upgrades the plain IMAP port with STARTTLS and asks CAPABILITY on both sides', async () => {
    const { target, ca } = await labInputs();
    const imap = target.endpoints['imap'];
    if (imap === undefined) throw new Error('the lab target has no imap endpoint');
    const client = await ImapRawClient.connect({
      // The lab's plain ports live on 127.0.0.2, so Dovecot does not count the client as local.
      host: imap.host ?? target.host,
      port: imap.port,
      security: 'starttls',
      tls: { ca, servername: target.tls.servername },
      transcript: new Transcript(),
      session: 'lab',
    });
    try {
      expect(client.preTlsCapabilities).toContain('STARTTLS');
      expect(client.preTlsCapabilities).toContain('LOGINDISABLED');
      expect(client.tlsInfo?.authorized).toBe(true);
      expect(client.capabilities).not.toContain('STARTTLS');
      expect(client.hasCapability('IMAP4rev1')).toBe(true);
      expect((await client.logout()).status).toBe('OK');
    } finally {
      client.drop();
    }
  });
});
