import { Resolver } from 'node:dns/promises';
import { setMaxListeners } from 'node:events';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { readInputOrThrow } from '../../input/errors.js';
import { DEFAULT_PORT_MAP, probeHost, type HostReport } from '../../probe/host-probe.js';
import type { ExpectedService } from '../../probe/port-probe.js';
import { worstSeverity } from '../../probe/findings.js';
import { renderProbe } from '../../probe/render.js';
import { escapeDisguisingInJson, oneLine } from '../../reporters/escape.js';
import { Transcript, TransportError } from '../../transport/index.js';
import { EXIT } from '../exit-codes.js';
import type { CliContext } from '../run-context.js';
import { loadTarget } from '../../runner/load-inputs.js';
import { resolveAccountPassword, SecretError, type Endpoint, type Target } from '../../target/index.js';
import { loginCheck, type LoginCredentials } from '../../probe/login-probe.js';
import { DEFAULT_HOST_BUDGET, semaphore } from '../../probe/host-probe.js';
import { Redactor } from '../../transport/redact.js';

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
  /** A target file: its hosts, endpoints (the port map) and TLS settings; HOST, --ports, --ca-file and --servername win over it. */
  readonly target?: string;
  /** --login ROLE (needs --target): a real login, inside TLS, as that account on every port; the password from its password_env. */
  readonly login?: string;
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
export async function probeCommand(host: string | undefined, options: ProbeCommandOptions, ctx: CliContext): Promise<number> {
  const say = (line: string) => ctx.stderr.write(`${oneLine(line)}\n`);
  // Usage first: every input is read and checked before anything is asked of the network.
  if (host === undefined && options.target === undefined) {
    say('mailprobe probe: give a HOST, or --target FILE for the hosts and endpoints of a target file');
    return EXIT.USAGE;
  }
  if (host !== undefined && !isHostArgument(host)) {
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
  if (options.login !== undefined && options.target === undefined) {
    say('mailprobe probe: --login needs --target FILE: the account and its password_env come from the target file');
    return EXIT.USAGE;
  }
  let plans: ProbePlan[];
  let credentials: LoginCredentials | undefined;
  if (options.target === undefined) {
    plans = [{ host: host!, ...(options.ports === undefined ? {} : { ports: options.ports }), tls: cliTls(ca, options) }];
  } else {
    const loaded = await loadTarget(resolve(ctx.cwd, options.target));
    if (loaded.value === undefined) {
      for (const problem of loaded.problems) ctx.stderr.write(`${problem}\n`);
      say(`mailprobe probe: ${loaded.problems.length} problem(s) in the target file; nothing was probed`);
      return EXIT.USAGE;
    }
    plans = plansFromTarget(loaded.value, host, options, ca);
    if (options.login !== undefined) {
      const login = loginCredentials(loaded.value, options.login, ctx.env);
      if (typeof login === 'string') {
        say(`mailprobe probe: ${login}`);
        return EXIT.USAGE;
      }
      credentials = login;
    }
  }
  // The password is scrubbed from the transcript as it is sent, and from every string of the report before it is written.
  const redactor = new Redactor(credentials === undefined ? [] : [{ user: credentials.user, password: credentials.password }]);

  const abort = new AbortController();
  // Every port, and every handshake of its TLS facts, listens on the one signal: many listeners, by design.
  setMaxListeners(0, abort.signal);
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const timeouts =
      options.timeout === undefined ? undefined : { tcp: options.timeout, tls: options.timeout, greeting: options.timeout, command: options.timeout };
    const transcript = new Transcript({ secrets: redactor });
    // Each host of the plan is resolved first: a name with no address is a probe that could not run.
    const resolved = await Promise.all(plans.map(async (plan) => ({ plan, addresses: await addressesOf(plan.host, options) })));
    const empty = resolved.find((r) => r.addresses.length === 0);
    if (empty !== undefined) {
      say(
        `mailprobe probe: ${empty.plan.host} has no A or AAAA record${options.dnsServer === undefined ? '' : ` at ${options.dnsServer}`}; nothing could be probed`,
      );
      return EXIT.ERRORED;
    }
    const reports: HostReport[] = await Promise.all(
      resolved.map(({ plan, addresses }) =>
        probeHost({
          host: plan.host,
          addresses,
          ...(plan.ports === undefined ? {} : { ports: plan.ports }),
          ...(options.budget === undefined ? {} : { budget: options.budget }),
          ...(timeouts === undefined ? {} : { timeouts }),
          tls: plan.tls,
          signal: abort.signal,
          transcript,
        }),
      ),
    );
    if (credentials !== undefined) {
      await loginEveryPort(reports, credentials, { redactor, transcript, signal: abort.signal, options, plans });
    }
    const shown = redactStrings(reports, redactor);
    if (options.json) ctx.stdout.write(`${escapeDisguisingInJson(JSON.stringify(shown, null, 2))}\n`);
    else ctx.stdout.write(renderProbe(shown, { color: stdoutColor(ctx), oneLine }));
    return worstSeverity(shown.flatMap((r) => r.findings)) === 'fail' ? EXIT.FAILED : EXIT.OK;
  } catch (err) {
    if (abort.signal.aborted || (err instanceof TransportError && err.code === 'EABORTED')) {
      say('mailprobe probe: interrupted');
      return EXIT.INTERRUPTED;
    }
    if (err instanceof DnsError) {
      say(`mailprobe probe: ${err.message}`);
      return EXIT.ERRORED;
    }
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** --login ROLE: the account of that role and its password, or why not (a usage error: nothing has been connected to). */
function loginCredentials(target: Target, role: string, env: Readonly<Record<string, string | undefined>>): LoginCredentials | string {
  const account = target.accounts[role];
  if (account === undefined) {
    return `--login ${role}: the target file has no account with that role (it has: ${Object.keys(target.accounts).join(', ') || 'none'})`;
  }
  try {
    return { role, user: account.user, password: resolveAccountPassword(account, env) };
  } catch (error) {
    if (error instanceof SecretError) return `--login ${role}: ${error.message}`;
    throw error;
  }
}

/**
 * A login on every probed port, a few at a time per run (the host budget),
 * each finding added to its port and its host. Ports without working,
 * verified TLS get login-not-tried from loginCheck, with the reason.
 */
async function loginEveryPort(
  reports: HostReport[],
  credentials: LoginCredentials,
  run: { redactor: Redactor; transcript: Transcript; signal: AbortSignal; options: ProbeCommandOptions; plans: readonly ProbePlan[] },
): Promise<void> {
  const budget = semaphore(run.options.budget ?? DEFAULT_HOST_BUDGET);
  const timeout = run.options.timeout;
  await Promise.all(
    reports.flatMap((report, i) =>
      report.ports.map((port) =>
        budget(async () => {
          const ca = run.plans[i]?.tls.ca;
          const found = await loginCheck(port, {
            credentials,
            ...(ca === undefined ? {} : { ca }),
            ...(timeout === undefined ? {} : { timeouts: { tcp: timeout, tls: timeout, greeting: timeout, command: timeout } }),
            transcript: run.transcript,
            signal: run.signal,
            redact: (text) => run.redactor.secrets(text),
          });
          port.findings.push(found);
          report.findings.push(found);
        }),
      ),
    ),
  );
}

/** Every string in the reports with the password (in every form it was sent) replaced, as a last guard before output. */
function redactStrings<T>(value: T, redactor: Redactor): T {
  if (typeof value === 'string') return redactor.secrets(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => redactStrings(v, redactor)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactStrings(v, redactor)])) as T;
  }
  return value;
}

/** One host to probe: its ports (default: the seven) and the TLS settings its ports are judged with. */
interface ProbePlan {
  readonly host: string;
  readonly ports?: Readonly<Record<number, ExpectedService>>;
  readonly tls: { readonly ca?: string; readonly servername?: string };
}

function cliTls(ca: string | undefined, options: ProbeCommandOptions): ProbePlan['tls'] {
  return { ...(ca === undefined ? {} : { ca }), ...(options.servername === undefined ? {} : { servername: options.servername }) };
}

/**
 * --target: one plan per host the endpoints name (the lab puts its plain IMAP
 * and POP3 on a second address), with each endpoint's port, protocol and
 * security as the port map and its TLS settings (CA, servername). HOST, when
 * given, wins over every endpoint's host: the target's endpoints are then
 * probed on HOST. --ports wins over the endpoints, --ca-file and
 * --servername over the target's tls. An endpoint with security "none" is
 * probed as a STARTTLS port: what a client could do there (STARTTLS if it is
 * offered) is what the probe reports, and a port that offers no TLS is a
 * finding, not a setting to trust. The "smtp" endpoint is the public MX
 * (RFC 3207 §4: not graded for taking mail in clear).
 */
export function plansFromTarget(target: Target, host: string | undefined, options: ProbeCommandOptions, ca: string | undefined): ProbePlan[] {
  const endpoints = Object.values(target.endpoints).filter((e): e is Endpoint => e !== undefined);
  const groups = new Map<string, { host: string; tls: ProbePlan['tls']; ports: Record<number, ExpectedService> }>();
  for (const endpoint of endpoints) {
    const tls = {
      ...(ca !== undefined ? { ca } : endpoint.tls.ca === undefined ? {} : { ca: endpoint.tls.ca }),
      ...(options.servername !== undefined
        ? { servername: options.servername }
        : endpoint.tls.servername === undefined
          ? {}
          : { servername: endpoint.tls.servername }),
    };
    const where = host ?? endpoint.host;
    // Endpoints of one host with the same TLS settings are one host probe (one budget, one report).
    const key = JSON.stringify([where, tls.ca ?? '', tls.servername ?? '']);
    const group = groups.get(key) ?? { host: where, tls, ports: {} };
    groups.set(key, group);
    group.ports[endpoint.port] = {
      protocol: endpoint.protocol,
      security: endpoint.security === 'tls' ? 'tls' : 'starttls',
      ...(endpoint.name === 'smtp' ? { mx: true } : {}),
    };
  }
  const plans = [...groups.values()];
  if (options.ports === undefined) return plans;
  // --ports replaces the endpoints' map; the hosts and TLS settings stay the target's.
  const hosts = [...new Map(plans.map((p) => [p.host, p])).values()];
  return hosts.map((p) => ({ host: p.host, tls: p.tls, ports: options.ports! }));
}

class DnsError extends Error {}

/** An IP literal (IPv6 bare or in brackets) or a DNS name: labels of letters, digits, '-' and '_', at most 63 octets each, 253 in all. */
function isHostArgument(host: string): boolean {
  const literal = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (isIP(literal) !== 0) return true;
  const name = host.endsWith('.') ? host.slice(0, -1) : host;
  return name.length > 0 && name.length <= 253 && name.split('.').every((label) => /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/i.test(label));
}

/** The table goes to stdout: colour only when stdout is a terminal and NO_COLOR is unset (or FORCE_COLOR asks). */
function stdoutColor(ctx: CliContext): boolean {
  return (Boolean(ctx.stdout.isTTY) && ctx.env.NO_COLOR === undefined) || ctx.env.FORCE_COLOR !== undefined;
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
