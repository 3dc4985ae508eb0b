import { isIP } from 'node:net';
import { createDnsClient, type DnsClient } from '../probe/dns/index.js';
import { DEFAULT_HOST_BUDGET, probeHost, semaphore, type HostReport } from '../probe/host-probe.js';
import { loginCheck, type LoginCredentials } from '../probe/login-probe.js';
import type { ExpectedService, ProbeTimeouts } from '../probe/port-probe.js';
import { resolveAccountPassword, SecretError, type Endpoint, type Target } from '../target/index.js';
import { Transcript } from '../transport/index.js';
import type { Redactor } from '../transport/redact.js';
import type { ProbeOutcome } from './probe-output.js';

/**
 * `mailprobe probe HOST` (and `--target FILE`): the hosts to probe, each with
 * its ports and TLS settings; one round resolves each afresh (a watch sees DNS
 * change too), probes every port of every address, and with --login logs in
 * on each port inside verified TLS.
 */

export interface HostRoundOptions {
  readonly budget?: number;
  readonly timeouts?: ProbeTimeouts;
  readonly signal: AbortSignal;
  /** With --login: the account, and the redactor that already knows its password. */
  readonly login?: { readonly credentials: LoginCredentials; readonly redactor: Redactor };
}

/** A round that could not happen: a host has no address, or the resolver did not answer. */
export class DnsError extends Error {}

export async function probeHostsRound(plans: readonly ProbePlan[], dns: DnsClient, options: HostRoundOptions): Promise<ProbeOutcome> {
  const transcript = new Transcript(options.login === undefined ? {} : { secrets: options.login.redactor });
  // Each host of the plan is resolved first: a name with no address is a probe that could not run.
  const resolved = await Promise.all(plans.map(async (plan) => ({ plan, addresses: await addressesOf(plan.host, dns) })));
  const empty = resolved.find((r) => r.addresses.length === 0);
  if (empty !== undefined) throw new DnsError(`${empty.plan.host} has no A or AAAA record at ${dns.servers.join(', ')}; nothing could be probed`);
  const reports: HostReport[] = await Promise.all(
    resolved.map(({ plan, addresses }) =>
      probeHost({
        host: plan.host,
        addresses,
        ...(plan.ports === undefined ? {} : { ports: plan.ports }),
        ...(options.budget === undefined ? {} : { budget: options.budget }),
        ...(options.timeouts === undefined ? {} : { timeouts: options.timeouts }),
        tls: plan.tls,
        signal: options.signal,
        transcript,
      }),
    ),
  );
  if (options.login === undefined) return { hosts: reports };
  await loginEveryPort(reports, options.login.credentials, { redactor: options.login.redactor, transcript, signal: options.signal, options, plans });
  return { hosts: redactStrings(reports, options.login.redactor) };
}

/**
 * The addresses to connect to, resolved explicitly (A and AAAA) by the
 * probe's own resolver, never with dns.lookup: its servers can be set
 * (--dns-server), lookup's cannot. An IP literal is its own address.
 */
async function addressesOf(host: string, dns: DnsClient): Promise<string[]> {
  const literal = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (isIP(literal) !== 0) return [literal];
  try {
    return await dns.addresses(host);
  } catch (err) {
    throw new DnsError(`cannot resolve ${host}: ${(err as Error).message}`);
  }
}

/** The probe's resolver: --dns-server, or the system's servers; its timeout follows --timeout. */
export function probeResolver(options: { readonly dnsServer?: string; readonly timeout?: number; readonly signal: AbortSignal }): DnsClient {
  return createDnsClient({
    ...(options.dnsServer === undefined ? {} : { servers: [options.dnsServer] }),
    ...(options.timeout === undefined ? {} : { timeoutMs: options.timeout }),
    signal: options.signal,
  });
}

export /** --login ROLE: the account of that role and its password, or why not (a usage error: nothing has been connected to). */
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
  run: { redactor: Redactor; transcript: Transcript; signal: AbortSignal; options: HostRoundOptions; plans: readonly ProbePlan[] },
): Promise<void> {
  const budget = semaphore(run.options.budget ?? DEFAULT_HOST_BUDGET);
  const timeouts = run.options.timeouts;
  await Promise.all(
    reports.flatMap((report, i) =>
      report.ports.map((port) =>
        budget(async () => {
          const ca = run.plans[i]?.tls.ca;
          const found = await loginCheck(port, {
            credentials,
            ...(ca === undefined ? {} : { ca }),
            ...(timeouts === undefined ? {} : { timeouts }),
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
export interface ProbePlan {
  readonly host: string;
  readonly ports?: Readonly<Record<number, ExpectedService>>;
  readonly tls: { readonly ca?: string; readonly servername?: string };
}

export function cliTls(ca: string | undefined, options: TargetPlanOptions): ProbePlan['tls'] {
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
export function plansFromTarget(target: Target, host: string | undefined, options: TargetPlanOptions, ca: string | undefined): ProbePlan[] {
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

/** What the plans take from the command line. */
export interface TargetPlanOptions {
  readonly ports?: Readonly<Record<number, ExpectedService>>;
  readonly servername?: string;
}
