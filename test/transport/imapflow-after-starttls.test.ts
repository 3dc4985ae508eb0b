import { describe, expect, inject, it } from 'vitest';
import { ImapSessionError } from '../../src/protocols/imap/errors.js';
import { ImapSession } from '../../src/protocols/imap/session.js';
import { loadTargetFile } from '../../src/target/index.js';
import { Transcript } from '../../src/transport/index.js';

/**
 * The imapflow transport counts bytes that arrive after the tagged STARTTLS
 * answer and before the handshake (CVE-2011-0411). Once the handshake is done
 * that watch must end: the server's replies inside TLS are no injection, and a
 * login refused there must read as a refused login.
 */
describe('imapflow transport after STARTTLS', () => {
  it("a wrong password on the lab's IMAP STARTTLS port is a refused login (EAUTH), not a STARTTLS injection", async () => {
    const target = await loadTargetFile(inject('lab').targetFile);
    const imap = target.endpoints.imap!;
    const error = await ImapSession.open({
      host: imap.host,
      port: imap.port,
      security: 'starttls',
      tls: {
        verify: true,
        ...(imap.tls.ca === undefined ? {} : { ca: imap.tls.ca }),
        ...(imap.tls.servername === undefined ? {} : { servername: imap.tls.servername }),
      },
      timeouts: { dns: 5_000, tcp: 5_000, tls: 5_000, greeting: 5_000, command: 10_000, push: 5_000 },
      user: target.accounts.primary!.user,
      password: 'not-the-password-9',
      transcript: new Transcript(),
      session: 'wrong password',
    }).then(
      async (session) => {
        await session.logout();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ImapSessionError);
    expect((error as ImapSessionError).message).not.toMatch(/CVE-2011-0411/);
    expect((error as ImapSessionError).code).toBe('EAUTH');
  });

  it("records where the session connected and how TLS was set up, in the raw transport's words, before any server line", async () => {
    const target = await loadTargetFile(inject('lab').targetFile);
    const imap = target.endpoints.imap!;
    const transcript = new Transcript();
    await ImapSession.open({
      host: imap.host,
      port: imap.port,
      security: 'starttls',
      tls: {
        verify: true,
        ...(imap.tls.ca === undefined ? {} : { ca: imap.tls.ca }),
        ...(imap.tls.servername === undefined ? {} : { servername: imap.tls.servername }),
      },
      timeouts: { dns: 5_000, tcp: 5_000, tls: 5_000, greeting: 5_000, command: 10_000, push: 5_000 },
      user: target.accounts.primary!.user,
      password: 'not-the-password-9',
      transcript,
      session: 'info lines',
    }).then(
      (session) => session.logout(),
      () => undefined,
    );
    const entries = transcript.entries;
    expect(entries[0]).toMatchObject({ direction: 'info', text: `connecting to ${imap.host}:${imap.port}, security starttls` });
    const tls = entries.findIndex((e) => e.direction === 'info' && e.text.startsWith('TLS established (starttls): TLSv1.'));
    const starttls = entries.findIndex((e) => e.direction === 'client' && / STARTTLS$/.test(e.text));
    expect(starttls).toBeGreaterThan(0);
    expect(tls).toBeGreaterThan(starttls);
    expect(entries[tls]!.text).toMatch(/certificate verified for /);
  });
});
