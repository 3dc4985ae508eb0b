import { createServer, type AddressInfo } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connect, type ConnectOptions } from '../../src/transport/connect.js';
import type { Connection } from '../../src/transport/connection.js';
import { TransportError } from '../../src/transport/errors.js';
import { Transcript } from '../../src/transport/transcript.js';
import { FakeLineServer, type FakeLineServerOptions } from '../support/fake-line-server.js';
import { testCerts, type TestCerts } from '../support/test-certs.js';

let certs: TestCerts;
const servers: FakeLineServer[] = [];
const connections: Connection[] = [];

beforeAll(async () => {
  certs = await testCerts();
  return () => certs.cleanup();
});

afterEach(async () => {
  for (const c of connections.splice(0)) c.destroy();
  for (const s of servers.splice(0)) await s.close();
});

async function server(options: FakeLineServerOptions): Promise<FakeLineServer> {
  const s = await FakeLineServer.start(options);
  servers.push(s);
  return s;
}

async function open(s: FakeLineServer, extra: Partial<ConnectOptions> = {}): Promise<Connection> {
  const c = await connect({
    host: s.host,
    port: s.port,
    security: 'none',
    transcript: new Transcript(),
    session: 'test',
    ...extra,
  });
  connections.push(c);
  return c;
}

async function rejection(promise: Promise<unknown>): Promise<TransportError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TransportError);
  return error as TransportError;
}

describe('connect phases', () => {
  it('reports a refused TCP connection as ECONNREFUSED in phase tcp', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((r) => probe.close(() => r()));
    const error = await rejection(connect({ host: '127.0.0.1', port, security: 'none', transcript: new Transcript(), session: 't' }));
    expect(error.code).toBe('ECONNREFUSED');
    expect(error.phase).toBe('tcp');
    expect(error.message).toContain(`127.0.0.1:${port} refused`);
  });

  it('resolves names in its own DNS phase and records timings', async () => {
    const s = await server({ greeting: 'hello\r\n' });
    const asked: string[] = [];
    const c = await open(s, {
      host: 'mail.example.test',
      lookup: async (host) => {
        asked.push(host);
        return { address: '127.0.0.1' };
      },
    });
    expect(asked).toEqual(['mail.example.test']);
    expect(c.address).toBe('127.0.0.1');
    expect((await c.readGreeting()).bytes.toString()).toBe('hello');
    expect(typeof c.timings.dns).toBe('number');
    expect(typeof c.timings.tcp).toBe('number');
    expect(typeof c.timings.greeting).toBe('number');
    expect(c.timings.tls).toBeUndefined();
  });

  it('reports a failed lookup as EDNS in phase dns', async () => {
    const failing = async (): Promise<{ address: string }> => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND nowhere.test'), { code: 'ENOTFOUND' });
    };
    const error = await rejection(connect({ host: 'nowhere.test', port: 110, security: 'none', transcript: new Transcript(), session: 't', lookup: failing }));
    expect(error.code).toBe('EDNS');
    expect(error.phase).toBe('dns');
    expect(error.message).toContain('no such host');
  });

  it('times out a DNS lookup that never answers', async () => {
    const error = await rejection(
      connect({
        host: 'slow.test',
        port: 110,
        security: 'none',
        transcript: new Transcript(),
        session: 't',
        timeouts: { dns: 50 },
        lookup: () => new Promise(() => undefined),
      }),
    );
    expect(error.code).toBe('ETIMEOUT');
    expect(error.phase).toBe('dns');
  });

  it('times out a server that never greets, in phase greeting, and closes the connection', async () => {
    const s = await server({});
    const c = await open(s, { timeouts: { greeting: 100 } });
    const error = await rejection(c.readGreeting());
    expect(error.code).toBe('ETIMEOUT');
    expect(error.phase).toBe('greeting');
    expect(error.message).toContain('no greeting');
    expect(c.closed).toBe(true);
  });

  it('times out a stalled reply with the command named', async () => {
    const s = await server({ greeting: '+OK\r\n', commands: { STALL: () => undefined } });
    const c = await open(s, { timeouts: { command: 100 } });
    await c.readGreeting();
    c.writeLine('STALL now', { command: 'STALL now' });
    const error = await rejection(c.readLine({ phase: 'command', command: 'STALL now' }));
    expect(error.code).toBe('ETIMEOUT');
    expect(error.phase).toBe('command');
    expect(error.command).toBe('STALL now');
    // The late reply must not be read as the answer to a later command.
    expect(c.closed).toBe(true);
    expect((await rejection(c.readLine({ phase: 'command' }))).code).toBe('ECLOSED');
  });

  it('rejects a pending read with ECLOSED when the server closes mid-line', async () => {
    const s = await server({
      greeting: '+OK\r\n',
      commands: { CUT: (session) => session.write('+OK partial rep').then(() => session.destroy()) },
    });
    // A long command timeout: only the close can end this read in time.
    const c = await open(s, { timeouts: { command: 60_000 } });
    await c.readGreeting();
    c.writeLine('CUT');
    const error = await rejection(c.readLine({ phase: 'command', command: 'CUT' }));
    expect(error.code).toBe('ECLOSED');
    expect(error.message).toMatch(/octets of an unterminated line were discarded/);
  }, 10_000);

  it('still delivers lines that arrived before the close', async () => {
    const s = await server({ greeting: (session) => session.end('+OK one\r\n+OK two\r\n') });
    const c = await open(s);
    expect((await c.readLine({ phase: 'greeting' })).bytes.toString()).toBe('+OK one');
    expect((await c.readLine({ phase: 'command' })).bytes.toString()).toBe('+OK two');
    expect((await rejection(c.readLine({ phase: 'command' }))).code).toBe('ECLOSED');
  });

  it('drops the connection with ELIMIT when a line exceeds maxLineLength', async () => {
    const s = await server({ greeting: `+OK ${'x'.repeat(100)}\r\n` });
    const c = await open(s, { limits: { maxLineLength: 32 } });
    const error = await rejection(c.readGreeting());
    expect(error.code).toBe('ELIMIT');
    expect(c.closed).toBe(true);
  });

  it('accepts bare LF and records it', async () => {
    const s = await server({ greeting: '+OK bare\n' });
    const transcript = new Transcript();
    const c = await open(s, { transcript });
    const line = await c.readGreeting();
    expect(line.ending).toBe('lf');
    expect(c.bareLineFeeds).toBe(1);
    expect(transcript.entries.some((e) => e.direction === 'info' && e.text.includes('bare LF'))).toBe(true);
  });

  it('cancels a pending read on abort', async () => {
    const s = await server({});
    const controller = new AbortController();
    const c = await open(s, { signal: controller.signal });
    const pending = c.readGreeting();
    controller.abort(new Error('Ctrl-C'));
    const error = await rejection(pending);
    expect(error.code).toBe('EABORTED');
    expect(error.phase).toBe('greeting');
  });

  it('does not start when already aborted', async () => {
    const s = await server({});
    const error = await rejection(open(s, { signal: AbortSignal.abort() }));
    expect(error.code).toBe('EABORTED');
  });

  it('refuses to write CR or LF inside a line', async () => {
    const s = await server({ greeting: '+OK\r\n' });
    const c = await open(s);
    expect(() => c.writeLine('USER a\r\nDELE 1')).toThrow(TypeError);
  });
});

describe('implicit TLS', () => {
  it('verifies against the given CA and records what was negotiated', async () => {
    const s = await server({ implicitTls: certs.localhost, greeting: '+OK tls\r\n' });
    const transcript = new Transcript();
    const c = await open(s, { security: 'tls', tls: { ca: certs.ca }, transcript });
    expect((await c.readGreeting()).bytes.toString()).toBe('+OK tls');
    const tls = c.tls;
    expect(tls?.authorized).toBe(true);
    expect(tls?.verify).toBe(true);
    expect(tls?.mode).toBe('tls');
    expect(tls?.checkedName).toBe('127.0.0.1');
    expect(tls?.servername).toBeUndefined();
    expect(tls?.protocol).toMatch(/^TLSv1\.[23]$/);
    expect(tls?.cipher).not.toBe('');
    expect(tls?.peer?.subject).toContain('CN=localhost');
    expect(tls?.peer?.issuer).toContain('CN=mailprobe test CA');
    expect(tls?.peer?.subjectAltNames).toContain('IP Address:127.0.0.1');
    expect(typeof c.timings.tls).toBe('number');
    expect(transcript.entries.some((e) => e.text.includes('certificate verified for 127.0.0.1'))).toBe(true);
  });

  it('fails with ETLS and a hint when the CA is not trusted', async () => {
    const s = await server({ implicitTls: certs.localhost, greeting: '+OK\r\n' });
    const error = await rejection(open(s, { security: 'tls' }));
    expect(error.code).toBe('ETLS');
    expect(error.phase).toBe('tls');
    expect(error.message).toContain(`TLS handshake with 127.0.0.1:${s.port} failed`);
    expect(error.message).toContain('pass the CA with tls.ca_file or set insecure');
  });

  it('fails against an unrelated CA', async () => {
    const s = await server({ implicitTls: certs.localhost, greeting: '+OK\r\n' });
    expect((await rejection(open(s, { security: 'tls', tls: { ca: certs.otherCa } }))).code).toBe('ETLS');
  });

  it('connects with verify: false and records that it did not verify', async () => {
    const s = await server({ implicitTls: certs.localhost, greeting: '+OK\r\n' });
    const transcript = new Transcript();
    const c = await open(s, { security: 'tls', tls: { verify: false }, transcript });
    expect(c.tls?.verify).toBe(false);
    expect(c.tls?.authorized).toBe(false);
    expect(c.tls?.authorizationError).toBeTruthy();
    expect(transcript.entries.some((e) => e.text.includes('verification disabled (insecure)'))).toBe(true);
  });

  it('checks an IP host against IP SANs, a servername against DNS SANs, without an IP SNI warning', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const s = await server({ implicitTls: certs.named, greeting: '+OK\r\n' });
      const mismatch = await rejection(open(s, { security: 'tls', tls: { ca: certs.ca } }));
      expect(mismatch.code).toBe('ETLS');
      expect(mismatch.message).toContain('does not name "127.0.0.1"');
      const c = await open(s, { security: 'tls', tls: { ca: certs.ca, servername: 'mail.example.test' } });
      expect(c.tls?.authorized).toBe(true);
      expect(c.tls?.servername).toBe('mail.example.test');
      expect(c.tls?.checkedName).toBe('mail.example.test');
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.filter((w) => /IP address/i.test(w.message))).toEqual([]);
  });

  it('hints at STARTTLS when the port speaks plaintext', async () => {
    const s = await server({ greeting: '+OK plain POP3 server ready, no TLS here\r\n' });
    const error = await rejection(open(s, { security: 'tls', timeouts: { tls: 5_000 } }));
    expect(error.code).toBe('ETLS');
    expect(error.message).toContain('security: starttls');
  });

  it('times out a TLS handshake the server never answers', async () => {
    // Silent even when bytes of the ClientHello look like a line.
    const s = await server({ fallback: () => undefined });
    const error = await rejection(open(s, { security: 'tls', timeouts: { tls: 100 } }));
    expect(error.code).toBe('ETIMEOUT');
    expect(error.phase).toBe('tls');
  });
});
