import { setMaxListeners } from 'node:events';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { readInputOrThrow } from '../../input/errors.js';
import { lookupDomainRecords } from '../../probe/dns/index.js';
import type { ExpectedService, ProbeTimeouts } from '../../probe/port-probe.js';
import { oneLine } from '../../reporters/escape.js';
import { loadTarget } from '../../runner/load-inputs.js';
import { TransportError } from '../../transport/index.js';
import { Redactor } from '../../transport/redact.js';
import { EXIT } from '../exit-codes.js';
import { DomainUnresolvable, isMailDomain, probeDomainRound } from '../probe-domain.js';
import type { ProbeMode } from '../probe-options.js';
import { cliTls, DnsError, loginCredentials, plansFromTarget, probeHostsRound, probeResolver, type HostRoundOptions, type ProbePlan } from '../probe-hosts.js';
import { probeOutputs, writeProbeOutputs, writeUnprobedReports, type ProbeOutcome, type ProbeOutputs } from '../probe-output.js';
import { watchProbe } from '../probe-watch.js';
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
