import { afterEach, describe, expect, it } from 'vitest';
import { createDnsClient, DnsLookupError, lookupDomainRecords, rawQuery, parseDnsServer, type DnsFailureKind } from '../../../src/probe/dns/index.js';
import { framed, RCODE, response, startFakeDns, tlsaAnswer, type FakeDns, type FakeDnsOptions } from './fake-dns-server.js';

/**
 * The TLSA query (dns-packet over dgram, TCP on TC) and the client's error
 * mapping, against an in-process DNS server that misbehaves on purpose.
 */

const NAME = '_25._tcp.mx.example.test';
const TIMEOUT = 300;
/** Far above the expected time: only a query that hangs past its timeout fails this. */
const MARGIN = 3_000;

let fake: FakeDns | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function serve(options: FakeDnsOptions): Promise<FakeDns> {
  fake = await startFakeDns(options);
  return fake;
}

const ask = (server: FakeDns, extra: Partial<Parameters<typeof rawQuery>[3]> = {}) =>
  rawQuery(parseDnsServer(server.server), NAME, 'TLSA', { timeoutMs: TIMEOUT, tries: 1, ...extra });

async function failure(promise: Promise<unknown>): Promise<DnsLookupError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(DnsLookupError);
  return error as DnsLookupError;
}

async function expectKind(promise: Promise<unknown>, kind: DnsFailureKind): Promise<DnsLookupError> {
  const error = await failure(promise);
  expect(error.kind).toBe(kind);
  return error;
}

describe('the TLSA query over UDP', () => {
  it('returns the records of a plain answer', async () => {
    const server = await serve({ udp: (x) => x.send(response(x.query, [tlsaAnswer(NAME, 32)])) });
    const answers = await ask(server);
    expect(answers).toHaveLength(1);
    expect(server.udpQueries[0]?.questions).toEqual([{ name: NAME, type: 'TLSA', class: 'IN' }]);
  });

  it('ignores an answer with the wrong id, and takes the right one that follows', async () => {
    const server = await serve({
      udp: (x) => {
        x.send(response(x.query, [tlsaAnswer(NAME, 32, 0x11)], { id: (x.query.id! + 1) % 0x10000 }));
        setTimeout(() => x.send(response(x.query, [tlsaAnswer(NAME, 32, 0x22)])), 20);
      },
    });
    const [answer] = await ask(server, { timeoutMs: 2_000 });
    expect((answer as { data: { certificate: Buffer } }).data.certificate[0]).toBe(0x22);
  });

  it('with only a wrong-id answer, times out (within the timeout plus a margin)', async () => {
    const server = await serve({ udp: (x) => x.send(response(x.query, [tlsaAnswer(NAME, 32)], { id: (x.query.id! + 1) % 0x10000 })) });
    const started = Date.now();
    const error = await expectKind(ask(server), 'timeout');
    expect(Date.now() - started).toBeLessThan(TIMEOUT + MARGIN);
    expect(error.message).toContain(`within ${TIMEOUT} ms`);
  });

  it("ignores an answer from another port, and takes the server's own", async () => {
    const server = await serve({
      udp: (x) => {
        x.sendFromStranger(response(x.query, [tlsaAnswer(NAME, 32, 0x11)]));
        setTimeout(() => x.send(response(x.query, [tlsaAnswer(NAME, 32, 0x22)])), 50);
      },
    });
    const [answer] = await ask(server, { timeoutMs: 2_000 });
    expect((answer as { data: { certificate: Buffer } }).data.certificate[0]).toBe(0x22);
  });

  it('with only an answer from another port, times out', async () => {
    const server = await serve({ udp: (x) => x.sendFromStranger(response(x.query, [tlsaAnswer(NAME, 32)])) });
    await expectKind(ask(server), 'timeout');
  });

  it('refuses an answer larger than a plain UDP answer may be', async () => {
    const server = await serve({ udp: (x) => x.send(response(x.query, [tlsaAnswer(NAME, 600)])) });
    const error = await expectKind(ask(server, { timeoutMs: 2_000 }), 'bad-response');
    expect(error.message).toMatch(/sent a \d+-byte UDP answer .*at most 512 are read/);
  });

  it('maps SERVFAIL and REFUSED to errors, NXDOMAIN and no data to an empty answer', async () => {
    const rcodes = [RCODE.SERVFAIL, RCODE.REFUSED, RCODE.NXDOMAIN, RCODE.NOERROR];
    let next = 0;
    const server = await serve({ udp: (x) => x.send(response(x.query, [], { rcode: rcodes[next++] })) });
    const servfail = await expectKind(ask(server), 'servfail');
    expect(servfail.message).toContain('answered SERVFAIL');
    await expectKind(ask(server), 'refused');
    await expect(ask(server)).resolves.toEqual([]);
    await expect(ask(server)).resolves.toEqual([]);
  });

  it('gives up on a server that never answers, after each try (within the timeouts plus a margin)', async () => {
    const server = await serve({ udp: () => undefined });
    const started = Date.now();
    await expectKind(ask(server, { tries: 2 }), 'timeout');
    expect(Date.now() - started).toBeLessThan(2 * TIMEOUT + MARGIN);
    expect(server.udpQueries).toHaveLength(2);
  });

  it('stops at once when aborted', async () => {
    const server = await serve({ udp: () => undefined });
    const controller = new AbortController();
    const started = Date.now();
    const pending = ask(server, { timeoutMs: 20_000, signal: controller.signal });
    setTimeout(() => controller.abort(new Error('interrupted')), 50);
    await expectKind(pending, 'aborted');
    expect(Date.now() - started).toBeLessThan(MARGIN);
  });
});

describe('a truncated answer (TC)', () => {
  it('is asked again over TCP, which completes it', async () => {
    const server = await serve({
      udp: (x) => x.send(response(x.query, [tlsaAnswer(NAME, 32)], { flags: 0x0200 })),
      tcp: (query, socket) => socket.write(framed(response(query, [tlsaAnswer(NAME, 200, 1), tlsaAnswer(NAME, 200, 2), tlsaAnswer(NAME, 200, 3)]))),
    });
    const answers = await ask(server, { timeoutMs: 2_000 });
    expect(answers).toHaveLength(3);
    expect(server.tcpQueries).toHaveLength(1);
    expect(server.tcpQueries[0]?.questions?.[0]).toMatchObject({ name: NAME, type: 'TLSA' });
  });

  it('reads a TCP answer that arrives a byte at a time', async () => {
    const server = await serve({
      udp: (x) => x.send(response(x.query, [], { flags: 0x0200 })),
      tcp: (query, socket) => {
        const bytes = framed(response(query, [tlsaAnswer(NAME, 40)]));
        let at = 0;
        const drip = (): void => {
          if (at < bytes.length) socket.write(bytes.subarray(at, ++at), () => setImmediate(drip));
        };
        drip();
      },
    });
    await expect(ask(server, { timeoutMs: 5_000 })).resolves.toHaveLength(1);
  });

  it('refuses a TCP answer over the size limit', async () => {
    const server = await serve({
      udp: (x) => x.send(response(x.query, [], { flags: 0x0200 })),
      tcp: (query, socket) => socket.write(framed(response(query, [tlsaAnswer(NAME, 400)]))),
    });
    const error = await expectKind(ask(server, { timeoutMs: 2_000, limits: { maxTcpBytes: 300 } }), 'bad-response');
    expect(error.message).toMatch(/an answer of \d+ bytes .*at most 300 are read/);
  });

  it('refuses a TCP answer with another id', async () => {
    const server = await serve({
      udp: (x) => x.send(response(x.query, [], { flags: 0x0200 })),
      tcp: (query, socket) => socket.write(framed(response(query, [tlsaAnswer(NAME, 32)], { id: (query.id! + 1) % 0x10000 }))),
    });
    await expectKind(ask(server, { timeoutMs: 2_000 }), 'bad-response');
  });

  it('times out on a TCP server that never answers (within the timeouts plus a margin)', async () => {
    const server = await serve({ udp: (x) => x.send(response(x.query, [], { flags: 0x0200 })) });
    const started = Date.now();
    await expectKind(ask(server), 'timeout');
    expect(Date.now() - started).toBeLessThan(2 * TIMEOUT + MARGIN);
  });

  it('counts a connection closed before the whole answer as a bad response', async () => {
    const server = await serve({
      udp: (x) => x.send(response(x.query, [], { flags: 0x0200 })),
      tcp: (query, socket) => socket.end(framed(response(query, [tlsaAnswer(NAME, 32)])).subarray(0, 20)),
    });
    const error = await expectKind(ask(server, { timeoutMs: 2_000 }), 'bad-response');
    expect(error.message).toContain('closed before the whole answer');
  });
});

describe("the client over Node's resolver", () => {
  it('tells SERVFAIL, a silent server and an abort apart from an empty answer', async () => {
    let mode: 'servfail' | 'silent' | 'nxdomain' = 'servfail';
    const server = await serve({
      udp: (x) => {
        if (mode === 'servfail') x.send(response(x.query, [], { rcode: RCODE.SERVFAIL }));
        else if (mode === 'nxdomain') x.send(response(x.query, [], { rcode: RCODE.NXDOMAIN }));
      },
    });
    const client = createDnsClient({ servers: [server.server], timeoutMs: TIMEOUT, tries: 1 });
    await expectKind(client.mx('example.test'), 'servfail');
    mode = 'nxdomain';
    await expect(client.mx('example.test')).resolves.toEqual([]);
    await expect(client.addresses('example.test')).resolves.toEqual([]);
    mode = 'silent';
    const started = Date.now();
    await expectKind(client.txt('example.test'), 'timeout');
    expect(Date.now() - started).toBeLessThan(TIMEOUT + MARGIN);

    const controller = new AbortController();
    const aborting = createDnsClient({ servers: [server.server], timeoutMs: 20_000, tries: 1, signal: controller.signal });
    const pending = aborting.srv('_imaps._tcp.example.test');
    setTimeout(() => controller.abort(), 50);
    await expectKind(pending, 'aborted');
    await expectKind(aborting.tlsa(NAME), 'aborted');
  });

  it('a server that fails every query gives only "could not be looked up" findings, never "absent"', async () => {
    const server = await serve({ udp: (x) => x.send(response(x.query, [], { rcode: RCODE.SERVFAIL })) });
    const records = await lookupDomainRecords('example.test', createDnsClient({ servers: [server.server], timeoutMs: TIMEOUT, tries: 1 }));
    expect(records.mx).toMatchObject({ kind: 'unknown' });
    expect(records.txt).toEqual({});
    expect(records.findings.length).toBeGreaterThan(0);
    expect(records.findings.map((f) => f.id).filter((id) => id !== 'dns-lookup-failed')).toEqual([]);
    expect(records.findings.find((f) => f.host === '_dmarc.example.test')).toMatchObject({
      severity: 'warn',
      title: 'the TXT record of _dmarc.example.test could not be looked up (the server answered SERVFAIL)',
    });
  });
});
