import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseDocument } from 'yaml';
import { ENDPOINT_HOST, type EndpointName } from '../../src/lab/ports.js';
import type { DomainReport } from '../../src/probe/domain-probe.js';
import type { Finding } from '../../src/probe/findings.js';
import type { HostReport } from '../../src/probe/host-probe.js';
import { describeRun, runCli } from '../support/cli.js';
import { startDnsmasq, type RunningDnsmasq } from '../support/dnsmasq.js';
import { startHttpsFixture, type HttpsFixture } from '../support/https-fixture.js';
import { DEFAULT_TIMEOUTS } from '../../src/transport/timeouts.js';
import { neverAccepts } from '../probe/fakes.js';
import { signCertificate, testCerts } from '../support/test-certs.js';

/**
 * `mailprobe probe DOMAIN` through the built CLI, end to end on loopback: a
 * real dnsmasq serves the made-up mail domain lab.test (MX, the six SRV
 * services, SPF, DMARC, MTA-STS, TLS-RPT, TLSA) pointing at the lab's real
 * Postfix and Dovecot, and a local HTTPS server serves its autoconfig and
 * MTA-STS policy. The lab's certificate carries *.lab.test for this.
 */
const DOMAIN = 'lab.test';
const MAIL = `mail.${DOMAIN}`; // the lab's main address (SMTP, submission, implicit TLS)
const PLAIN = `plain.${DOMAIN}`; // the lab's second address (IMAP and POP3 with STARTTLS)

let dns: RunningDnsmasq;
let https: HttpsFixture;
let dir: string;
let caFile: string;
let endpoints: Record<EndpointName, { port: number }>;
let mxPorts: string;
/** Listeners that never accept, for dead.lab.test: two SRV targets, its MX port and its HTTPS port. */
let dead: Array<{ port: number; close: () => Promise<void> }> = [];

const srvOf = (service: string, target: string, e: EndpointName) => ({ name: `${service}.${DOMAIN}`, target, port: endpoints[e].port });

beforeAll(async () => {
  const lab = inject('lab');
  const target = parseDocument(await readFile(lab.targetFile, 'utf8')).toJS() as {
    endpoints: Record<EndpointName, { port: number }>;
    tls: { ca_file: string };
  };
  endpoints = target.endpoints;
  mxPorts = `${endpoints.smtp.port}=smtp/starttls/mx`;
  expect(ENDPOINT_HOST.imap).not.toBe(ENDPOINT_HOST.imaps);

  const certs = await testCerts();
  const names = [DOMAIN, `autoconfig.${DOMAIN}`, `mta-sts.${DOMAIN}`, `autodiscover.${DOMAIN}`];
  const cert = await signCertificate(certs.dir, 'lab-test-discovery', {
    ca: 'ca',
    subject: `/CN=${DOMAIN}`,
    days: '2',
    ext: `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n`,
  });
  https = await startHttpsFixture({ cert });
  // One --ca-file for both: the lab's CA (mail ports) and the test CA (the discovery URLs).
  dir = await mkdtemp(join(tmpdir(), 'mailprobe-probe-domain-'));
  caFile = join(dir, 'ca.pem');
  await writeFile(caFile, `${await readFile(target.tls.ca_file, 'utf8')}\n${https.ca}`);

  https.route('GET', `autoconfig.${DOMAIN}`, '/mail/config-v1.1.xml', {
    headers: { 'content-type': 'text/xml' },
    body: `<?xml version="1.0"?>
<clientConfig version="1.1">
  <emailProvider id="${DOMAIN}">
    <domain>${DOMAIN}</domain>
    <displayName>lab</displayName>
    <incomingServer type="imap"><hostname>${MAIL}</hostname><port>${endpoints.imaps.port}</port><socketType>SSL</socketType><username>%EMAILADDRESS%</username><authentication>password-cleartext</authentication></incomingServer>
    <incomingServer type="pop3"><hostname>${MAIL}</hostname><port>${endpoints.pop3s.port}</port><socketType>SSL</socketType><username>%EMAILADDRESS%</username><authentication>password-cleartext</authentication></incomingServer>
    <outgoingServer type="smtp"><hostname>${MAIL}</hostname><port>${endpoints.submission.port}</port><socketType>STARTTLS</socketType><username>%EMAILADDRESS%</username><authentication>password-cleartext</authentication></outgoingServer>
  </emailProvider>
</clientConfig>
`,
  });
  https.route('GET', `mta-sts.${DOMAIN}`, '/.well-known/mta-sts.txt', {
    headers: { 'content-type': 'text/plain' },
    body: `version: STSv1\nmode: enforce\nmx: ${MAIL}\nmax_age: 86400\n`,
  });

  dead = await Promise.all([0, 1, 2, 3].map(() => neverAccepts()));
  const [deadImaps, deadSubmission] = dead;
  dns = await startDnsmasq({
    zone: DOMAIN,
    hosts: {
      [MAIL]: [ENDPOINT_HOST.smtp],
      [PLAIN]: [ENDPOINT_HOST.imap],
      [`autoconfig.${DOMAIN}`]: ['127.0.0.1'],
      [`mta-sts.${DOMAIN}`]: ['127.0.0.1'],
      [`quiet.${DOMAIN}`]: ['127.0.0.1'],
      [`mx.dead.${DOMAIN}`]: ['127.0.0.1'],
      [`srv.dead.${DOMAIN}`]: ['127.0.0.1'],
      [`autoconfig.dead.${DOMAIN}`]: ['127.0.0.1'],
    },
    mx: [
      { name: DOMAIN, exchange: MAIL, preference: 10 },
      { name: `broken.${DOMAIN}`, exchange: MAIL, preference: 10 },
      { name: `dead.${DOMAIN}`, exchange: `mx.dead.${DOMAIN}`, preference: 10 },
    ],
    srv: [
      srvOf('_submissions._tcp', MAIL, 'smtps'),
      srvOf('_submission._tcp', MAIL, 'submission'),
      srvOf('_imaps._tcp', MAIL, 'imaps'),
      srvOf('_imap._tcp', PLAIN, 'imap'),
      srvOf('_pop3s._tcp', MAIL, 'pop3s'),
      srvOf('_pop3._tcp', PLAIN, 'pop3'),
      // broken.lab.test publishes IMAPS where nothing listens (port 1 of the quiet address refuses).
      { name: `_imaps._tcp.broken.${DOMAIN}`, target: `quiet.${DOMAIN}`, port: 1 },
      // dead.lab.test: every port it names, and its autoconfig host, drop the connection (never accept).
      { name: `_imaps._tcp.dead.${DOMAIN}`, target: `srv.dead.${DOMAIN}`, port: deadImaps!.port },
      { name: `_submission._tcp.dead.${DOMAIN}`, target: `srv.dead.${DOMAIN}`, port: deadSubmission!.port },
    ],
    txt: [
      { name: DOMAIN, strings: ['v=spf1 mx -all'] },
      { name: `_dmarc.${DOMAIN}`, strings: ['v=DMARC1; p=reject'] },
      { name: `_mta-sts.${DOMAIN}`, strings: ['v=STSv1; id=20261201'] },
      { name: `_smtp._tls.${DOMAIN}`, strings: ['v=TLSRPTv1; rua=mailto:tls@lab.test'] },
    ],
    raw: [{ name: `_25._tcp.${MAIL}`, type: 52, hex: `030101${'ab'.repeat(32)}` }],
  });
});

afterAll(async () => {
  await Promise.all(dead.map((l) => l.close()));
  await dns?.stop();
  await https?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

const common = () => ['--dns-server', dns.server, '--ca-file', caFile, '--https-port', String(https.port)];
/** The lab's MX listens on a high port: --ports says so, and --ports alone would make auto mode probe one host, so --as domain. */
const asLabDomain = () => [...common(), '--as', 'domain', '--ports', mxPorts];
const notOk = (findings: readonly Finding[]) => findings.filter((f) => f.severity === 'warn' || f.severity === 'fail');
const all = (report: DomainReport): Finding[] => [
  ...report.records.findings,
  ...report.discovery.findings,
  ...report.findings,
  ...report.hosts.flatMap((h) => h.findings),
];

describe('mailprobe probe DOMAIN against the lab, a real DNS server and a local HTTPS server', () => {
  it('the lab as the mail domain lab.test: MX, SRV, autoconfig and MTA-STS agree, nothing worse than info, exit 0', async () => {
    const started = performance.now();
    const r = await runCli(['probe', DOMAIN, ...asLabDomain(), '--json']);
    const ms = Math.round(performance.now() - started);
    expect(r.code, describeRun(r)).toBe(0);
    const report = JSON.parse(r.stdout) as DomainReport;
    const findings = all(report);
    expect(notOk(findings), JSON.stringify(notOk(findings), null, 2)).toEqual([]);
    const ids = new Set(findings.map((f) => f.id));
    for (const id of [
      'dns-mx-present',
      'dns-srv-present',
      'dns-spf-present',
      'dns-dmarc-present',
      'dns-mta-sts-present',
      'dns-tls-rpt-present',
      'dns-tlsa-present',
      'autoconfig-found',
      'mta-sts-policy-ok',
      'port-ok',
    ])
      expect(ids, id).toContain(id);
    // Seven services, each answered by the lab: the MX on its port, the six SRV targets on theirs.
    const answered = report.hosts.flatMap((h: HostReport) => h.ports).filter((p) => p.findings.some((f) => f.id === 'port-ok'));
    expect(new Set(answered.map((p) => `${p.host}:${p.port}`)).size).toBe(7);
    // Every discovery request went to the fixture under its own name (SNI and Host), never elsewhere.
    expect(https.requests.map((q) => q.host)).toEqual(expect.arrayContaining([`autoconfig.${DOMAIN}`, `mta-sts.${DOMAIN}`]));
    console.log(`probe ${DOMAIN} against the lab: ${ms} ms wall time (one CLI process), ${report.plan.targets.length} host:port pairs`);
  });

  it('the table names the domain, its DNS and discovery, and a port table per host', async () => {
    const r = await runCli(['probe', DOMAIN, ...asLabDomain()]);
    expect(r.code, describeRun(r)).toBe(0);
    if (process.env.MAILPROBE_SHOW_TABLE !== undefined) console.log(r.stdout);
    expect(r.stdout).toContain(`mailprobe probe ${DOMAIN}`);
    expect(r.stdout).toMatch(/^DNS$/m);
    expect(r.stdout).toMatch(/^discovery$/m);
    expect(r.stdout).toContain(MAIL);
    expect(r.stdout).toContain(PLAIN);
  });

  it('an SRV record that points where nothing answers: srv-target-refused (fail), exit 1, and JUnit names it', async () => {
    const junit = join(dir, 'broken.xml');
    const r = await runCli(['probe', `broken.${DOMAIN}`, ...asLabDomain(), '--json', '--reporter', `junit=${junit}`]);
    expect(r.code, describeRun(r)).toBe(1);
    const report = JSON.parse(r.stdout) as DomainReport;
    const failed = all(report).filter((f) => f.severity === 'fail');
    expect(failed.map((f) => f.id)).toContain('srv-target-refused');
    const xml = await readFile(junit, 'utf8');
    expect(xml).toContain('srv-target-refused');
    expect(xml).toMatch(/<testsuite[^>]+name="broken\.lab\.test"/);
  });

  it('a domain whose every port and its autoconfig host drop connections ends in about one connect timeout, default timeouts', async () => {
    const [, , mx, httpsPort] = dead;
    const started = performance.now();
    const r = await runCli([
      'probe',
      `dead.${DOMAIN}`,
      '--dns-server',
      dns.server,
      '--https-port',
      String(httpsPort!.port),
      '--as',
      'domain',
      '--ports',
      `${mx!.port}=smtp/starttls/mx`,
      '--json',
    ]);
    const elapsed = performance.now() - started;
    console.log(`blackholed domain (MX, two SRV targets and autoconfig never accept), default timeouts: ${Math.round(elapsed)} ms`);
    // Timeouts are what this network saw, never the server's fault: warnings, exit 0.
    expect(r.code, describeRun(r)).toBe(0);
    const report = JSON.parse(r.stdout) as DomainReport;
    const timedOut = report.hosts.flatMap((h) => h.ports).map((p) => p.tcp.outcome);
    expect(timedOut).toEqual(['timeout', 'timeout', 'timeout']);
    expect(all(report).map((f) => f.id)).toEqual(expect.arrayContaining(['srv-target-unreachable', 'mx-unreachable-here']));
    // Discovery (its HTTPS connect timing out) runs beside the port probes, not before them: one timeout, not two. Margin 3 s.
    expect(elapsed).toBeLessThan(DEFAULT_TIMEOUTS.tcp + 3_000);
  });

  it('auto mode: a name with no MX and no mail SRV record is probed as a host, and --as domain forces the domain probe', async () => {
    const asHost = await runCli(['probe', MAIL, ...common(), '--json']);
    // The default seven ports of the lab's address mostly refuse (info); what matters is the shape: a host report list.
    expect([0, 1], describeRun(asHost)).toContain(asHost.code);
    const hosts = JSON.parse(asHost.stdout) as HostReport[];
    expect(Array.isArray(hosts)).toBe(true);
    expect(hosts[0]!.host).toBe(MAIL);

    const asDomain = await runCli(['probe', MAIL, ...asLabDomain(), '--json']);
    expect([0, 1], describeRun(asDomain)).toContain(asDomain.code);
    const report = JSON.parse(asDomain.stdout) as DomainReport;
    expect(report.domain).toBe(MAIL);
    expect(report.records.findings.map((f) => f.id)).toContain('dns-mx-none');
  });

  it('a DNS server that answers nothing about the name: exit 3 with the reason, nothing probed', async () => {
    // dnsmasq answers only for lab.test; with no upstream it refuses every other name.
    const r = await runCli(['probe', 'example.invalid', '--dns-server', dns.server, '--as', 'domain']);
    expect(r.code, describeRun(r)).toBe(3);
    expect(r.stderr).toMatch(/did not answer|REFUSED|refused/i);
  });

  it('usage errors before anything is asked: --as domain with an address, with --servername, with --target; a bad --https-port', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['probe', '127.0.0.1', '--as', 'domain'], /is an address, not a mail domain/],
      [['probe', DOMAIN, '--as', 'domain', '--servername', 'x.test'], /--servername does not apply/],
      [['probe', '--target', 'nowhere.yaml', '--as', 'domain'], /--target probes the target file/],
      [['probe', DOMAIN, '--https-port', '0'], /port from 1 to 65535/],
      [['probe', DOMAIN, '--as', 'sideways'], /sideways/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(args);
      expect(r.code, describeRun(r)).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  });
});
