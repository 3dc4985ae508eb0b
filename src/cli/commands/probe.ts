import { Resolver } from 'node:dns/promises';
import { setMaxListeners } from 'node:events';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { readInputOrThrow } from '../../input/errors.js';
import { DEFAULT_PORT_MAP, probeHost, type HostReport } from '../../probe/host-probe.js';
import type { ExpectedService } from '../../probe/port-probe.js';
import { oneLine } from '../../reporters/escape.js';
import { Transcript, TransportError } from '../../transport/index.js';
import { EXIT } from '../exit-codes.js';
import { probeOutputs, writeProbeOutputs, writeUnprobedReports, type ProbeOutputs } from '../probe-output.js';
import { MAX_WATCH_SECONDS, MIN_WATCH_SECONDS, watchProbe } from '../probe-watch.js';
import type { CliContext } from '../run-context.js';

export interface ProbeCommandOptions {
  /** Parsed by parsePortMap: port → what a client expects there. */
  readonly ports?: Readonly<Record<number, ExpectedService>>;
  readonly json: boolean;
  readonly timeout?: number;
  readonly caFile?: string;
  readonly servername?: string;
  readonly budget?: number;
  /** Parsed by parseDnsServer: a form setServers accepts ("127.0.0.1:5300", "[::1]:5300"). */
  readonly dnsServer?: string;
  /** --reporter NAME[=FILE], repeatable: the same specs as `run`. */
  readonly reporter?: readonly string[];
  /** --watch SECONDS (parseWatchSeconds): probe again every SECONDS and print what changed. */
  readonly watch?: number;
}

const PROTOCOLS = ['smtp', 'pop3', 'imap'] as const;
const SECURITIES = ['tls', 'starttls'] as const;
export const PORTS_FORMS =
  'a comma-separated list of PORT (one of 25, 465, 587, 110, 995, 143, 993) or PORT=PROTOCOL/SECURITY (smtp, pop3 or imap; tls or starttls), e.g. 587,2525=smtp/starttls';

/** --ports: a bare number takes the service DEFAULT_PORT_MAP gives it; anything else must say what it expects. */
export function parsePortMap(value: string): Record<number, ExpectedService> {
  const map: Record<number, ExpectedService> = {};
  for (const item of value.split(',').map((s) => s.trim())) {
    const match = /^(\d{1,5})(?:=([a-z0-9]+)\/([a-z]+))?$/i.exec(item);
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
    map[port] = { protocol: protocol as ExpectedService['protocol'], security: security as ExpectedService['security'] };
  }
  return map;
}

/** --dns-server: an IP address with an optional port (IPv6 with a port in brackets). */
export function parseDnsServer(value: string): string {
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(value);
  const [address, port] = bracketed !== null ? [bracketed[1]!, bracketed[2]] : isIP(value) === 6 ? [value, undefined] : value.split(':', 2);
  const portOk = port === undefined || (/^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65_535);
  if (address === undefined || isIP(address) === 0 || !portOk)
    throw new InvalidArgumentError(`'${value}' is not a DNS server; give an IP address and an optional port: 127.0.0.1:5300 or [::1]:5300`);
  const host = isIP(address) === 6 ? `[${address}]` : address;
  return port === undefined ? address : `${host}:${port}`;
}

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

/**
 * `mailprobe probe HOST`: every port of every address HOST resolves to, in
 * parallel. The exit code follows the worst finding: fail → 1, otherwise 0;
 * 3 when the probe could not run at all (the name resolves to no address).
 */
export async function probeCommand(host: string, options: ProbeCommandOptions, ctx: CliContext): Promise<number> {
  const say = (line: string) => ctx.stderr.write(`${oneLine(line)}\n`);
  // Usage first: every input is read and checked before anything is asked of the network.
  if (!isHostArgument(host)) {
    say(`mailprobe probe: '${host}' is not a host name or address`);
    return EXIT.USAGE;
  }
  let ca: string | undefined;
  if (options.caFile !== undefined) {
    try {
      ca = await readInputOrThrow(resolve(ctx.cwd, options.caFile), 'ca');
    } catch (err) {
      say(`mailprobe probe: ${(err as Error).message}`);
      return EXIT.USAGE;
    }
  }

  const outputs = probeOutputs(options);
  if (typeof outputs === 'string') {
    say(`mailprobe probe: ${outputs}`);
    return EXIT.USAGE;
  }

  const startedAt = Date.now();
  const abort = new AbortController();
  // Every port, and every handshake of its TLS facts, listens on the one signal: many listeners, by design.
  setMaxListeners(0, abort.signal);
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const round = () => probeRound(host, options, ca, abort.signal);
    if (options.watch !== undefined) return await watchMode(options.watch, round, outputs, abort.signal, ctx);
    const reports = await round();
    return await writeProbeOutputs(reports, outputs, { startedAt, durationMs: Date.now() - startedAt }, ctx);
  } catch (err) {
    if (abort.signal.aborted || (err instanceof TransportError && err.code === 'EABORTED')) {
      say('mailprobe probe: interrupted');
      return EXIT.INTERRUPTED;
    }
    if (err instanceof DnsError) {
      say(`mailprobe probe: ${err.message}`);
      await writeUnprobedReports(host, err.message, outputs, { startedAt, durationMs: Date.now() - startedAt }, ctx);
      return EXIT.ERRORED;
    }
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** One probe of HOST: its addresses resolved afresh (a watch sees DNS change too), every port of each. */
async function probeRound(host: string, options: ProbeCommandOptions, ca: string | undefined, signal: AbortSignal): Promise<HostReport[]> {
  const addresses = await addressesOf(host, options);
  if (addresses.length === 0)
    throw new DnsError(`${host} has no A or AAAA record${options.dnsServer === undefined ? '' : ` at ${options.dnsServer}`}; nothing could be probed`);
  const timeouts =
    options.timeout === undefined ? undefined : { tcp: options.timeout, tls: options.timeout, greeting: options.timeout, command: options.timeout };
  const report: HostReport = await probeHost({
    host,
    addresses,
    ...(options.ports === undefined ? {} : { ports: options.ports }),
    ...(options.budget === undefined ? {} : { budget: options.budget }),
    ...(timeouts === undefined ? {} : { timeouts }),
    tls: { ...(ca === undefined ? {} : { ca }), ...(options.servername === undefined ? {} : { servername: options.servername }) },
    signal,
    transcript: new Transcript(),
  });
  return [report];
}

/** --watch: the table once, then only the changes; file reporters are rewritten after every round. */
function watchMode(seconds: number, round: () => Promise<HostReport[]>, outputs: ProbeOutputs, signal: AbortSignal, ctx: CliContext): Promise<number> {
  return watchProbe(seconds, {
    round,
    afterRound: (reports, first, timing) => writeProbeOutputs(reports, outputs, timing, ctx, { quiet: !first }),
    say: (line) => ctx.stderr.write(`${oneLine(line)}\n`),
    stdout: ctx.stdout,
    signal,
  });
}

class DnsError extends Error {}

/** An IP literal (IPv6 bare or in brackets) or a DNS name: labels of letters, digits, '-' and '_', at most 63 octets each, 253 in all. */
function isHostArgument(host: string): boolean {
  const literal = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (isIP(literal) !== 0) return true;
  const name = host.endsWith('.') ? host.slice(0, -1) : host;
  return name.length > 0 && name.length <= 253 && name.split('.').every((label) => /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/i.test(label));
}

/**
 * The addresses to connect to, resolved explicitly (A and AAAA), never with
 * dns.lookup: a Resolver's servers can be set (--dns-server), lookup's
 * cannot. An IP literal is its own address.
 */
async function addressesOf(host: string, options: ProbeCommandOptions): Promise<string[]> {
  const literal = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (isIP(literal) !== 0) return [literal];
  const resolver = new Resolver({ timeout: options.timeout ?? 5_000, tries: 2 });
  if (options.dnsServer !== undefined) resolver.setServers([options.dnsServer]);
  const answers = await Promise.allSettled([resolver.resolve4(host), resolver.resolve6(host)]);
  const addresses: string[] = [];
  for (const answer of answers) {
    if (answer.status === 'fulfilled') addresses.push(...answer.value);
    // No record of that type (or no such name) is an empty answer; a resolver that cannot answer is an error.
    else if (!['ENODATA', 'ENOTFOUND'].includes((answer.reason as NodeJS.ErrnoException).code ?? ''))
      throw new DnsError(`cannot resolve ${host}: ${(answer.reason as Error).message}`);
  }
  return addresses;
}
