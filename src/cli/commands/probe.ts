import { setMaxListeners } from 'node:events';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { readInputOrThrow } from '../../input/errors.js';
import { formatDnsServer, lookupDomainRecords, parseDnsServer as readDnsServer } from '../../probe/dns/index.js';
import { DEFAULT_PORT_MAP } from '../../probe/host-probe.js';
import type { ExpectedService, ProbeTimeouts } from '../../probe/port-probe.js';
import { oneLine } from '../../reporters/escape.js';
import { loadTarget } from '../../runner/load-inputs.js';
import { TransportError } from '../../transport/index.js';
import { Redactor } from '../../transport/redact.js';
import { EXIT } from '../exit-codes.js';
import { DomainUnresolvable, isMailDomain, probeDomainRound, type ProbeMode } from '../probe-domain.js';
import { cliTls, DnsError, loginCredentials, plansFromTarget, probeHostsRound, probeResolver, type HostRoundOptions, type ProbePlan } from '../probe-hosts.js';
import { probeOutputs, writeProbeOutputs, writeUnprobedReports, type ProbeOutcome, type ProbeOutputs } from '../probe-output.js';
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
  /** A target file: its hosts, endpoints (the port map) and TLS settings; HOST, --ports, --ca-file and --servername win over it. */
  readonly target?: string;
  /** --login ROLE (needs --target): a real login, inside TLS, as that account on every port; the password from its password_env. */
  readonly login?: string;
  /** --as: how HOST is read (default auto: a mail domain when it has MX or mail SRV records). */
  readonly as?: ProbeMode;
  /** --https-port: the port of a domain's discovery URLs (default 443). */
  readonly httpsPort?: number;
}

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

/** What a probe does, settled before anything is connected to. */
type Plan =
  | { readonly kind: 'hosts'; readonly plans: ProbePlan[]; readonly login?: HostRoundOptions['login'] }
  | { readonly kind: 'auto' | 'domain'; readonly name: string };

/**
 * `mailprobe probe HOST`: a mail domain (DNS, discovery, then every host and
 * port they name) or a host (every port of every address HOST resolves to),
 * all in parallel. The exit code follows the worst finding: fail → 1,
 * otherwise 0; 3 when the probe could not run at all (no address, DNS did
 * not answer, or a report could not be written); 2 for usage; 130 interrupted.
 */
export async function probeCommand(host: string | undefined, options: ProbeCommandOptions, ctx: CliContext): Promise<number> {
  const say = (line: string) => ctx.stderr.write(`${oneLine(line)}\n`);
  // Usage first: every input is read and checked before anything is asked of the network.
  const usage = (reason: string): number => {
    say(`mailprobe probe: ${reason}`);
    return EXIT.USAGE;
  };
  if (host === undefined && options.target === undefined) return usage('give a HOST, or --target FILE for the hosts and endpoints of a target file');
  if (host !== undefined && !isHostArgument(host)) return usage(`'${host}' is not a host name or address`);
  if (options.login !== undefined && options.target === undefined)
    return usage('--login needs --target FILE: the account and its password_env come from the target file');
  const mode = options.as ?? 'auto';
  if (mode === 'domain') {
    const clash = domainClash(host, options);
    if (clash !== undefined) return usage(`--as domain: ${clash}`);
  }
  let ca: string | undefined;
  if (options.caFile !== undefined) {
    try {
      ca = await readInputOrThrow(resolve(ctx.cwd, options.caFile), 'ca');
    } catch (err) {
      return usage((err as Error).message);
    }
  }
  const planned = await plan(host, options, mode, ca, ctx);
  if (typeof planned === 'string') return usage(planned);
  const redactor = planned.kind === 'hosts' && planned.login !== undefined ? planned.login.redactor : new Redactor();
  const outputs = probeOutputs(options, ctx.cwd);
  if (typeof outputs === 'string') return usage(outputs);
  const shown: ProbeOutputs = { ...outputs, redactor };

  const startedAt = Date.now();
  const abort = new AbortController();
  // Every port, and every handshake of its TLS facts, listens on the one signal: many listeners, by design.
  setMaxListeners(0, abort.signal);
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const round = rounds(planned, options, ca, abort.signal);
    if (options.watch !== undefined) return await watchMode(options.watch, round, shown, abort.signal, ctx);
    const outcome = await round();
    return await writeProbeOutputs(outcome, shown, { startedAt, durationMs: Date.now() - startedAt }, ctx);
  } catch (err) {
    if (abort.signal.aborted || (err instanceof TransportError && err.code === 'EABORTED')) {
      say('mailprobe probe: interrupted');
      return EXIT.INTERRUPTED;
    }
    if (err instanceof DnsError || err instanceof DomainUnresolvable) {
      say(`mailprobe probe: ${err.message}`);
      await writeUnprobedReports(host ?? options.target ?? '', err.message, shown, { startedAt, durationMs: Date.now() - startedAt }, ctx);
      return EXIT.ERRORED;
    }
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Why HOST cannot be probed as a domain with these options, if it cannot. */
function domainClash(host: string | undefined, options: ProbeCommandOptions): string | undefined {
  if (options.target !== undefined) return "--target probes the target file's hosts, not a domain";
  const literal = host?.startsWith('[') === true ? host.slice(1, -1) : (host ?? '');
  if (isIP(literal) !== 0) return `${host} is an address, not a mail domain`;
  if (options.servername !== undefined) return '--servername does not apply: each host of a domain is checked under its own name';
  return undefined;
}

/**
 * The hosts from HOST or --target (with --login's account, checked now: a
 * missing password variable is a usage error before any connection), or a
 * name to read as a domain. `auto` reads HOST as a host outright when it is
 * an address, or when --ports or --servername say it is one host.
 */
async function plan(host: string | undefined, options: ProbeCommandOptions, mode: ProbeMode, ca: string | undefined, ctx: CliContext): Promise<Plan | string> {
  if (options.target === undefined) {
    const literal = host!.startsWith('[') ? host!.slice(1, -1) : host!;
    const oneHost = mode === 'host' || isIP(literal) !== 0 || (mode === 'auto' && (options.ports !== undefined || options.servername !== undefined));
    if (!oneHost) return { kind: mode === 'domain' ? 'domain' : 'auto', name: host! };
    return { kind: 'hosts', plans: [{ host: host!, ...(options.ports === undefined ? {} : { ports: options.ports }), tls: cliTls(ca, options) }] };
  }
  const loaded = await loadTarget(resolve(ctx.cwd, options.target));
  if (loaded.value === undefined) {
    for (const problem of loaded.problems) ctx.stderr.write(`${problem}\n`);
    return `${loaded.problems.length} problem(s) in the target file; nothing was probed`;
  }
  const plans = plansFromTarget(loaded.value, host, options, ca);
  if (options.login === undefined) return { kind: 'hosts', plans };
  const credentials = loginCredentials(loaded.value, options.login, ctx.env);
  if (typeof credentials === 'string') return credentials;
  // The password is scrubbed from the transcript as it is sent, and from every string of the report before it is written.
  return { kind: 'hosts', plans, login: { credentials, redactor: new Redactor([{ user: credentials.user, password: credentials.password }]) } };
}

/**
 * One round of the probe, as often as --watch asks. In auto mode the first
 * round asks DNS whether HOST is a mail domain; the answer holds for the
 * rounds after it (a watch compares like with like).
 */
function rounds(planned: Plan, options: ProbeCommandOptions, ca: string | undefined, signal: AbortSignal): () => Promise<ProbeOutcome> {
  const timeouts = probeTimeouts(options.timeout);
  const hostOptions: HostRoundOptions = {
    signal,
    ...(options.budget === undefined ? {} : { budget: options.budget }),
    ...(timeouts === undefined ? {} : { timeouts }),
  };
  const domainOptions = {
    signal,
    ...(options.ports === undefined ? {} : { ports: options.ports }),
    ...(options.budget === undefined ? {} : { budget: options.budget }),
    ...(timeouts === undefined ? {} : { timeouts }),
    ...(options.timeout === undefined ? {} : { fetchTimeoutMs: options.timeout }),
    ...(ca === undefined ? {} : { ca }),
    ...(options.httpsPort === undefined ? {} : { httpsPort: options.httpsPort }),
  };
  let kind = planned.kind;
  return async () => {
    const dns = probeResolver({
      signal,
      ...(options.dnsServer === undefined ? {} : { dnsServer: options.dnsServer }),
      ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
    });
    if (planned.kind === 'hosts')
      return probeHostsRound(planned.plans, dns, { ...hostOptions, ...(planned.login === undefined ? {} : { login: planned.login }) });
    const records = kind === 'hosts' ? undefined : await lookupDomainRecords(planned.name, dns);
    if (records !== undefined && (kind === 'domain' || isMailDomain(records))) {
      kind = 'domain';
      const domain = await probeDomainRound(records, dns, domainOptions);
      return { hosts: domain.hosts, domain };
    }
    kind = 'hosts';
    return probeHostsRound([{ host: planned.name, tls: cliTls(ca, options) }], dns, hostOptions);
  };
}

function probeTimeouts(timeout: number | undefined): ProbeTimeouts | undefined {
  return timeout === undefined ? undefined : { tcp: timeout, tls: timeout, greeting: timeout, command: timeout };
}

/** --watch: the table once, then only the changes; file reporters are rewritten after every round. */
function watchMode(seconds: number, round: () => Promise<ProbeOutcome>, outputs: ProbeOutputs, signal: AbortSignal, ctx: CliContext): Promise<number> {
  return watchProbe(seconds, {
    round,
    afterRound: (outcome, first, timing) => writeProbeOutputs(outcome, outputs, timing, ctx, { quiet: !first }),
    say: (line) => ctx.stderr.write(`${oneLine(line)}\n`),
    stdout: ctx.stdout,
    signal,
  });
}

/** An IP literal (IPv6 bare or in brackets) or a DNS name: labels of letters, digits, '-' and '_', at most 63 octets each, 253 in all. */
function isHostArgument(host: string): boolean {
  const literal = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (isIP(literal) !== 0) return true;
  const name = host.endsWith('.') ? host.slice(0, -1) : host;
  return name.length > 0 && name.length <= 253 && name.split('.').every((label) => /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/i.test(label));
}
