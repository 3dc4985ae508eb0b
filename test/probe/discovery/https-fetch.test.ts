import { createServer, type AddressInfo, type Socket } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { httpsFetch } from '../../../src/probe/discovery/https-fetch.js';
import { type HttpsFixture, startHttpsFixture } from '../../support/https-fixture.js';
import { testCerts } from '../../support/test-certs.js';

const closers: Array<() => Promise<void>> = [];

beforeAll(async () => {
  const certs = await testCerts();
  return () => certs.cleanup();
});

afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function fixture(): Promise<HttpsFixture> {
  const started = await startHttpsFixture();
  closers.push(() => started.close());
  return started;
}

describe('httpsFetch', () => {
  it('refuses a declared Content-Length above the limit before reading the body', async () => {
    const server = await fixture();
    server.route('GET', 'example.test', '/big', { body: 'x'.repeat(5000) });
    const result = await httpsFetch(`https://example.test:${server.port}/big`, {
      resolve: server.resolver({ 'example.test': ['127.0.0.1'] }),
      ca: server.ca,
      maxBodyBytes: 4096,
    });
    expect(result).toMatchObject({ kind: 'failure', reason: 'too-large', message: 'Content-Length 5000 is above the 4096-byte limit', address: '127.0.0.1' });
  });

  it('a name without an address is "unresolved", and nothing is connected', async () => {
    const server = await fixture();
    const result = await httpsFetch(`https://nowhere.example.test:${server.port}/`, { resolve: server.resolver({}), ca: server.ca });
    expect(result).toMatchObject({ kind: 'failure', reason: 'unresolved', message: 'nowhere.example.test has no A or AAAA record' });
    expect(server.requests).toEqual([]);
  });

  it('a resolver that throws is "unresolved" with its reason', async () => {
    const result = await httpsFetch('https://example.test/', {
      resolve: async () => {
        throw Object.assign(new Error('queryA ETIMEOUT example.test'), { code: 'ETIMEOUT' });
      },
    });
    expect(result).toMatchObject({ kind: 'failure', reason: 'unresolved', code: 'ETIMEOUT' });
  });

  it('a listener that takes the connection but never answers TLS ends at the connect timeout', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => void sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    closers.push(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    });
    const port = (silent.address() as AddressInfo).port;
    const started = Date.now();
    const result = await httpsFetch(`https://example.test:${port}/`, { resolve: async () => ['127.0.0.1'], timeouts: { connectMs: 300 } });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(result).toMatchObject({ kind: 'failure', reason: 'timeout', message: 'no TLS connection within 300 ms' });
  });

  it('a refused port is a connect failure with its code', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const result = await httpsFetch(`https://example.test:${port}/`, { resolve: async () => ['127.0.0.1'] });
    expect(result).toMatchObject({ kind: 'failure', reason: 'connect', code: 'ECONNREFUSED' });
  });

  it('POSTs its body and reports the status and the answering address', async () => {
    const server = await fixture();
    server.route('POST', 'autodiscover.example.test', '/autodiscover/autodiscover.xml', { status: 401 });
    const result = await httpsFetch(`https://autodiscover.example.test:${server.port}/autodiscover/autodiscover.xml`, {
      resolve: server.resolver({ 'autodiscover.example.test': ['::1'] }),
      ca: server.ca,
      method: 'POST',
      body: '<Autodiscover/>',
    });
    expect(result).toMatchObject({ kind: 'response', status: 401, address: '::1' });
    expect(server.requests[0]).toMatchObject({ method: 'POST', body: '<Autodiscover/>', localAddress: '::1' });
  });

  it('uses the port override for URLs that name none', async () => {
    const server = await fixture();
    server.route('GET', 'example.test', '/x', { body: 'hi' });
    const result = await httpsFetch('https://example.test/x', {
      resolve: server.resolver({ 'example.test': ['127.0.0.1'] }),
      ca: server.ca,
      port: server.port,
    });
    expect(result.kind === 'response' && result.body.toString()).toBe('hi');
  });

  it('does not follow a redirect to an address literal: every address it connects to came from resolve', async () => {
    const server = await fixture();
    server.route('GET', 'example.test', '/moved', { redirect: `https://127.0.0.1:${server.port}/x` });
    server.route('GET', '127.0.0.1', '/x', { body: 'reached' });
    const result = await httpsFetch(`https://example.test:${server.port}/moved`, {
      resolve: server.resolver({ 'example.test': ['127.0.0.1'] }),
      ca: server.ca,
      followRedirects: true,
    });
    expect(result).toMatchObject({ kind: 'failure', reason: 'redirect-refused', message: expect.stringContaining('to an address literal') });
    expect(server.requests.map((r) => r.path)).toEqual(['/moved']);
  });

  it('stops after too many redirects', async () => {
    const server = await fixture();
    server.route('GET', 'example.test', '/loop', { redirect: '/loop' });
    const result = await httpsFetch(`https://example.test:${server.port}/loop`, {
      resolve: server.resolver({ 'example.test': ['127.0.0.1'] }),
      ca: server.ca,
      followRedirects: true,
    });
    expect(result).toMatchObject({ kind: 'failure', reason: 'redirect-refused', message: expect.stringMatching(/^more than 3 redirects/) });
    expect(server.requests).toHaveLength(4);
  });
});
