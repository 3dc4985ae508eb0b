import { beforeAll, describe, expect, it } from 'vitest';
import { tlsConnectOptions, withSharedContext } from '../../src/transport/tls.js';
import { testCerts, type TestCerts } from '../support/test-certs.js';

let certs: TestCerts;
beforeAll(async () => {
  certs = await testCerts();
  return () => certs.cleanup();
});

const CA_A = '-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----\n';

describe('withSharedContext', () => {
  it('leaves options without a CA as they are (Node default trust store)', () => {
    const own = tlsConnectOptions('mail.example.org', {});
    expect(withSharedContext(own)).toBe(own);
  });

  it('leaves options with a version of their own as they are: a shared context would override it', () => {
    const own = { ...tlsConnectOptions('mail.example.org', { ca: CA_A }), minVersion: 'TLSv1.3' as const };
    expect(withSharedContext(own)).toBe(own);
  });

  it('gives every connection that trusts the same CA one context, and another CA its own', () => {
    const first = withSharedContext(tlsConnectOptions('127.0.0.1', { ca: certs.ca }));
    const second = withSharedContext(tlsConnectOptions('localhost', { ca: Buffer.from(certs.ca), servername: 'localhost' }));
    const other = withSharedContext(tlsConnectOptions('127.0.0.1', { ca: certs.otherCa }));
    expect(first.secureContext).toBeDefined();
    expect(second.secureContext).toBe(first.secureContext);
    expect(other.secureContext).not.toBe(first.secureContext);
    // The per-connection parts stay per connection.
    expect(first.ca).toBeUndefined();
    expect(second.servername).toBe('localhost');
    expect(first.rejectUnauthorized).toBe(true);
  });
});
