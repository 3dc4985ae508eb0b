import { describe, expect, it } from 'vitest';
import { parseAutoconfig } from '../../../src/probe/discovery/autoconfig.js';

const DOMAIN = { domain: 'example.test' };

function document(servers: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="example.test">
    <domain>example.test</domain>
    <displayName>Example</displayName>
${servers}
  </emailProvider>
</clientConfig>`;
}

function server(kind: 'incomingServer' | 'outgoingServer', type: string, hostname: string, port: string, socketType: string): string {
  return `    <${kind} type="${type}"><hostname>${hostname}</hostname><port>${port}</port><socketType>${socketType}</socketType><username>%EMAILADDRESS%</username><authentication>password-cleartext</authentication></${kind}>`;
}

describe('parseAutoconfig', () => {
  it('reads incoming and outgoing servers, maps socketType and fills %EMAILDOMAIN%', () => {
    const parsed = parseAutoconfig(
      document(
        [
          server('incomingServer', 'imap', 'imap.%EMAILDOMAIN%', '993', 'SSL'),
          server('incomingServer', 'pop3', 'pop.example.test', '110', 'STARTTLS'),
          server('outgoingServer', 'smtp', 'SMTP.Example.Test.', '587', 'plain'),
        ].join('\n'),
      ),
      DOMAIN,
    );
    expect(parsed).toEqual({
      ok: true,
      skipped: [],
      servers: [
        { protocol: 'imap', host: 'imap.example.test', port: 993, security: 'tls' },
        { protocol: 'pop3', host: 'pop.example.test', port: 110, security: 'starttls' },
        { protocol: 'smtp', host: 'smtp.example.test', port: 587, security: 'none' },
      ],
    });
  });

  it('fills %EMAILLOCALPART% only when an address is known, and skips the server otherwise', () => {
    const xml = document(
      [
        server('incomingServer', 'imap', '%EMAILLOCALPART%.mail.example.test', '993', 'SSL'),
        server('incomingServer', 'pop3', 'pop.example.test', '995', 'SSL'),
        server('outgoingServer', 'smtp', 'smtp.example.test', '465', 'SSL'),
      ].join('\n'),
    );
    const known = parseAutoconfig(xml, { domain: 'example.test', emailAddress: 'ann@example.test' });
    expect(known.ok && known.servers.map((s) => s.host)).toEqual(['ann.mail.example.test', 'pop.example.test', 'smtp.example.test']);
    const unknown = parseAutoconfig(xml, DOMAIN);
    expect(unknown.ok && unknown.servers.map((s) => s.host)).toEqual(['pop.example.test', 'smtp.example.test']);
    expect(unknown.ok && unknown.skipped[0]?.why).toMatch(/placeholder/);
  });

  it('skips servers of unknown type or socketType, or with a bad port, as a client does', () => {
    const parsed = parseAutoconfig(
      document(
        [
          server('incomingServer', 'exchange', 'ews.example.test', '443', 'SSL'),
          server('incomingServer', 'imap', 'imap.example.test', '99999', 'SSL'),
          server('incomingServer', 'imap', 'imap.example.test', '993', 'TLS1.3'),
          server('incomingServer', 'imap', 'imap.example.test', '993', 'SSL'),
          server('outgoingServer', 'smtp', 'smtp.example.test', '587', 'STARTTLS'),
        ].join('\n'),
      ),
      DOMAIN,
    );
    expect(parsed.ok && parsed.servers).toEqual([
      { protocol: 'imap', host: 'imap.example.test', port: 993, security: 'tls' },
      { protocol: 'smtp', host: 'smtp.example.test', port: 587, security: 'starttls' },
    ]);
    expect(parsed.ok && parsed.skipped.map((s) => s.why)).toEqual([
      expect.stringMatching(/type "exchange"/),
      expect.stringMatching(/port "99999"/),
      expect.stringMatching(/socketType "TLS1.3"/),
    ]);
  });

  it('refuses a document without a usable incoming server, naming why', () => {
    const servers = [server('incomingServer', 'imap', 'bad host!', '993', 'SSL'), server('outgoingServer', 'smtp', 'smtp.example.test', '587', 'STARTTLS')];
    const parsed = parseAutoconfig(document(servers.join('\n')), DOMAIN);
    expect(parsed).toEqual({ ok: false, reason: expect.stringMatching(/no usable <incomingServer>.*"bad host!" is not a host name/) });
  });

  // Thunderbird (desktop and Android) refuses these documents as a whole.
  it('refuses a document without a usable outgoing server', () => {
    const parsed = parseAutoconfig(document(server('incomingServer', 'imap', 'imap.example.test', '993', 'SSL')), DOMAIN);
    expect(parsed).toEqual({ ok: false, reason: 'no usable <outgoingServer>' });
  });

  it('refuses an emailProvider without an id, or without a valid <domain>', () => {
    const servers = [
      server('incomingServer', 'imap', 'imap.example.test', '993', 'SSL'),
      server('outgoingServer', 'smtp', 'smtp.example.test', '587', 'STARTTLS'),
    ].join('\n');
    const noId = document(servers).replace(' id="example.test"', '');
    expect(parseAutoconfig(noId, DOMAIN)).toEqual({ ok: false, reason: '<emailProvider> has no valid id attribute' });
    const noDomain = document(servers).replace('<domain>example.test</domain>', '<domain>not a domain</domain>');
    expect(parseAutoconfig(noDomain, DOMAIN)).toEqual({ ok: false, reason: '<emailProvider> has no valid <domain>' });
    const placeholderDomain = document(servers).replace('<domain>example.test</domain>', '<domain>%EMAILDOMAIN%</domain>');
    expect(parseAutoconfig(placeholderDomain, DOMAIN).ok).toBe(true);
  });

  it('refuses XML that is not well formed', () => {
    const parsed = parseAutoconfig(
      '<clientConfig version="1.1"><emailProvider id="x"><incomingServer type="imap"><hostname>imap.example.test</hostname',
      DOMAIN,
    );
    expect(parsed).toEqual({ ok: false, reason: expect.stringMatching(/^not well-formed XML/) });
  });

  it('refuses a document that is not a clientConfig', () => {
    expect(parseAutoconfig('<html><body>It works!</body></html>', DOMAIN)).toEqual({ ok: false, reason: 'the root element is <html>, not <clientConfig>' });
    expect(parseAutoconfig('<clientConfig version="1.1"/>', DOMAIN)).toEqual({ ok: false, reason: '<clientConfig> has no <emailProvider>' });
  });

  it('refuses a DOCTYPE and never expands its entities into a hostname', () => {
    const xml = `<?xml version="1.0"?>
<!DOCTYPE clientConfig [<!ENTITY host "evil.example.test"><!ENTITY many "&host;&host;&host;&host;">]>
<clientConfig version="1.1"><emailProvider id="x">${server('incomingServer', 'imap', '&host;', '993', 'SSL')}</emailProvider></clientConfig>`;
    const parsed = parseAutoconfig(xml, DOMAIN);
    expect(parsed).toEqual({ ok: false, reason: expect.stringMatching(/DOCTYPE/) });
    expect(JSON.stringify(parsed)).not.toContain('evil.example.test');
  });
});
