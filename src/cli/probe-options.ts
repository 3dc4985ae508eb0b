/**
 * The option parsers of `mailprobe probe`. Apart from the command so that main.ts can define its options (and print
 * --help) without loading DNS, TLS and report libraries: this module imports no protocol library, only light
 * constants.
 */
import { InvalidArgumentError } from 'commander';
import { formatDnsServer, parseDnsServer as readDnsServer } from '../probe/dns/servers.js';
import { DEFAULT_PORT_MAP } from '../probe/default-ports.js';
import type { ExpectedService } from '../probe/port-probe.js';

/** How HOST is read: `auto` asks DNS whether it is a mail domain (an MX, a Null MX or a mail SRV record) and otherwise probes it as a host. */
export type ProbeMode = 'auto' | 'domain' | 'host';
export const PROBE_MODES: readonly ProbeMode[] = ['auto', 'domain', 'host'];

const PROTOCOLS = ['smtp', 'pop3', 'imap'] as const;
const SECURITIES = ['tls', 'starttls'] as const;
export const PORTS_FORMS =
  'a comma-separated list of PORT (one of 25, 465, 587, 110, 995, 143, 993) or PORT=PROTOCOL/SECURITY (smtp, pop3 or imap; tls or starttls; smtp/starttls/mx for a public MX), e.g. 587,2525=smtp/starttls';

/** --ports: a bare number takes the service DEFAULT_PORT_MAP gives it; anything else must say what it expects. */
export function parsePortMap(value: string): Record<number, ExpectedService> {
  const map: Record<number, ExpectedService> = {};
  for (const item of value.split(',').map((s) => s.trim())) {
    const match = /^(\d{1,5})(?:=([a-z0-9]+)\/([a-z]+)(\/mx)?)?$/i.exec(item);
    const port = Number(match?.[1]);
    if (match === null || !Number.isInteger(port) || port < 1 || port > 65_535)
      throw new InvalidArgumentError(`'${item}' is not a port; --ports takes ${PORTS_FORMS}`);
    if (port in map) throw new InvalidArgumentError(`port ${port} is given twice in --ports`);
    if (match[2] === undefined) {
      const known = DEFAULT_PORT_MAP[port];
      if (known === undefined)
        throw new InvalidArgumentError(`port ${port} has no conventional mail service; write it as ${port}=PROTOCOL/SECURITY (--ports takes ${PORTS_FORMS})`);
      map[port] = known;
      continue;
    }
    const protocol = match[2].toLowerCase();
    const security = match[3]!.toLowerCase();
    if (!(PROTOCOLS as readonly string[]).includes(protocol) || !(SECURITIES as readonly string[]).includes(security))
      throw new InvalidArgumentError(`'${item}': unknown protocol or security; --ports takes ${PORTS_FORMS}`);
    // "/mx": a public MX on another port, judged as port 25 is (RFC 3207 §4: it must not require STARTTLS).
    const mx = match[4] !== undefined;
    if (mx && (protocol !== 'smtp' || security !== 'starttls')) throw new InvalidArgumentError(`'${item}': only smtp/starttls can be a public MX (/mx)`);
    map[port] = { protocol: protocol as ExpectedService['protocol'], security: security as ExpectedService['security'], ...(mx ? { mx: true } : {}) };
  }
  return map;
}

/** --dns-server: an IP address with an optional port (IPv6 with a port in brackets), as "address:port" (the form Resolver#setServers takes). */
export function parseDnsServer(value: string): string {
  try {
    return formatDnsServer(readDnsServer(value));
  } catch {
    throw new InvalidArgumentError(`'${value}' is not a DNS server; give an IP address and an optional port: 127.0.0.1:5300 or [::1]:5300`);
  }
}

/** --https-port: a TCP port. */
export function portNumber(value: string): number {
  const n = Number(value);
  if (!/^\d{1,5}$/.test(value) || n < 1 || n > 65_535) throw new InvalidArgumentError('expected a port from 1 to 65535');
  return n;
}

/** --watch limits (probe-watch.ts runs the rounds). */
export const MIN_WATCH_SECONDS = 5;
export const MAX_WATCH_SECONDS = 86_400;

/** --watch: whole seconds, at least MIN_WATCH_SECONDS (a round opens every port of every address, and more often would look like an attack). */
export function parseWatchSeconds(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < MIN_WATCH_SECONDS || n > MAX_WATCH_SECONDS)
    throw new InvalidArgumentError(`expected a whole number of seconds from ${MIN_WATCH_SECONDS} to ${MAX_WATCH_SECONDS}`);
  return n;
}

export function positiveCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1_000) throw new InvalidArgumentError('expected a whole number of connections from 1 to 1000');
  return n;
}
