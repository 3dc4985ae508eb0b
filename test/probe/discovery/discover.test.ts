import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { discover, type DiscoverOptions } from '../../../src/probe/discovery/discover.js';
import type { DomainRecords } from '../../../src/probe/domain-model.js';
import type { Finding } from '../../../src/probe/findings.js';
import { type HttpsFixture, startHttpsFixture } from '../../support/https-fixture.js';
import { testCerts } from '../../support/test-certs.js';

/** Every discovery name of the made-up zone on 127.0.0.1 (the fixture also listens on ::1). */
const ZONE = {
  'example.test': ['127.0.0.1'],
  'autoconfig.example.test': ['127.0.0.1'],
  'autodiscover.example.test': ['127.0.0.1'],
  'mta-sts.example.test': ['127.0.0.1'],
};

const AUTOCONFIG = `<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="example.test">
    <domain>example.test</domain>
    <incomingServer type="imap"><hostname>imap.%EMAILDOMAIN%</hostname><port>993</port><socketType>SSL</socketType></incomingServer>
    <incomingServer type="pop3"><hostname>pop.example.test</hostname><port>995</port><socketType>SSL</socketType></incomingServer>
    <outgoingServer type="smtp"><hostname>smtp.%EMAILDOMAIN%</hostname><port>587</port><socketType>STARTTLS</socketType></outgoingServer>
  </emailProvider>
</clientConfig>`;

const MX: DomainRecords['mx'] = {
  kind: 'hosts',
  hosts: [
    { name: 'mx1.example.test', preference: 10, addresses: ['127.0.0.1'] },
    { name: 'mx2.example.test', preference: 20, addresses: ['127.0.0.1'] },
  ],
};
const STS_TXT = { mtaSts: 'v=STSv1; id=20261201' };

let fixture: HttpsFixture;

beforeAll(async () => {
  const certs = await testCerts();
  return () => certs.cleanup();
});

afterEach(async () => {
  await fixture?.close();
});

async function start(options: { cert?: 'named' | 'expired' } = {}): Promise<HttpsFixture> {
  const certs = await testCerts();
  fixture = await startHttpsFixture(options.cert === undefined ? {} : { cert: certs[options.cert] });
  return fixture;
}

function options(extra: Partial<DiscoverOptions> = {}): DiscoverOptions {
  return { resolve: fixture.resolver(ZONE), ca: fixture.ca, port: fixture.port, timeouts: { connectMs: 2_000, headMs: 2_000, bodyMs: 2_000 }, ...extra };
}

function ids(findings: readonly Finding[]): string[] {
  return findings.map((f) => f.id).sort();
}

function byId(findings: readonly Finding[], id: string): Finding {
  const found = findings.find((f) => f.id === id);
  if (found === undefined) throw new Error(`no ${id} among ${ids(findings).join(', ')}`);
  return found;
}

describe('autoconfig', () => {
  it('finds the document at autoconfig.<domain>, parses its servers and fills placeholders', async () => {
    await start();
    fixture.route('GET', 'autoconfig.example.test', '/mail/config-v1.1.xml', { body: AUTOCONFIG });
    const report = await discover('example.test', options());
    expect(report.autoconfig).toEqual({
      url: `https://autoconfig.example.test:${fixture.port}/mail/config-v1.1.xml`,
      servers: [
        { protocol: 'imap', host: 'imap.example.test', port: 993, security: 'tls' },
        { protocol: 'pop3', host: 'pop.example.test', port: 995, security: 'tls' },
        { protocol: 'smtp', host: 'smtp.example.test', port: 587, security: 'starttls' },
      ],
    });
    const found = byId(report.findings, 'autoconfig-found');
    expect(found).toMatchObject({ severity: 'info', host: 'autoconfig.example.test', port: fixture.port });
    expect(found.hint).toContain('IMAP imap.example.test:993 SSL/TLS, POP3 pop.example.test:995 SSL/TLS, SMTP smtp.example.test:587 STARTTLS');
    // Both URLs are asked at once and the first wins; no address was sent (none was given).
    const autoconfigRequests = fixture.requests.filter((r) => r.path.includes('config-v1.1.xml'));
    expect(autoconfigRequests.map((r) => `${r.host}${r.path}`).sort()).toEqual([
      'autoconfig.example.test/mail/config-v1.1.xml',
      'example.test/.well-known/autoconfig/mail/config-v1.1.xml',
    ]);
  });

  it('sends ?emailaddress= the way Thunderbird does when an address is given', async () => {
    await start();
    fixture.route('GET', 'autoconfig.example.test', '/mail/config-v1.1.xml', { body: AUTOCONFIG });
    await discover('example.test', options({ emailAddress: 'ann@example.test' }));
    expect(fixture.requests.map((r) => r.path)).toContain('/mail/config-v1.1.xml?emailaddress=ann%40example.test');
  });

  it('falls back to https://<domain>/.well-known/autoconfig/ when autoconfig.<domain> has none', async () => {
    await start();
    fixture.route('GET', 'example.test', '/.well-known/autoconfig/mail/config-v1.1.xml', { body: AUTOCONFIG });
    const report = await discover('example.test', options());
    expect(report.autoconfig?.url).toBe(`https://example.test:${fixture.port}/.well-known/autoconfig/mail/config-v1.1.xml`);
    expect(byId(report.findings, 'autoconfig-found').host).toBe('example.test');
  });

  it('falls back too when autoconfig.<domain> does not resolve', async () => {
    await start();
    fixture.route('GET', 'example.test', '/.well-known/autoconfig/mail/config-v1.1.xml', { body: AUTOCONFIG });
    const { 'autoconfig.example.test': _gone, ...zone } = ZONE;
    const report = await discover('example.test', options({ resolve: fixture.resolver(zone) }));
    expect(report.autoconfig?.servers).toHaveLength(3);
  });

  it('reports no document as absent (info), naming what each URL answered', async () => {
    await start();
    const report = await discover('example.test', options());
    expect(report.autoconfig).toBeUndefined();
    const absent = byId(report.findings, 'autoconfig-absent');
    expect(absent).toMatchObject({ severity: 'info', host: 'example.test' });
    expect(absent.evidence).toContain(`https://autoconfig.example.test:${fixture.port}/mail/config-v1.1.xml: HTTP 404`);
    expect(absent.evidence).toContain('/.well-known/autoconfig/mail/config-v1.1.xml: HTTP 404');
  });

  it('reports a broken document as invalid (warn) and still tries the fallback', async () => {
    await start();
    fixture.route('GET', 'autoconfig.example.test', '/mail/config-v1.1.xml', { body: '<clientConfig version="1.1"><emailProvider id="x"><incomingServer' });
    const report = await discover('example.test', options());
    const invalid = byId(report.findings, 'autoconfig-invalid');
    expect(invalid).toMatchObject({ severity: 'warn', host: 'autoconfig.example.test' });
    expect(invalid.title).toMatch(/not well-formed XML/);
    expect(report.findings.some((f) => f.id === 'autoconfig-absent')).toBe(false);
    expect(fixture.requests.map((r) => r.path)).toContain('/.well-known/autoconfig/mail/config-v1.1.xml');
  });

  it('refuses a DOCTYPE with entities, and nothing of them reaches the report', async () => {
    await start();
    const xml = `<?xml version="1.0"?><!DOCTYPE clientConfig [<!ENTITY h "expanded.example.test">]>${AUTOCONFIG.replace(/^<\?xml[^>]*>/, '').replace('imap.%EMAILDOMAIN%', '&h;')}`;
    fixture.route('GET', 'autoconfig.example.test', '/mail/config-v1.1.xml', { body: xml });
    const report = await discover('example.test', options());
    expect(byId(report.findings, 'autoconfig-invalid').title).toMatch(/DOCTYPE/);
    expect(report.autoconfig).toBeUndefined();
    expect(JSON.stringify(report)).not.toContain('expanded.example.test');
  });

  it('a catch-all web page (text/html, HTTP 200) is no autoconfig document: absent, not invalid', async () => {
    await start();
    fixture.route('GET', 'autoconfig.example.test', '/mail/config-v1.1.xml', {
      body: '<!DOCTYPE html><html><body>Welcome</body></html>',
      headers: { 'content-type': 'text/html; charset=utf-8' },
    });
    fixture.route('GET', 'example.test', '/.well-known/autoconfig/mail/config-v1.1.xml', { body: '<html><body>Welcome</body></html>' });
    const report = await discover('example.test', options());
    expect(ids(report.findings)).toEqual(['autoconfig-absent', 'autodiscover-absent']);
    expect(byId(report.findings, 'autoconfig-absent').evidence).toContain('HTTP 200 with a web page, not an autoconfig document');
  });

  it('warns about a server with socketType plain: the password would go in clear', async () => {
    await start();
    fixture.route('GET', 'autoconfig.example.test', '/mail/config-v1.1.xml', {
      body: AUTOCONFIG.replace('<port>587</port><socketType>STARTTLS', '<port>25</port><socketType>plain'),
    });
    const report = await discover('example.test', options());
    const plain = byId(report.findings, 'autoconfig-plaintext');
    expect(plain).toMatchObject({ severity: 'warn', host: 'autoconfig.example.test' });
    expect(plain.hint).toContain('smtp.example.test port 25 with no encryption: the client would send the password in clear');
    expect(plain.evidence).toContain('<socketType>plain</socketType> for smtp smtp.example.test:25');
  });

  it('stops an oversize body at the limit, and the document counts as not found', async () => {
    await start();
    fixture.route('GET', 'autoconfig.example.test', '/mail/config-v1.1.xml', { body: '<clientConfig>', endless: true });
    const started = Date.now();
    const report = await discover('example.test', options({ maxBodyBytes: 64 * 1024 }));
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(byId(report.findings, 'autoconfig-absent').evidence).toContain('body passed the 65536-byte limit');
  });

  it('a slow server: the probe ends within the timeout plus a margin', async () => {
    await start();
    fixture.route('GET', 'autoconfig.example.test', '/mail/config-v1.1.xml', { delayMs: 60_000 });
    fixture.route('GET', 'example.test', '/.well-known/autoconfig/mail/config-v1.1.xml', { body: '<clientConfig>', trickle: true });
    const started = Date.now();
    const report = await discover('example.test', options({ timeouts: { connectMs: 2_000, headMs: 500, bodyMs: 500 } }));
    // Two URLs, asked at once, each cut at 500 ms; the margin is far above that.
    expect(Date.now() - started).toBeLessThan(8_000);
    const evidence = byId(report.findings, 'autoconfig-absent').evidence;
    expect(evidence).toContain('no response head within 500 ms');
    expect(evidence).toContain('body not complete within 500 ms');
  });

  it('names the exact verify error of an untrusted certificate (warn)', async () => {
    await start();
    fixture.route('GET', 'autoconfig.example.test', '/mail/config-v1.1.xml', { body: AUTOCONFIG });
    const report = await discover('example.test', options({ ca: fixture.otherCa }));
    const untrusted = report.findings.filter((f) => f.id === 'autoconfig-cert-untrusted');
    expect(untrusted.map((f) => f.host)).toEqual(['autoconfig.example.test', 'example.test']);
    expect(untrusted[0]).toMatchObject({
      severity: 'warn',
      title: 'the HTTPS certificate of autoconfig.example.test does not verify (UNABLE_TO_VERIFY_LEAF_SIGNATURE)',
    });
    expect(untrusted[0]?.evidence).toContain('UNABLE_TO_VERIFY_LEAF_SIGNATURE: unable to verify the first certificate');
    expect(report.autoconfig).toBeUndefined();
    // Nothing was read from a server that did not verify.
    expect(fixture.requests).toEqual([]);
  });

  it('names a certificate for another host (ERR_TLS_CERT_ALTNAME_INVALID)', async () => {
    await start({ cert: 'named' });
    const report = await discover('example.test', options());
    const untrusted = byId(report.findings, 'autoconfig-cert-untrusted');
    expect(untrusted.title).toContain('(ERR_TLS_CERT_ALTNAME_INVALID)');
    expect(untrusted.evidence).toContain("Host: autoconfig.example.test. is not in the cert's altnames: DNS:mail.example.test");
  });

  it('names an expired certificate (CERT_HAS_EXPIRED)', async () => {
    await start({ cert: 'expired' });
    const report = await discover('example.test', options());
    expect(byId(report.findings, 'autoconfig-cert-untrusted').title).toBe(
      'the HTTPS certificate of autoconfig.example.test does not verify (CERT_HAS_EXPIRED)',
    );
  });

  it('follows an https redirect, but never one to http', async () => {
    await start();
    fixture.route('GET', 'autoconfig.example.test', '/mail/config-v1.1.xml', { redirect: `https://example.test:${fixture.port}/moved.xml` });
    fixture.route('GET', 'example.test', '/moved.xml', { body: AUTOCONFIG });
    const followed = await discover('example.test', options());
    expect(followed.autoconfig?.url).toBe(`https://example.test:${fixture.port}/moved.xml`);
    await fixture.close();

    await start();
    fixture.route('GET', 'autoconfig.example.test', '/mail/config-v1.1.xml', { redirect: `http://example.test:${fixture.port}/moved.xml` });
    const refused = await discover('example.test', options());
    expect(refused.autoconfig).toBeUndefined();
    expect(byId(refused.findings, 'autoconfig-absent').evidence).toContain('redirect to http:// refused');
    expect(fixture.requests.map((r) => r.path)).not.toContain('/moved.xml');
  });
});

describe('the fetcher connects only to the addresses resolve gave', () => {
  it('asks resolve for each name and connects to the address it returned (::1 here), with SNI and Host set to the name', async () => {
    await start();
    fixture.route('GET', 'autoconfig.example.test', '/mail/config-v1.1.xml', { body: AUTOCONFIG });
    const report = await discover('example.test', options({ resolve: fixture.resolver({ ...ZONE, 'autoconfig.example.test': ['::1'] }) }));
    expect(report.autoconfig).toBeDefined();
    const request = fixture.requests.find((r) => r.path === '/mail/config-v1.1.xml');
    expect(request).toMatchObject({ host: 'autoconfig.example.test', localAddress: '::1', servername: 'autoconfig.example.test' });
    // .test names exist in no real DNS: had dns.lookup been used, nothing would have connected.
    expect(fixture.resolved).toEqual(expect.arrayContaining(['autoconfig.example.test', 'autodiscover.example.test', 'example.test']));
  });

  it('tries the next address when the first refuses', async () => {
    await start();
    fixture.route('GET', 'autoconfig.example.test', '/mail/config-v1.1.xml', { body: AUTOCONFIG });
    // 127.0.0.2 is loopback too, and nothing listens there on this port.
    const report = await discover('example.test', options({ resolve: fixture.resolver({ ...ZONE, 'autoconfig.example.test': ['127.0.0.2', '127.0.0.1'] }) }));
    expect(report.autoconfig).toBeDefined();
  });
});

describe('Autodiscover', () => {
  it('reports that it answers, with the status (401 is the usual Exchange answer)', async () => {
    await start();
    fixture.route('POST', 'autodiscover.example.test', '/autodiscover/autodiscover.xml', { status: 401 });
    const report = await discover('example.test', options());
    expect(report.autodiscover).toEqual({ url: `https://autodiscover.example.test:${fixture.port}/autodiscover/autodiscover.xml`, status: 401 });
    expect(byId(report.findings, 'autodiscover-answers')).toMatchObject({
      severity: 'info',
      host: 'autodiscover.example.test',
      title: expect.stringContaining('(HTTP 401)'),
    });
    const post = fixture.requests.find((r) => r.method === 'POST');
    expect(post?.body).toContain(
      '<AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>',
    );
  });

  it('tries https://<domain>/autodiscover/autodiscover.xml second', async () => {
    await start();
    fixture.route('POST', 'example.test', '/autodiscover/autodiscover.xml', { status: 200, body: '<Autodiscover/>' });
    const report = await discover('example.test', options());
    expect(report.autodiscover?.url).toBe(`https://example.test:${fixture.port}/autodiscover/autodiscover.xml`);
  });

  it('a web page answering 200 to the POST is not an Autodiscover service', async () => {
    await start();
    fixture.route('POST', 'autodiscover.example.test', '/autodiscover/autodiscover.xml', {
      body: '<html><body>Parked domain</body></html>',
      headers: { 'content-type': 'text/html' },
    });
    const report = await discover('example.test', options());
    expect(report.autodiscover).toBeUndefined();
    expect(byId(report.findings, 'autodiscover-absent').evidence).toContain('HTTP 200 with a web page');
  });

  it('reports it absent when both URLs answer 404', async () => {
    await start();
    const report = await discover('example.test', options());
    expect(report.autodiscover).toBeUndefined();
    const absent = byId(report.findings, 'autodiscover-absent');
    expect(absent).toMatchObject({ severity: 'info', host: 'example.test' });
    expect(absent.evidence).toContain('autodiscover.example.test');
    expect(absent.evidence).toContain('HTTP 404');
  });
});

describe('MTA-STS', () => {
  const POLICY = 'version: STSv1\nmode: enforce\nmx: mx1.example.test\nmx: *.example.test\nmax_age: 604800\n';

  it('is not fetched when DNS has no _mta-sts TXT', async () => {
    await start();
    const report = await discover('example.test', options({ dns: { txt: {}, mx: MX } }));
    expect(report.mtaSts).toBeUndefined();
    expect(fixture.requests.some((r) => r.host === 'mta-sts.example.test')).toBe(false);
    expect(report.findings.some((f) => f.id.startsWith('mta-sts'))).toBe(false);
  });

  it('a valid policy that covers every MX is ok (info)', async () => {
    await start();
    fixture.route('GET', 'mta-sts.example.test', '/.well-known/mta-sts.txt', { body: POLICY, headers: { 'content-type': 'text/plain' } });
    const report = await discover('example.test', options({ dns: { txt: STS_TXT, mx: MX } }));
    expect(report.mtaSts).toEqual({
      url: `https://mta-sts.example.test:${fixture.port}/.well-known/mta-sts.txt`,
      mode: 'enforce',
      mx: ['mx1.example.test', '*.example.test'],
      maxAge: 604800,
    });
    const ok = byId(report.findings, 'mta-sts-policy-ok');
    expect(ok).toMatchObject({ severity: 'info', host: 'mta-sts.example.test', port: fixture.port });
    expect(ok.title).toBe('MTA-STS policy in enforce mode covers every MX (mx1.example.test, mx2.example.test)');
  });

  it('an MX outside the policy fails in enforce mode', async () => {
    await start();
    fixture.route('GET', 'mta-sts.example.test', '/.well-known/mta-sts.txt', {
      body: 'version: STSv1\nmode: enforce\nmx: mx1.example.test\nmax_age: 604800\n',
    });
    const report = await discover('example.test', options({ dns: { txt: STS_TXT, mx: MX } }));
    const notCovered = report.findings.filter((f) => f.id === 'mta-sts-mx-not-covered');
    expect(notCovered).toHaveLength(1);
    expect(notCovered[0]).toMatchObject({ severity: 'fail', title: 'MX mx2.example.test is not covered by the MTA-STS policy (enforce)' });
    expect(notCovered[0]?.hint).toContain('will refuse to deliver mail to it');
    expect(report.findings.some((f) => f.id === 'mta-sts-policy-ok')).toBe(false);
  });

  it('an MX outside the policy only warns in testing mode', async () => {
    await start();
    fixture.route('GET', 'mta-sts.example.test', '/.well-known/mta-sts.txt', {
      body: 'version: STSv1\nmode: testing\nmx: mx1.example.test\nmax_age: 604800\n',
    });
    const report = await discover('example.test', options({ dns: { txt: STS_TXT, mx: MX } }));
    expect(byId(report.findings, 'mta-sts-mx-not-covered')).toMatchObject({ severity: 'warn', title: expect.stringContaining('(testing)') });
  });

  it('with no MX, the domain itself is the MX the policy must cover', async () => {
    await start();
    fixture.route('GET', 'mta-sts.example.test', '/.well-known/mta-sts.txt', { body: POLICY });
    const report = await discover('example.test', options({ dns: { txt: STS_TXT, mx: { kind: 'none' } } }));
    expect(byId(report.findings, 'mta-sts-mx-not-covered').title).toContain('MX example.test is not covered');
  });

  it('a TXT without a fetchable policy warns: senders then deliver as if there were no MTA-STS', async () => {
    await start();
    const report = await discover('example.test', options({ dns: { txt: STS_TXT, mx: MX } }));
    const unavailable = byId(report.findings, 'mta-sts-policy-unavailable');
    expect(unavailable).toMatchObject({
      severity: 'warn',
      host: 'mta-sts.example.test',
      title: 'MTA-STS is announced but its policy cannot be fetched: HTTP 404',
    });
    expect(report.mtaSts).toBeUndefined();
  });

  it('a policy host that refuses the connection: unavailable, with the error itself as the reason', async () => {
    await start();
    const report = await discover('example.test', options({ port: 1, resolve: async () => ['127.0.0.1'], dns: { txt: STS_TXT, mx: MX } }));
    expect(byId(report.findings, 'mta-sts-policy-unavailable').title).toMatch(/cannot be fetched: connect ECONNREFUSED 127\.0\.0\.1:1$/);
  });

  it('a redirect is not followed for the policy', async () => {
    await start();
    fixture.route('GET', 'mta-sts.example.test', '/.well-known/mta-sts.txt', { redirect: `https://example.test:${fixture.port}/policy.txt` });
    fixture.route('GET', 'example.test', '/policy.txt', { body: POLICY });
    const report = await discover('example.test', options({ dns: { txt: STS_TXT, mx: MX } }));
    expect(byId(report.findings, 'mta-sts-policy-unavailable').title).toContain('HTTP 302 redirect (not followed by senders)');
    expect(fixture.requests.map((r) => r.path)).not.toContain('/policy.txt');
  });

  it('a policy host whose certificate does not verify names the verify error', async () => {
    await start();
    fixture.route('GET', 'mta-sts.example.test', '/.well-known/mta-sts.txt', { body: POLICY });
    const report = await discover('example.test', options({ ca: fixture.otherCa, dns: { txt: STS_TXT, mx: MX } }));
    expect(byId(report.findings, 'mta-sts-policy-unavailable').title).toContain('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });

  it('an invalid policy warns and says what is wrong', async () => {
    await start();
    fixture.route('GET', 'mta-sts.example.test', '/.well-known/mta-sts.txt', { body: 'version: STSv1\nmode: always\nmx: mx1.example.test\n' });
    const report = await discover('example.test', options({ dns: { txt: STS_TXT, mx: MX } }));
    const invalid = byId(report.findings, 'mta-sts-policy-invalid');
    expect(invalid.severity).toBe('warn');
    expect(invalid.title).toContain('mode "always" is not enforce, testing or none; no "max_age" line');
    expect(report.mtaSts).toBeUndefined();
  });
});

describe('input', () => {
  it('refuses what is not a domain name before any lookup', async () => {
    await start();
    await expect(discover('exa mple.test', options())).rejects.toThrow('not a domain name: "exa mple.test"');
    await expect(discover('example.test/x', options())).rejects.toThrow(/not a domain name/);
    expect(fixture.resolved).toEqual([]);
  });
});

describe('abort', () => {
  it('an aborted signal ends discovery at once, with no finding made up', async () => {
    await start();
    fixture.route('GET', 'autoconfig.example.test', '/mail/config-v1.1.xml', { delayMs: 60_000 });
    fixture.route('POST', 'autodiscover.example.test', '/autodiscover/autodiscover.xml', { delayMs: 60_000 });
    fixture.route('GET', 'mta-sts.example.test', '/.well-known/mta-sts.txt', { delayMs: 60_000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const started = Date.now();
    const report = await discover('example.test', options({ signal: controller.signal, timeouts: { headMs: 30_000 }, dns: { txt: STS_TXT, mx: MX } }));
    expect(Date.now() - started).toBeLessThan(5_000);
    // An interrupted lookup is no evidence of absence: nothing is reported at all.
    expect(report.findings).toEqual([]);
  });
});
