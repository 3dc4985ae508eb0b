import { createConnection, createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { createSecureContext, createServer as createTlsServer, TLSSocket, type TlsOptions } from 'node:tls';
import { afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { inspectTls, judgeLegacyFailure, tlsFindings, type TlsFacts, type TlsTarget } from '../../src/probe/tls-facts.js';
import { loadTargetFile } from '../../src/target/index.js';
import { connect } from '../../src/transport/connect.js';
import { TransportError } from '../../src/transport/errors.js';
import { Transcript } from '../../src/transport/transcript.js';
import { probeHandshake } from '../../src/transport/tls-probe.js';
import { signCertificate, testCerts, type KeyPair, type TestCerts } from '../support/test-certs.js';

let certs: TestCerts;
/** A leaf for localhost valid 90 days, signed by the test CA: nothing to warn about. */
let longLeaf: KeyPair;
/** An intermediate CA signed by the test CA, and a leaf for localhost it signed. */
let intermediate: string;
let chainedLeaf: KeyPair;

const closers: Array<() => Promise<void>> = [];

beforeAll(async () => {
  certs = await testCerts();
  const sign = (name: string, ca: string, ext: string, subject: string, days: string): Promise<KeyPair> =>
    signCertificate(certs.dir, name, { ca, ext, subject, days });
  const leafExt = 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n';
  longLeaf = await sign('long', 'ca', leafExt, '/CN=localhost', '90');
  intermediate = (
    await sign('intermediate', 'ca', 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n', '/CN=mailprobe test intermediate', '30')
  ).cert;
  chainedLeaf = await sign('chained', 'intermediate', leafExt, '/CN=localhost', '90');
  return () => certs.cleanup();
});

afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/** Keeps every accepted socket so that the test can close them; the server only handshakes. */
function track(server: NetServer, address = '127.0.0.1'): Promise<number> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  return new Promise((resolve) => server.listen(0, address, () => resolve((server.address() as AddressInfo).port)));
}

function tlsServer(options: TlsOptions, address?: string, setup?: (server: ReturnType<typeof createTlsServer>) => void): Promise<number> {
  const server = createTlsServer(options);
  server.on('tlsClientError', () => undefined);
  setup?.(server);
  return track(server, address);
}

/** Old versions need security level 0 on the server too (SHA-1 signatures). */
const LEGACY_SERVER = { ciphers: 'DEFAULT@SECLEVEL=0' } as const;

function target(port: number, extra: Partial<TlsTarget> = {}): TlsTarget {
  return { host: 'localhost', address: '127.0.0.1', port, servername: 'localhost', ca: certs.ca, timeouts: { tcp: 5_000, tls: 5_000 }, ...extra };
}

const WHERE = { host: 'localhost', address: '127.0.0.1', port: 0 };
const ids = (facts: TlsFacts): string[] =>
  tlsFindings(facts, WHERE)
    .map((f) => f.id)
    .sort();
const finding = (facts: TlsFacts, id: string) => tlsFindings(facts, WHERE).find((f) => f.id === id);

describe('inspectTls against local TLS servers', () => {
  it('a valid certificate on a modern server: the facts, and tls-ok', async () => {
    const port = await tlsServer({ ...longLeaf });
    const facts = await inspectTls(target(port));
    expect(facts).toMatchObject({
      version: 'TLSv1.3',
      authorized: true,
      nameMatches: true,
      keyType: 'EC prime256v1',
      keyBits: 256,
      ocspStapled: false,
      chainComplete: true,
      legacy: { TLSv1: 'not offered', 'TLSv1.1': 'not offered' },
      untested: ['SSLv3', '3DES', 'RC4'],
      // OpenSSL prints IPv6 SANs in full.
      names: ['localhost', '127.0.0.1', '0:0:0:0:0:0:0:1'],
    });
    expect(facts.verifyError).toBeUndefined();
    expect(facts.cipher).toMatch(/^TLS_/);
    expect(facts.group).toBeTruthy();
    expect(facts.daysLeft).toBeGreaterThanOrEqual(88);
    expect(facts.daysLeft).toBeLessThanOrEqual(90);
    expect(ids(facts)).toEqual(['tls-no-ocsp-stapling', 'tls-ok']);
    expect(finding(facts, 'tls-no-ocsp-stapling')?.severity).toBe('info');
    const ok = finding(facts, 'tls-ok');
    expect(ok?.severity).toBe('ok');
    expect(ok?.evidence).toContain('SSLv3, 3DES, RC4 not tested');
  });

  it('IPv6: the same facts over ::1', async () => {
    const port = await tlsServer({ ...longLeaf }, '::1');
    const facts = await inspectTls(target(port, { address: '::1' }));
    expect(facts).toMatchObject({ version: 'TLSv1.3', authorized: true, nameMatches: true, chainComplete: true });
    expect(ids(facts)).toEqual(['tls-no-ocsp-stapling', 'tls-ok']);
  });

  it('a stapled OCSP response is seen: no tls-no-ocsp-stapling', async () => {
    let asked = 0;
    const port = await tlsServer({ ...longLeaf }, undefined, (server) => {
      // The probe only reports whether a response was stapled, so any bytes do.
      server.on('OCSPRequest', (_cert: Buffer, _issuer: Buffer, done: (error: Error | null, response?: Buffer) => void) => {
        asked += 1;
        done(null, Buffer.from('stapled'));
      });
    });
    const facts = await inspectTls(target(port));
    expect(asked).toBeGreaterThan(0);
    expect(facts.ocspStapled).toBe(true);
    expect(ids(facts)).toEqual(['tls-ok']);
  });

  it('an expired certificate: tls-expired (fail), not also tls-untrusted', async () => {
    const port = await tlsServer({ ...certs.expired });
    const facts = await inspectTls(target(port));
    expect(facts.authorized).toBe(false);
    expect(facts.verifyError).toBe('CERT_HAS_EXPIRED');
    expect(facts.daysLeft).toBeLessThan(0);
    expect(ids(facts)).toEqual(['tls-expired', 'tls-no-ocsp-stapling']);
    const expired = finding(facts, 'tls-expired');
    expect(expired?.severity).toBe('fail');
    expect(expired?.hint).toMatch(/^certificate expired \d+ days? ago; renew it$/);
    expect(expired?.evidence).toBe(`notAfter ${facts.notAfter}`);
  });

  it('a certificate for another name: tls-name-mismatch says which name it is for', async () => {
    const port = await tlsServer({ ...certs.named });
    const facts = await inspectTls(target(port));
    expect(facts.nameMatches).toBe(false);
    expect(facts.verifyError).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    expect(facts.names).toEqual(['mail.example.test']);
    const mismatch = finding(facts, 'tls-name-mismatch');
    expect(mismatch).toMatchObject({ severity: 'fail', hint: 'certificate is for mail.example.test, not localhost' });
    expect(ids(facts)).not.toContain('tls-untrusted');
    expect(ids(facts)).not.toContain('tls-ok');
  });

  it('the servername the customer uses decides the match, not the address connected to', async () => {
    const port = await tlsServer({ ...certs.named });
    const facts = await inspectTls(target(port, { servername: 'mail.example.test' }));
    expect(facts.nameMatches).toBe(true);
    expect(facts.authorized).toBe(true);
    expect(facts.servername).toBe('mail.example.test');
  });

  it('a certificate from a CA the client does not trust: tls-untrusted with the exact verify error', async () => {
    const port = await tlsServer({ ...longLeaf });
    const facts = await inspectTls(target(port, { ca: certs.otherCa }));
    expect(facts.authorized).toBe(false);
    expect(facts.verifyError).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    // Unknown CA or missing intermediate cannot be told apart here.
    expect(facts.chainComplete).toBeUndefined();
    const untrusted = finding(facts, 'tls-untrusted');
    expect(untrusted).toMatchObject({ severity: 'fail', evidence: 'verify error UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    expect(untrusted?.hint).toContain('does not trust');
  });

  it('a server that leaves out its intermediate: tls-chain-incomplete although the local store completes the chain', async () => {
    const port = await tlsServer({ ...chainedLeaf });
    // The client has the intermediate in its store, as Node's chain-building would use it.
    const facts = await inspectTls(target(port, { ca: certs.ca + intermediate }));
    expect(facts.authorized).toBe(true);
    expect(facts.chainComplete).toBe(false);
    expect(finding(facts, 'tls-chain-incomplete')?.severity).toBe('warn');
    expect(ids(facts)).not.toContain('tls-ok');
  });

  it('the same leaf sent with its intermediate: the chain is complete', async () => {
    const port = await tlsServer({ key: chainedLeaf.key, cert: chainedLeaf.cert + intermediate });
    const facts = await inspectTls(target(port, { ca: certs.ca }));
    expect(facts.authorized).toBe(true);
    expect(facts.chainComplete).toBe(true);
    expect(ids(facts)).toEqual(['tls-no-ocsp-stapling', 'tls-ok']);
  });

  it('a TLS 1.0-only server (Node 20 with OpenSSL 3 can serve one at SECLEVEL=0): tls-only-legacy', async () => {
    const port = await tlsServer({ ...longLeaf, ...LEGACY_SERVER, minVersion: 'TLSv1', maxVersion: 'TLSv1' });
    const facts = await inspectTls(target(port));
    expect(facts.version).toBe('TLSv1');
    expect(facts.legacy).toEqual({ TLSv1: 'offered', 'TLSv1.1': 'not offered' });
    expect(facts.authorized).toBe(true);
    const only = finding(facts, 'tls-only-legacy');
    expect(only?.severity).toBe('fail');
    expect(only?.hint).toMatch(/^only TLS 1\.0 is offered/);
    expect(ids(facts)).not.toContain('tls-legacy-offered');
  });

  it('a modern server that still allows TLS 1.0 and 1.1: each offered in a handshake of its own, tls-legacy-offered', async () => {
    const port = await tlsServer({ ...longLeaf, ...LEGACY_SERVER, minVersion: 'TLSv1', maxVersion: 'TLSv1.3' });
    const facts = await inspectTls(target(port));
    expect(facts.version).toBe('TLSv1.3');
    expect(facts.legacy).toEqual({ TLSv1: 'offered', 'TLSv1.1': 'offered' });
    const legacy = finding(facts, 'tls-legacy-offered');
    expect(legacy?.severity).toBe('warn');
    expect(legacy?.hint).toMatch(/^TLS 1\.0 and TLS 1\.1 are still offered/);
  });

  it('a STARTTLS port through the upgrade seam: each handshake gets its own plaintext exchange first', async () => {
    const context = createSecureContext({ ...longLeaf });
    let upgrades = 0;
    const server = createNetServer((socket) => {
      socket.write('220 fake.test ESMTP\r\n');
      let seen = '';
      const onData = (chunk: Buffer): void => {
        seen += chunk.toString('latin1');
        if (seen.startsWith('EHLO ') && seen.endsWith('\r\n')) {
          seen = '';
          socket.write('250-fake.test\r\n250 STARTTLS\r\n');
          return;
        }
        if (!seen.includes('\r\n')) return;
        socket.off('data', onData);
        if (seen !== 'STARTTLS\r\n') {
          socket.end('500 expected STARTTLS\r\n');
          return;
        }
        upgrades += 1;
        socket.write('220 go ahead\r\n');
        const secure = new TLSSocket(socket, { isServer: true, secureContext: context });
        secure.on('error', () => undefined);
      };
      socket.on('data', onData);
    });
    const port = await track(server);
    const facts = await inspectTls(target(port, { upgrade: (socket) => smtpStarttls(socket) }));
    expect(facts).toMatchObject({ version: 'TLSv1.3', authorized: true, nameMatches: true, chainComplete: true });
    expect(facts.legacy).toEqual({ TLSv1: 'not offered', 'TLSv1.1': 'not offered' });
    // modern, TLSv1, TLSv1.1, and the handshake that trusts nothing
    expect(upgrades).toBe(4);
  });

  it('a hang-up on a legacy hello among parallel handshakes is asked again alone before it counts', async () => {
    // Hangs up on the first TLS 1.0 hello only (as a server with a limit on
    // parallel connections might), then serves TLS 1.0 to 1.3 normally.
    const tls = createTlsServer({ ...longLeaf, ...LEGACY_SERVER, minVersion: 'TLSv1', maxVersion: 'TLSv1.3' });
    tls.on('tlsClientError', () => undefined);
    let hungUp = 0;
    const front = createNetServer((socket) => {
      socket.once('data', (hello: Buffer) => {
        // ClientHello.legacy_version, after the 5-byte record header and 4-byte handshake header: 0x0301 is TLS 1.0.
        if (hungUp === 0 && hello[9] === 0x03 && hello[10] === 0x01) {
          hungUp += 1;
          socket.destroy();
          return;
        }
        socket.pause();
        socket.unshift(hello);
        tls.emit('connection', socket);
      });
    });
    const port = await track(front);
    const facts = await inspectTls(target(port));
    expect(hungUp).toBe(1);
    expect(facts.legacy).toEqual({ TLSv1: 'offered', 'TLSv1.1': 'offered' });
  });

  it('a port that accepts and never answers: the handshakes run side by side, so it ends in about one TLS timeout', async () => {
    const port = await track(createNetServer(() => undefined));
    const started = performance.now();
    const error = await inspectTls(target(port, { timeouts: { tcp: 5_000, tls: 2_000 } })).catch((e: unknown) => e);
    const elapsed = performance.now() - started;
    expect((error as TransportError).code).toBe('ETIMEOUT');
    expect((error as TransportError).phase).toBe('tls');
    // Three handshakes one after another would take 6 s; the 3.5 s margin is generous for a shared machine.
    expect(elapsed).toBeLessThan(2_000 + 3_500);
  });

  it('an abort stops every handshake and is not taken for a fact', async () => {
    const port = await track(createNetServer(() => undefined));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const error = await inspectTls(target(port, { signal: controller.signal, timeouts: { tcp: 5_000, tls: 20_000 } })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect((error as TransportError).code).toBe('EABORTED');
  });

  it('an abort during the last handshake (the one that trusts nothing) gives no facts, not facts without a chain verdict', async () => {
    const port = await tlsServer({ ...longLeaf });
    const controller = new AbortController();
    let opened = 0;
    const open = async (signal: AbortSignal | undefined): Promise<Socket> => {
      opened += 1;
      // modern, TLSv1 and TLSv1.1 first, in parallel; the fourth is the one that trusts nothing.
      if (opened === 4) {
        controller.abort();
        throw signal?.reason ?? new Error('aborted');
      }
      return new Promise<Socket>((resolve, reject) => {
        const socket = createConnection({ host: '127.0.0.1', port }, () => resolve(socket));
        socket.once('error', reject);
      });
    };
    const error = await inspectTls(target(port, { open, signal: controller.signal })).catch((e: unknown) => e);
    expect(opened).toBe(4);
    expect((error as TransportError).code).toBe('EABORTED');
  });

  it('a port that does not speak TLS: the modern handshake error is thrown, no facts are made up', async () => {
    const server = createNetServer((socket) => socket.write('220 plain.test ESMTP\r\n'));
    const port = await track(server);
    const error = await inspectTls(target(port)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect((error as TransportError).phase).toBe('tls');
    expect((error as TransportError).message).toMatch(/TLS handshake with localhost:\d+ failed/);
  });
});

describe('which legacy failures prove "not offered"', () => {
  it("Node's own refusal (a SHA-1 signature without SECLEVEL=0) is not tested, never not offered", async () => {
    const port = await tlsServer({ ...longLeaf, ...LEGACY_SERVER, minVersion: 'TLSv1', maxVersion: 'TLSv1' });
    const endpoint = { host: 'localhost', address: '127.0.0.1', port };
    // The version range alone, without the security level the probe sets: Node refuses the server's signature.
    const error = await probeHandshake(endpoint, { minVersion: 'TLSv1', maxVersion: 'TLSv1' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    const judged = judgeLegacyFailure(error, true);
    expect(judged.outcome).toBe('not tested');
    expect(judged.why).toMatch(/^ERR_SSL_/);
  });

  it("a server's protocol_version alert is not offered", async () => {
    const port = await tlsServer({ ...longLeaf });
    const endpoint = { host: 'localhost', address: '127.0.0.1', port };
    const error = await probeHandshake(endpoint, { minVersion: 'TLSv1', maxVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' }).catch((e: unknown) => e);
    expect(judgeLegacyFailure(error, true)).toEqual({ outcome: 'not offered', why: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION' });
  });

  it('a hang-up on the legacy hello: not offered when the modern handshake worked, not tested when it did not', async () => {
    const server = createNetServer((socket) => socket.once('data', () => socket.destroy()));
    const port = await track(server);
    const error = await probeHandshake({ host: 'localhost', address: '127.0.0.1', port }, { minVersion: 'TLSv1', maxVersion: 'TLSv1' }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TransportError);
    expect(judgeLegacyFailure(error, true).outcome).toBe('not offered');
    expect(judgeLegacyFailure(error, false).outcome).toBe('not tested');
  });

  it('a legacy hello that gets no answer at all is not tested', async () => {
    const server = createNetServer(() => undefined);
    const port = await track(server);
    const error = await probeHandshake(
      { host: 'localhost', address: '127.0.0.1', port, timeouts: { tls: 200 } },
      { minVersion: 'TLSv1', maxVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' },
    ).catch((e: unknown) => e);
    expect((error as TransportError).code).toBe('ETIMEOUT');
    expect(judgeLegacyFailure(error, true).outcome).toBe('not tested');
  });
});

describe('tlsFindings wording and grading', () => {
  const base: TlsFacts = {
    version: 'TLSv1.3',
    cipher: 'TLS_AES_256_GCM_SHA384',
    group: 'X25519',
    authorized: true,
    nameMatches: true,
    daysLeft: 60,
    notAfter: new Date(Date.now() + 60.5 * 86_400_000).toISOString(),
    keyType: 'RSA',
    keyBits: 2048,
    ocspStapled: true,
    chainComplete: true,
    legacy: { TLSv1: 'not offered', 'TLSv1.1': 'not offered' },
    untested: ['SSLv3', '3DES', 'RC4'],
    servername: 'mail.example.com',
    names: ['mail.example.com'],
    legacyNotes: {},
  };

  it('all in order with a stapled OCSP response: tls-ok alone', () => {
    expect(ids(base)).toEqual(['tls-ok']);
  });

  it('9 days left: tls-expires-soon (warn), read out as "certificate expires in 9 days"', () => {
    const facts = { ...base, daysLeft: 9, notAfter: new Date(Date.now() + 9.5 * 86_400_000).toISOString() };
    expect(finding(facts, 'tls-expires-soon')).toMatchObject({ severity: 'warn', hint: 'certificate expires in 9 days; renew it before then' });
    expect(ids(facts)).not.toContain('tls-ok');
  });

  it('14 days left is not yet a warning', () => {
    expect(ids({ ...base, daysLeft: 14, notAfter: new Date(Date.now() + 14.5 * 86_400_000).toISOString() })).toEqual(['tls-ok']);
  });

  it('an RSA 1024 key: tls-weak-key (fail)', () => {
    expect(finding({ ...base, keyBits: 1024 }, 'tls-weak-key')?.severity).toBe('fail');
  });

  it('a legacy version that could not be tested says so, and never "not offered"', () => {
    const facts: TlsFacts = {
      ...base,
      legacy: { TLSv1: 'not tested', 'TLSv1.1': 'not offered' },
      legacyNotes: { TLSv1: 'ERR_SSL_NO_PROTOCOLS_AVAILABLE' },
    };
    const note = finding(facts, 'tls-legacy-not-tested');
    expect(note).toMatchObject({ severity: 'info', evidence: 'TLSv1: ERR_SSL_NO_PROTOCOLS_AVAILABLE' });
    expect(note?.hint).not.toMatch(/not offered/);
    expect(note?.hint).toContain('TLS 1.0');
  });

  it('each finding carries the place it was found', () => {
    const [only] = tlsFindings(base, { host: 'mail.example.com', address: '192.0.2.7', port: 993 });
    expect(only).toMatchObject({ host: 'mail.example.com', address: '192.0.2.7', port: 993 });
  });
});

describe('inspectTls against the loopback lab (Dovecot and Postfix)', () => {
  const lab = async (name: 'smtps' | 'imaps' | 'pop3s' | 'submission' | 'imap' | 'pop3', upgrade?: TlsTarget['upgrade']): Promise<TlsFacts> => {
    const file = await loadTargetFile(inject('lab').targetFile);
    const endpoint = file.endpoints[name];
    if (endpoint === undefined) throw new Error(`the lab has no ${name} endpoint`);
    return inspectTls({
      host: endpoint.host,
      address: endpoint.host,
      port: endpoint.port,
      servername: endpoint.tls.servername,
      ca: endpoint.tls.ca,
      timeouts: { tcp: 5_000, tls: 5_000 },
      upgrade,
    });
  };
  const allOk = (facts: TlsFacts): void => {
    expect(facts).toMatchObject({ authorized: true, nameMatches: true, chainComplete: true, legacy: { TLSv1: 'not offered', 'TLSv1.1': 'not offered' } });
    expect(facts.version).toMatch(/^TLSv1\.[23]$/);
    expect(tlsFindings(facts, WHERE).filter((f) => f.severity === 'warn' || f.severity === 'fail')).toEqual([]);
    expect(ids(facts)).toContain('tls-ok');
  };

  it('implicit TLS on smtps, imaps and pop3s: all ok', async () => {
    for (const name of ['smtps', 'imaps', 'pop3s'] as const) allOk(await lab(name));
  });

  it('STARTTLS done on a Connection and handed over with releaseForTls (the open seam): all ok on submission', async () => {
    const file = await loadTargetFile(inject('lab').targetFile);
    const submission = file.endpoints.submission;
    if (submission === undefined) throw new Error('the lab has no submission endpoint');
    let opened = 0;
    const open = async (): Promise<Socket> => {
      opened += 1;
      const c = await connect({ host: submission.host, port: submission.port, security: 'starttls', transcript: new Transcript(), session: 'probe' });
      const read = async (): Promise<string> => (await c.readLine({ phase: 'starttls' })).bytes.toString('latin1');
      await c.readGreeting();
      c.writeLine('EHLO probe.test');
      while (!(await read()).startsWith('250 ')) {
        // the EHLO reply's continuation lines
      }
      c.writeLine('STARTTLS');
      expect(await read()).toMatch(/^220 /);
      return c.releaseForTls();
    };
    const facts = await inspectTls({
      host: submission.host,
      address: submission.host,
      port: submission.port,
      servername: submission.tls.servername,
      ca: submission.tls.ca,
      open,
    });
    allOk(facts);
    expect(opened).toBe(4);
  });

  it('STARTTLS on submission (Postfix) and IMAP, STLS on POP3 (Dovecot), through the seam: all ok', async () => {
    allOk(await lab('submission', smtpStarttls));
    allOk(await lab('imap', imapStarttls));
    allOk(await lab('pop3', pop3Stls));
  });
});

/** The client's half of SMTP STARTTLS, reading byte by byte so that no TLS byte is taken by the plaintext reader. */
async function smtpStarttls(socket: Socket): Promise<void> {
  await smtpReply(socket, '220');
  socket.write('EHLO probe.test\r\n');
  await smtpReply(socket, '250');
  socket.write('STARTTLS\r\n');
  await smtpReply(socket, '220');
}

/** An SMTP reply of one or more lines ("250-..." then "250 ..."); the fake server's replies are one line. */
async function smtpReply(socket: Socket, code: string): Promise<void> {
  for (;;) {
    const line = await replyLine(socket, code);
    if (line.startsWith(`${code} `)) return;
  }
}

async function imapStarttls(socket: Socket): Promise<void> {
  await replyLine(socket, '* OK');
  socket.write('a1 STARTTLS\r\n');
  await replyLine(socket, 'a1 OK');
}

async function pop3Stls(socket: Socket): Promise<void> {
  await replyLine(socket, '+OK');
  socket.write('STLS\r\n');
  await replyLine(socket, '+OK');
}

/** One line, which must start with prefix. */
function replyLine(socket: Socket, prefix: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let line = '';
    const onReadable = (): void => {
      let byte: Buffer | null;
      while ((byte = socket.read(1) as Buffer | null) !== null) {
        line += byte.toString('latin1');
        if (line.endsWith('\r\n')) {
          socket.off('readable', onReadable);
          socket.off('error', reject);
          if (line.startsWith(prefix)) resolve(line);
          else reject(new Error(`unexpected reply ${line.trim()}`));
          return;
        }
      }
    };
    socket.on('readable', onReadable);
    socket.once('error', reject);
    onReadable();
  });
}
