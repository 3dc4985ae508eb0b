import { describe, expect, it } from 'vitest';
import { formatDnsServer, parseDnsServer } from '../../../src/probe/dns/servers.js';

describe('DNS server addresses', () => {
  it('reads the forms setServers and dns.getServers() use', () => {
    expect(parseDnsServer('127.0.0.1')).toEqual({ address: '127.0.0.1', port: 53 });
    expect(parseDnsServer('127.0.0.1:5300')).toEqual({ address: '127.0.0.1', port: 5300 });
    expect(parseDnsServer('::1')).toEqual({ address: '::1', port: 53 });
    expect(parseDnsServer('[::1]')).toEqual({ address: '::1', port: 53 });
    expect(parseDnsServer('[::1]:5300')).toEqual({ address: '::1', port: 5300 });
  });

  it('writes an IPv6 address the way the socket reports the sender, so answers from it are recognised', () => {
    expect(parseDnsServer('[0:0:0:0:0:0:0:1]:5300')).toEqual({ address: '::1', port: 5300 });
    expect(parseDnsServer('2001:DB8:0::53')).toEqual({ address: '2001:db8::53', port: 53 });
    expect(parseDnsServer('[fe80::1%lo]:53')).toEqual({ address: 'fe80::1%lo', port: 53 });
  });

  it('refuses names, bad ports and junk', () => {
    for (const bad of ['dns.example.test', 'dns.example.test:53', '127.0.0.1:0', '127.0.0.1:65536', '127.0.0.1:x', '[::1]:', '[127.0.0.1', ''])
      expect(() => parseDnsServer(bad), bad).toThrow(/is not a DNS server address/);
  });

  it('writes them back with brackets for IPv6', () => {
    expect(formatDnsServer({ address: '::1', port: 5300 })).toBe('[::1]:5300');
    expect(formatDnsServer({ address: '127.0.0.1', port: 53 })).toBe('127.0.0.1:53');
  });
});
