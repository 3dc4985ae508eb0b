import { isIP } from 'node:net';

/** A DNS server to send queries to. */
export interface DnsServer {
  readonly address: string;
  readonly port: number;
}

export const DNS_PORT = 53;

/**
 * Reads the forms Resolver#setServers and dns.getServers() use:
 * "192.0.2.1", "192.0.2.1:5300", "::1", "[::1]", "[::1]:5300".
 * Throws on anything else: a server is always an IP address, never a name
 * (resolving the resolver's name would need a resolver).
 */
export function parseDnsServer(text: string): DnsServer {
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(text);
  let address: string | undefined;
  let port: string | undefined;
  if (bracketed !== null) [address, port] = [bracketed[1], bracketed[2]];
  else if (isIP(text) === 6) address = text;
  else {
    const colon = text.lastIndexOf(':');
    [address, port] = colon === -1 ? [text, undefined] : [text.slice(0, colon), text.slice(colon + 1)];
  }
  const portNumber = port === undefined ? DNS_PORT : Number(port);
  if (address === undefined || isIP(address) === 0 || !Number.isInteger(portNumber) || portNumber < 1 || portNumber > 65_535)
    throw new Error(`'${text}' is not a DNS server address (expected 192.0.2.1, 192.0.2.1:5300, ::1 or [::1]:5300)`);
  return { address: isIP(address) === 6 ? canonicalIpv6(address) : address, port: portNumber };
}

/**
 * The one spelling of an IPv6 address that sockets report ("::1" for
 * "0:0:0:0:0:0:0:1", lower case): the TLSA query accepts an answer only
 * from the server's own address, compared as text.
 */
function canonicalIpv6(address: string): string {
  // A zone index ("fe80::1%eth0") is not URL syntax; such an address is kept as given.
  if (address.includes('%')) return address.toLowerCase();
  return new URL(`http://[${address}]/`).hostname.slice(1, -1);
}

/** "192.0.2.1:53", "[::1]:5300": how a server is named in evidence. */
export function formatDnsServer(server: DnsServer): string {
  return isIP(server.address) === 6 ? `[${server.address}]:${server.port}` : `${server.address}:${server.port}`;
}
