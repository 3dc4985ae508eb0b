import { readFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { parseDocument } from 'yaml';
import { ENDPOINT_HOST, type EndpointName } from '../../src/lab/ports.js';
import type { SrvAnswer, SrvService } from '../../src/probe/domain-model.js';
import { allDomainFindings, probeDomain, type DomainProbeOptions, type DomainReport } from '../../src/probe/domain-probe.js';
import type { Finding } from '../../src/probe/findings.js';
import type { ExpectedService } from '../../src/probe/port-probe.js';
import { Transcript, TransportError } from '../../src/transport/index.js';
import type { FakeLineServer } from '../support/fake-line-server.js';
import { testCerts, type TestCerts } from '../support/test-certs.js';
import { blackhole, mailFake, neverAccepts, refusedPort } from './fakes.js';
import { discovery, names, records } from './domain-records.js';

/**
 * probeDomain against fake servers on 127.0.0.x. The DNS records and the
 * autoconfig document are built by hand (the DNS and discovery parts have
 * their own tests); they point made-up .test names at the fakes' addresses,
 * and a ports map stands for the conventional ports, since fakes listen on high ones.
 */
let certs: TestCerts;
const closers: Array<() => Promise<void>> = [];
const TIMEOUTS = { tcp: 1_500, tls: 1_500, greeting: 1_500, command: 5_000, injection: 500 };

beforeAll(async () => {
  certs = await testCerts();
});
afterAll(async () => {
  await Promise.all(closers.map((close) => close()));
});

async function fake(options: Parameters<typeof mailFake>[0]): Promise<FakeLineServer> {
  const server = await mailFake(options);
  closers.push(() => server.close());
  return server;
}

function srv(service: SrvService, name: string, port: number, addresses: readonly string[] = ['127.0.0.1']): SrvAnswer {
  return { service, name, port, priority: 0, weight: 1, addresses };
}

function probe(options: Partial<DomainProbeOptions> & Pick<DomainProbeOptions, 'records'>): Promise<DomainReport> {
  return probeDomain({
    discovery: discovery(),
    timeouts: TIMEOUTS,
    tls: { ca: certs.ca },
    transcript: new Transcript(),
    // The TLS facts have their own tests; here they would only add handshakes.
    inspectTls: () => Promise.resolve([]),
    ...options,
  });
}

const ids = (findings: readonly Finding[]): string[] => findings.map((f) => f.id);
const only = (report: DomainReport, id: string): Finding => {
  const found = report.findings.filter((f) => f.id === id);
  expect(found, `domain findings: ${JSON.stringify(report.findings, null, 2)}`).toHaveLength(1);
  return found[0]!;
};

describe('probeDomain: SRV and autoconfig', () => {
  it('probes an SRV target that answers under its own TLS name, and fails one where nothing answers', async () => {
    const imaps = await fake({ protocol: 'imap', implicitTls: certs.localhost });
    const closed = await refusedPort();
    const report = await probe({
      records: records({
        mx: { kind: 'null' },
        srv: [srv('_imaps._tcp', 'imap.example.test', imaps.port), srv('_submissions._tcp', 'smtp.example.test', closed)],
      }),
    });
    expect(report.hosts.map((h) => [h.host, h.ports.map((p) => p.port)])).toEqual([
      ['imap.example.test', [imaps.port]],
      ['smtp.example.test', [closed]],
    ]);
    // A certificate must match the name the client uses: each host's TLS name is its own.
    expect(report.hosts[0]!.ports[0]!.tls?.info?.checkedName).toBe('imap.example.test');
    expect(ids(report.findings)).toEqual(['srv-target-refused']);
    const refused = only(report, 'srv-target-refused');
    expect(refused).toMatchObject({ severity: 'fail', host: 'smtp.example.test', port: closed });
    expect(refused.title).toBe(`the SRV record _submissions._tcp says smtp.example.test:${closed}, but nothing answers there`);
    expect(refused.evidence).toContain(`127.0.0.1:${closed} refused`);
  });

  it('an SRV target that accepts and stays silent is a warning about what this network saw, not a failure', async () => {
    const hole = await blackhole();
    closers.push(hole.close);
    const report = await probe({ records: records({ mx: { kind: 'null' }, srv: [srv('_imaps._tcp', 'imap.example.test', hole.port)] }) });
    const unseen = only(report, 'srv-target-unreachable');
    expect(unseen.severity).toBe('warn');
    expect(unseen.hint).toContain('check from another network');
    // The port's own finding says what happened there.
    expect(ids(report.hosts[0]!.ports[0]!.findings)).toEqual(['tls-silent']);
  });

  it('warns when SRV and autoconfig name different servers for one service, naming both; nothing when they agree', async () => {
    const imaps = await fake({ protocol: 'imap', implicitTls: certs.localhost });
    const autoconfig = (host: string) =>
      discovery({
        autoconfig: { url: 'https://autoconfig.example.test/mail/config-v1.1.xml', servers: [{ protocol: 'imap', host, port: imaps.port, security: 'tls' }] },
      });
    const zone = records({
      mx: { kind: 'null' },
      srv: [srv('_imaps._tcp', 'imap.example.test', imaps.port)],
    });
    const resolve = (name: string): Promise<readonly string[]> => Promise.resolve(name === 'other.example.test' ? ['127.0.0.1'] : []);

    const differ = await probe({ records: zone, discovery: autoconfig('other.example.test'), resolve, ports: {} });
    const disagree = only(differ, 'srv-autoconfig-disagree');
    expect(disagree.severity).toBe('warn');
    expect(disagree.hint).toBe(
      `the SRV record _imaps._tcp names imap.example.test:${imaps.port}, autoconfig names other.example.test:${imaps.port}: clients that read one get a different server from clients that read the other; publish the same server in both`,
    );
    // Both were probed, each under its own name, and both answer: no other domain finding.
    expect(differ.hosts.map((h) => h.host)).toEqual(['imap.example.test', 'other.example.test']);
    expect(ids(differ.findings)).toEqual(['srv-autoconfig-disagree']);

    const agree = await probe({ records: zone, discovery: autoconfig('IMAP.example.test.'), resolve, ports: {} });
    expect(agree.findings).toEqual([]);
    expect(agree.plan.targets.map((t) => t.sources)).toEqual([['srv:_imaps._tcp', 'autoconfig']]);
  });

  it('an autoconfig server that speaks another protocol keeps its port finding and gets no second one', async () => {
    const smtp = await fake({ protocol: 'smtp', starttls: certs.localhost });
    const report = await probe({
      records: records({ mx: { kind: 'null' } }),
      discovery: discovery({
        autoconfig: { url: 'https://x.example.test/', servers: [{ protocol: 'imap', host: 'in.example.test', port: smtp.port, security: 'none' }] },
      }),
      resolve: () => Promise.resolve(['127.0.0.1']),
    });
    expect(ids(report.findings)).toEqual([]);
    expect(ids(report.hosts[0]!.findings)).toEqual(['wrong-protocol']);
    expect(report.plan.targets[0]!.sources).toEqual(['autoconfig']);
  });
});

describe('probeDomain: discovery still under way', () => {
  it('probes what DNS names while discovery is pending, then only the servers discovery adds', async () => {
    const imaps = await fake({ protocol: 'imap', implicitTls: certs.localhost });
    const submission = await fake({ protocol: 'smtp', starttls: certs.localhost });
    let answer: (report: ReturnType<typeof discovery>) => void = () => undefined;
    const pending = new Promise<ReturnType<typeof discovery>>((resolve) => (answer = resolve));
    const running = probe({
      records: records({ mx: { kind: 'null' }, srv: [srv('_imaps._tcp', 'imap.example.test', imaps.port)] }),
      discovery: pending,
      resolve: () => Promise.resolve(['127.0.0.1']),
      ports: {},
    });
    // The SRV target is probed before discovery has answered: a dead discovery host costs no time of the ports'.
    await vi.waitUntil(() => imaps.sessions.length > 0, { timeout: 5_000, interval: 20 });
    expect(submission.sessions).toHaveLength(0);
    answer(
      discovery({
        autoconfig: {
          url: 'https://autoconfig.example.test/mail/config-v1.1.xml',
          servers: [
            { protocol: 'imap', host: 'imap.example.test', port: imaps.port, security: 'tls' },
            { protocol: 'smtp', host: 'out.example.test', port: submission.port, security: 'starttls' },
          ],
        },
      }),
    );
    const report = await running;
    // The server both name was probed once, in the first round; the one only autoconfig names, after it.
    expect(imaps.sessions.filter((session) => session.received.length > 0).length).toBeGreaterThan(0);
    expect(report.hosts.map((h) => [h.host, h.ports.map((p) => p.port)])).toEqual([
      ['imap.example.test', [imaps.port]],
      ['out.example.test', [submission.port]],
    ]);
    expect(report.plan.targets.find((t) => t.host === 'imap.example.test')?.sources).toEqual(['srv:_imaps._tcp', 'autoconfig']);
    expect(ids(report.findings)).toEqual([]);
    expect(report.hosts.flatMap((h) => h.findings).filter((f) => f.severity === 'fail' || f.severity === 'warn')).toEqual([]);
  });
});

describe('probeDomain: addresses and timing', () => {
  it('tries every address of a name, IPv6 too; one family answering is enough for its SRV record', async () => {
    const v6 = await fake({ protocol: 'imap', implicitTls: certs.localhost, host: '::1' });
    const report = await probe({ records: records({ mx: { kind: 'null' }, srv: [srv('_imaps._tcp', 'imap.example.test', v6.port, ['127.0.0.1', '::1'])] }) });
    expect(report.hosts[0]!.ports.map((p) => [p.address, p.tcp.outcome, p.spoken])).toEqual([
      ['127.0.0.1', 'refused', undefined],
      ['::1', 'connected', 'imap'],
    ]);
    expect(report.findings).toEqual([]);
  });

  it('a domain whose every host and port is blackholed ends in about one greeting timeout, with a budget of one', async () => {
    const holes = await Promise.all(Array.from({ length: 4 }, () => blackhole()));
    for (const hole of holes) closers.push(hole.close);
    const greeting = 2_000;
    const started = performance.now();
    const report = await probe({
      records: records({
        mx: { kind: 'hosts', hosts: [{ name: 'mx.example.test', addresses: ['127.0.0.1'], preference: 10 }] },
        srv: [
          srv('_submission._tcp', 'a.example.test', holes[1]!.port),
          srv('_imaps._tcp', 'b.example.test', holes[2]!.port),
          srv('_pop3._tcp', 'c.example.test', holes[3]!.port),
        ],
        names: names('example.test', { imap: ['127.0.0.1'] }),
      }),
      ports: { [holes[0]!.port]: { protocol: 'smtp', security: 'starttls', mx: true }, [holes[2]!.port]: { protocol: 'imap', security: 'tls' } },
      budget: 1,
      timeouts: { tcp: greeting, tls: greeting, greeting },
    });
    const elapsed = performance.now() - started;
    console.log(`blackholed domain: ${Math.round(elapsed)} ms for ${report.plan.targets.length} host:port pairs with ${greeting} ms timeouts`);
    // One after the other it would take five timeouts; the bound is one plus a wide margin.
    expect(elapsed).toBeLessThan(greeting + 5_000);
    expect(report.plan.targets).toHaveLength(5);
    expect(ids(report.findings).sort()).toEqual(['mx-unreachable-here', 'srv-target-unreachable', 'srv-target-unreachable', 'srv-target-unreachable']);
  });
});

describe('probeDomain: names autoconfig gives', () => {
  it('resolves them with the given resolver; one whose lookup fails is a warning, not "does not resolve"', async () => {
    const imaps = await fake({ protocol: 'imap', implicitTls: certs.localhost });
    const resolve = (name: string): Promise<readonly string[]> => {
      if (name === 'in.example.test') return Promise.resolve(['127.0.0.1']);
      if (name === 'gone.example.test') return Promise.resolve([]);
      return Promise.reject(new Error(`queryA ETIMEOUT ${name}`));
    };
    const report = await probe({
      records: records({ mx: { kind: 'null' } }),
      discovery: discovery({
        autoconfig: {
          url: 'https://autoconfig.example.test/mail/config-v1.1.xml',
          servers: [
            { protocol: 'imap', host: 'in.example.test', port: imaps.port, security: 'tls' },
            { protocol: 'smtp', host: 'gone.example.test', port: 465, security: 'tls' },
            { protocol: 'pop3', host: 'slow.example.test', port: 995, security: 'tls' },
          ],
        },
      }),
      resolve,
    });
    expect(report.hosts.map((h) => h.host)).toEqual(['in.example.test']);
    expect(report.findings.map((f) => [f.id, f.severity, f.host, f.evidence])).toEqual([
      ['source-host-unresolved', 'fail', 'gone.example.test', 'no A or AAAA record for gone.example.test'],
      ['source-host-lookup-failed', 'warn', 'slow.example.test', 'queryA ETIMEOUT slow.example.test'],
    ]);
  });
});

describe('probeDomain: MX', () => {
  const MX_PORT_FOR = (port: number): Record<number, ExpectedService> => ({ [port]: { protocol: 'smtp', security: 'starttls', mx: true } });

  it('warns about an MX that refuses while another takes mail; fails when every MX refuses', async () => {
    const mx = await fake({ protocol: 'smtp', starttls: certs.localhost });
    // Nothing listens on 127.0.0.2 at the fake's port: that MX refuses.
    const twoMx = records({
      mx: {
        kind: 'hosts',
        hosts: [
          { name: 'mx1.example.test', addresses: ['127.0.0.1'], preference: 10 },
          { name: 'mx2.example.test', addresses: ['127.0.0.2'], preference: 20 },
        ],
      },
    });
    const one = await probe({ records: twoMx, ports: MX_PORT_FOR(mx.port) });
    const down = only(one, 'mx-not-answering');
    expect(down).toMatchObject({ severity: 'warn', host: 'mx2.example.test', port: mx.port });
    expect(down.hint).toContain('it refuses connections');
    expect(ids(one.findings)).toEqual(['mx-not-answering']);

    const closed = await refusedPort();
    const none = await probe({
      records: records({ mx: { kind: 'hosts', hosts: [{ name: 'mx.example.test', addresses: ['127.0.0.1'], preference: 10 }] } }),
      ports: MX_PORT_FOR(closed),
    });
    expect(only(none, 'mx-none-answering')).toMatchObject({ severity: 'fail', host: 'example.test', port: closed });
  });

  it('an MX port that times out is never blamed on the server; with submission working it is the ISP-block case', async () => {
    const never = await neverAccepts();
    closers.push(never.close);
    const submission = await fake({ protocol: 'smtp', starttls: certs.localhost });
    const zone = records({
      mx: { kind: 'hosts', hosts: [{ name: 'mx.example.test', addresses: ['127.0.0.1'], preference: 10 }] },
      names: names('example.test', { smtp: ['127.0.0.1'] }),
    });
    const ports: Record<number, ExpectedService> = { ...MX_PORT_FOR(never.port), [submission.port]: { protocol: 'smtp', security: 'starttls' } };
    const blocked = await probe({ records: zone, ports });
    expect(ids(blocked.findings)).toEqual(['mx-port-blocked-here']);
    const finding = blocked.findings[0]!;
    expect(finding.severity).toBe('info');
    expect(finding.hint).toContain(`timed out while smtp.example.test:${submission.port} works: many ISPs block outbound`);
    // The port probe's own finding on the MX port stays what it was.
    expect(ids(blocked.hosts.find((h) => h.host === 'mx.example.test')!.findings)).toEqual(['tcp-timeout']);

    const alone = await probe({ records: zone, ports: MX_PORT_FOR(never.port) });
    expect(only(alone, 'mx-unreachable-here').severity).toBe('warn');
  });
});

/** What the counting servers saw, shared between them: EHLOs being answered at once, across every server that counts into it. */
interface Count {
  outstanding: number;
  peak: number;
  ehlos: number;
  waiting: Array<() => void>;
}

const newCount = (): Count => ({ outstanding: 0, peak: 0, ehlos: 0, waiting: [] });

/**
 * An SMTP server that counts the EHLOs being answered at once (into `count`,
 * which several servers may share). It holds each EHLO until `hold` are
 * outstanding (or a second has passed), so conversations that may overlap
 * always do, however slow the machine, and ones that may not never reach the count.
 */
async function countingSmtp(address: string, count: Count, hold = 2): Promise<{ port: number }> {
  const sockets = new Set<Socket>();
  const release = (): void => {
    const answers = count.waiting;
    count.waiting = [];
    for (const answer of answers) answer();
  };
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.write('220 count.test ESMTP\r\n');
    let buffered = '';
    socket.on('data', (data: Buffer) => {
      buffered += data.toString('latin1');
      for (let end = buffered.indexOf('\r\n'); end >= 0; end = buffered.indexOf('\r\n')) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        const verb = line.split(' ')[0]!.toUpperCase();
        if (verb === 'EHLO') {
          count.ehlos += 1;
          count.outstanding += 1;
          count.peak = Math.max(count.peak, count.outstanding);
          count.waiting.push(() => {
            count.outstanding -= 1;
            socket.write('250-count.test\r\n250 SIZE 1000\r\n');
          });
          if (count.outstanding >= hold) release();
          else setTimeout(release, 1_000);
        } else if (verb === 'QUIT') socket.end('221 bye\r\n');
        else socket.write('502 unknown\r\n');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, address, resolve));
  closers.push(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { port: (server.address() as AddressInfo).port };
}

describe('probeDomain: one connection budget per address', () => {
  it('names that share an address share its budget', async () => {
    const count = newCount();
    const server = await countingSmtp('127.0.0.1', count);
    const report = await probe({
      records: records({
        mx: { kind: 'null' },
        srv: ['a', 'b', 'c'].map((n) => srv('_submission._tcp', `${n}.example.test`, server.port)),
      }),
      budget: 1,
    });
    expect(report.hosts).toHaveLength(3);
    expect(count.ehlos).toBe(3);
    // Three names, one address, a budget of one: never two conversations at once.
    expect(count.peak).toBe(1);
  });

  it('each address has a budget of its own', async () => {
    const count = newCount();
    const first = await countingSmtp('127.0.0.1', count);
    const second = await countingSmtp('127.0.0.2', count);
    const report = await probe({
      records: records({
        mx: { kind: 'null' },
        srv: [srv('_submission._tcp', 'a.example.test', first.port, ['127.0.0.1']), srv('_submission._tcp', 'b.example.test', second.port, ['127.0.0.2'])],
      }),
      budget: 1,
    });
    expect(report.hosts).toHaveLength(2);
    expect(count.ehlos).toBe(2);
    // A budget of one per address, two addresses: both conversations at once.
    expect(count.peak).toBe(2);
  });
});

describe('probeDomain: abort', () => {
  it('rejects as aborted, and soon, when its signal fires mid-probe', async () => {
    const holes = await Promise.all([blackhole(), blackhole()]);
    for (const hole of holes) closers.push(hole.close);
    const controller = new AbortController();
    const slow = { tcp: 60_000, tls: 60_000, greeting: 60_000, command: 60_000 };
    const started = performance.now();
    const running = probe({
      records: records({ mx: { kind: 'null' }, srv: holes.map((h, i) => srv('_submission._tcp', `h${i}.example.test`, h.port)) }),
      timeouts: slow,
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 300);
    const error: unknown = await running.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TransportError);
    expect((error as TransportError).code).toBe('EABORTED');
    // Far below the 60 s timeouts it would otherwise wait.
    expect(performance.now() - started).toBeLessThan(20_000);
  });
});

describe('allDomainFindings', () => {
  it('gathers the DNS, discovery, domain and port findings, for the exit code and the JSON', async () => {
    const closed = await refusedPort();
    const dns = { id: 'dns-example', severity: 'info', host: 'example.test', title: 't', evidence: 'e', hint: 'h' } as const;
    const report = await probe({
      records: records({ mx: { kind: 'null' }, srv: [srv('_imaps._tcp', 'imap.example.test', closed)], findings: [dns] }),
    });
    expect(ids(allDomainFindings(report))).toEqual(['dns-example', 'srv-target-refused', 'tcp-refused']);
  });
});

describe('probeDomain: the lab', () => {
  it('a zone that points every service of a made-up domain at the lab gives no warn or fail', async () => {
    const lab = inject('lab');
    const target = parseDocument(await readFile(lab.targetFile, 'utf8')).toJS() as {
      endpoints: Record<EndpointName, { port: number }>;
      tls: { ca_file: string; servername: string };
    };
    const ca = await readFile(target.tls.ca_file, 'utf8');
    // The certificate's name is the lab's servername: every record names that host, at the address each endpoint listens on.
    const host = target.tls.servername;
    const at = (e: EndpointName): readonly string[] => [ENDPOINT_HOST[e]];
    const services: Array<[SrvService, EndpointName]> = [
      ['_submissions._tcp', 'smtps'],
      ['_submission._tcp', 'submission'],
      ['_imaps._tcp', 'imaps'],
      ['_imap._tcp', 'imap'],
      ['_pop3s._tcp', 'pop3s'],
      ['_pop3._tcp', 'pop3'],
    ];
    const started = performance.now();
    const report = await probeDomain({
      records: records({
        domain: 'lab.example.test',
        mx: { kind: 'hosts', hosts: [{ name: host, addresses: at('smtp'), preference: 10 }] },
        srv: services.map(([service, e]) => srv(service, host, target.endpoints[e].port, at(e))),
      }),
      discovery: discovery(),
      ports: { [target.endpoints.smtp.port]: { protocol: 'smtp', security: 'starttls', mx: true } },
      tls: { ca },
      timeouts: { injection: 1_000 },
      transcript: new Transcript(),
    });
    console.log(`lab as a domain: ${Math.round(performance.now() - started)} ms for ${report.plan.targets.length} host:port pairs`);
    const all = allDomainFindings(report);
    // Both lab addresses are tried on every port; the one an endpoint does not listen on refuses (info).
    const bad = all.filter((f) => f.severity === 'warn' || f.severity === 'fail');
    expect(bad, JSON.stringify(bad, null, 2)).toEqual([]);
    expect(report.findings).toEqual([]);
    expect(report.plan.targets).toHaveLength(7);
    const answered = report.hosts.flatMap((h) => h.ports).filter((p) => p.spoken !== undefined);
    expect(answered.map((p) => p.findings.some((f) => f.id === 'port-ok'))).toEqual(answered.map(() => true));
    expect(answered).toHaveLength(7);
  });
});
