import { describe, expect, it } from 'vitest';
import { CATALOGUE, FINDING_IDS } from '../../src/probe/catalogue.js';
import { finding, worstSeverity } from '../../src/probe/findings.js';

const where = { host: 'mail.example.test', address: '192.0.2.1', port: 587 };

describe('the finding catalogue', () => {
  it('lists its stable ids (a change here is a change for every script that keys on them)', () => {
    expect(FINDING_IDS.map((id) => `${id} ${CATALOGUE[id].severity}`)).toEqual([
      'port-ok ok',
      'tcp-refused info',
      'tcp-timeout warn',
      'tcp-reset warn',
      'banner-silent warn',
      'tls-silent warn',
      'dialogue-broken warn',
      'wrong-protocol fail',
      'implicit-tls-expected fail',
      'plaintext-on-tls-port fail',
      'temporary-refusal warn',
      'greeting-refused warn',
      'starttls-missing fail',
      'starttls-refused fail',
      'tls-handshake-failed fail',
      'plaintext-auth-before-tls warn',
      'starttls-injection fail',
      'tls-not-required warn',
      'mx-requires-starttls info',
      'login-ok ok',
      'login-refused fail',
      'login-not-tried info',
      'tls-requirement-unclear info',
      'tls-expired fail',
      'tls-expires-soon warn',
      'tls-name-mismatch fail',
      'tls-untrusted fail',
      'tls-chain-incomplete warn',
      'tls-only-legacy fail',
      'tls-legacy-offered warn',
      'tls-legacy-not-tested info',
      'tls-weak-key fail',
      'tls-no-ocsp-stapling info',
      'tls-ok ok',
      'dns-lookup-failed warn',
      'dns-mx-present info',
      'dns-mx-null info',
      'dns-mx-null-mixed warn',
      'dns-mx-none info',
      'dns-mx-none-no-address fail',
      'dns-mx-unresolvable fail',
      'dns-srv-present info',
      'dns-srv-not-offered info',
      'dns-srv-unresolvable fail',
      'dns-srv-none info',
      'dns-names-resolve info',
      'dns-names-none info',
      'dns-spf-present info',
      'dns-spf-absent info',
      'dns-spf-multiple warn',
      'dns-dmarc-present info',
      'dns-dmarc-absent info',
      'dns-dmarc-multiple warn',
      'dns-mta-sts-present info',
      'dns-mta-sts-absent info',
      'dns-mta-sts-multiple warn',
      'dns-tls-rpt-present info',
      'dns-tls-rpt-absent info',
      'dns-tls-rpt-multiple warn',
      'dns-tlsa-present info',
      'dns-tlsa-absent info',
      // discovery over HTTPS
      'autoconfig-found info',
      'autoconfig-absent info',
      'autoconfig-invalid warn',
      'autoconfig-plaintext warn',
      'autoconfig-cert-untrusted warn',
      'autodiscover-answers info',
      'autodiscover-absent info',
      'mta-sts-policy-unavailable warn',
      'mta-sts-policy-invalid warn',
      'mta-sts-mx-not-covered fail',
      'mta-sts-policy-ok info',
      // a domain's sources disagreeing
      'domain-plan-capped info',
      'sources-disagree-on-port warn',
      'source-host-unresolved fail',
      'source-host-lookup-failed warn',
      'srv-target-refused fail',
      'srv-target-unreachable warn',
      'autoconfig-server-refused fail',
      'autoconfig-server-unreachable warn',
      'srv-autoconfig-disagree warn',
      'mx-not-answering warn',
      'mx-none-answering fail',
      'mx-unreachable-here warn',
      'mx-port-blocked-here info',
    ]);
  });

  it('ids are kebab-case and every title and hint is one line', () => {
    for (const id of FINDING_IDS) {
      expect(id).toMatch(/^[a-z0-9]+(?:-[a-z0-9]+)*$/);
      expect(CATALOGUE[id].title).not.toMatch(/\n/);
      expect(CATALOGUE[id].hint).not.toMatch(/\n/);
    }
  });

  it('a {count:word} template reads out as a person would say it: 1 day, 9 days, 1 more day', () => {
    const hint = (id: 'tls-expires-soon' | 'tls-expired', values: Record<string, number>) => finding(id, where, 'e', values).hint;
    expect(hint('tls-expires-soon', { daysLeft: 1 })).toBe('certificate expires in 1 day; renew it before then');
    expect(hint('tls-expires-soon', { daysLeft: 9 })).toBe('certificate expires in 9 days; renew it before then');
    expect(hint('tls-expired', { daysAgo: 0 })).toBe('certificate expired 0 days ago; renew it');
    expect(finding('tls-ok', where, 'e', { version: 'TLS 1.3', servername: 'mail.example.test', daysLeft: 1 }).hint).toBe(
      'TLS works: TLS 1.3, a certificate valid for mail.example.test for 1 more day',
    );
    expect(() => finding('tls-expired', where, 'e')).toThrow(/needs \{daysAgo\}/);
  });

  it('fills a template from the place and the values, and refuses a missing value', () => {
    const f = finding('wrong-protocol', { ...where, port: 110 }, 'greeting "* OK ready"', { spoken: 'IMAP', expected: 'POP3' });
    expect(f).toEqual({
      id: 'wrong-protocol',
      severity: 'fail',
      host: 'mail.example.test',
      address: '192.0.2.1',
      port: 110,
      title: 'port 110 speaks IMAP, not POP3',
      evidence: 'greeting "* OK ready"',
      hint: 'port 110 speaks IMAP: set the mail client to the port of its POP3 service',
    });
    expect(() => finding('wrong-protocol', where, '')).toThrow(/needs \{spoken\}/);
  });

  it('takes a severity the port decides over the catalogue default', () => {
    expect(finding('starttls-missing', { ...where, port: 25 }, '', {}, 'warn').severity).toBe('warn');
  });
});

describe('worstSeverity', () => {
  it('is ok for none and the worst otherwise', () => {
    expect(worstSeverity([])).toBe('ok');
    expect(worstSeverity([{ severity: 'info' }, { severity: 'ok' }])).toBe('info');
    expect(worstSeverity([{ severity: 'warn' }, { severity: 'fail' }, { severity: 'info' }])).toBe('fail');
    expect(worstSeverity([{ severity: 'warn' }, { severity: 'ok' }])).toBe('warn');
  });
});
