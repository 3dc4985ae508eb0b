import type { Transcript } from '../transport/index.js';
import type { DiscoveryReport, DomainRecords, ResolveAddresses } from './domain-model.js';
import { canonical, planDomain, SRV_EXPECTS, describe, type DomainPlan, type PlannedTarget } from './domain-plan.js';
import { finding, type Finding } from './findings.js';
import { DEFAULT_HOST_BUDGET, probeHost, semaphore, type HostProbeOptions, type HostReport } from './host-probe.js';
import type { Budget, ExpectedService, PortReport, ProbeTimeouts } from './port-probe.js';

export interface DomainProbeOptions {
  readonly records: DomainRecords;
  /**
   * Discovery's report, or its promise: given a promise, what DNS names is
   * probed while discovery is still running, and only the servers discovery
   * adds are probed once it has answered.
   */
  readonly discovery: DiscoveryReport | Promise<DiscoveryReport>;
  /** Resolves the autoconfig servers the records do not carry (the probe's own resolver, never dns.lookup). */
  readonly resolve?: ResolveAddresses;
  /** --ports; see PlanOptions.ports. */
  readonly ports?: Readonly<Record<number, ExpectedService>>;
  readonly maxTargets?: number;
  /** Conversations at once per ADDRESS, however many names point at it. */
  readonly budget?: number;
  readonly timeouts?: ProbeTimeouts;
  /** No servername: each host is checked under its own name, the one a client uses. */
  readonly tls?: { readonly ca?: string | Buffer };
  readonly signal?: AbortSignal;
  readonly transcript: Transcript;
  readonly inspectTls?: HostProbeOptions['inspectTls'];
}

export interface DomainReport {
  readonly domain: string;
  readonly records: DomainRecords;
  readonly discovery: DiscoveryReport;
  readonly plan: DomainPlan;
  /** One report per planned host that resolves, in plan order. */
  readonly hosts: HostReport[];
  /** The domain's own findings: the plan's and where its sources disagree (DNS, discovery and port findings stay in their parts). */
  readonly findings: Finding[];
}

/**
 * Probes every (host, port) the domain's sources name, all at once, each host
 * under its own TLS name; then says where SRV, autoconfig, MX and the ports
 * disagree. An abort rejects (EABORTED from the port probes): an interrupted
 * probe has no verdict.
 */
export async function probeDomain(options: DomainProbeOptions): Promise<DomainReport> {
  const { records } = options;
  const planOptions = {
    ...(options.ports === undefined ? {} : { ports: options.ports }),
    ...(options.maxTargets === undefined ? {} : { maxTargets: options.maxTargets }),
  };
  const budgets = new Map<string, Budget>();
  const budgetFor = (address: string): Budget => {
    let budget = budgets.get(address);
    if (budget === undefined) budgets.set(address, (budget = semaphore(options.budget ?? DEFAULT_HOST_BUDGET)));
    return budget;
  };
  const probeTargets = (targets: readonly PlannedTarget[]): Promise<HostReport[]> => probeGrouped(targets, budgetFor, options);

  // What DNS names is probed at once, while discovery (HTTPS, one connect timeout or more on a dead host) is still
  // under way: a blackholed domain then costs about one timeout, not discovery's and the ports' one after the other.
  const early = options.discovery instanceof Promise ? planDomain(records, NO_DISCOVERY, planOptions).targets : [];
  const earlyHosts = probeTargets(early);
  // Marked handled now: if discovery fails first, the early probes' own failure must not crash the process unheard.
  earlyHosts.catch(() => undefined);
  const discovery = await options.discovery;
  const { resolved, lookupFailed } = await resolveDiscovered(records, discovery, options.resolve);
  const plan = planDomain(records, discovery, { resolved, lookupFailed, ...planOptions });
  const probedEarly = new Set(early.map(targetKey));
  const late = plan.targets.filter((t) => !probedEarly.has(targetKey(t)));
  const [first, second] = await Promise.all([earlyHosts, probeTargets(late)]);
  const hosts = mergeHosts([...first, ...second], plan);
  const findings = [...plan.findings, ...disagreements(records, discovery, plan, hosts)];
  return { domain: records.domain, records, discovery, plan, hosts, findings };
}

/** A plan from DNS alone: what can be probed before discovery has answered. */
const NO_DISCOVERY: DiscoveryReport = { findings: [] };

/** A target is the same probe when its name, port and what a client expects there agree. */
function targetKey(target: Pick<PlannedTarget, 'host' | 'port' | 'expected'>): string {
  const { protocol, security, mx } = target.expected;
  return [target.host, target.port, protocol, security, mx === true ? 'mx' : ''].join(' ');
}

/** The targets that resolve, one host probe per name (its planned ports), every address under its shared budget. */
function probeGrouped(targets: readonly PlannedTarget[], budgetFor: (address: string) => Budget, options: DomainProbeOptions): Promise<HostReport[]> {
  const byHost = new Map<string, PlannedTarget[]>();
  for (const target of targets) if (target.addresses.length > 0) byHost.set(target.host, [...(byHost.get(target.host) ?? []), target]);
  return Promise.all(
    [...byHost].map(([host, group]) =>
      probeHost({
        host,
        addresses: group[0]!.addresses,
        ports: Object.fromEntries(group.map((t) => [t.port, t.expected])),
        budgetFor,
        transcript: options.transcript,
        ...(options.tls === undefined ? {} : { tls: options.tls }),
        ...(options.timeouts === undefined ? {} : { timeouts: options.timeouts }),
        ...(options.signal === undefined ? {} : { signal: options.signal }),
        ...(options.inspectTls === undefined ? {} : { inspectTls: options.inspectTls }),
      }),
    ),
  );
}

/**
 * One report per host in plan order, its ports from both rounds of probing;
 * a port the final plan no longer names (an early guess that a published
 * source replaced with another expectation) is dropped with its findings.
 */
function mergeHosts(reports: readonly HostReport[], plan: DomainPlan): HostReport[] {
  const wanted = new Set(plan.targets.map(targetKey));
  const order = [...new Set(plan.targets.map((t) => t.host))];
  const merged: HostReport[] = [];
  for (const host of order) {
    const ports = reports
      .filter((r) => r.host === host)
      .flatMap((r) => r.ports)
      .filter((p) => wanted.has(targetKey(p)));
    // As one host probe lists them: by address (in the order resolved), then by port.
    const addresses = [...new Set(ports.map((p) => p.address))];
    ports.sort((a, b) => addresses.indexOf(a.address) - addresses.indexOf(b.address) || a.port - b.port);
    if (ports.length > 0) merged.push({ host, ports, findings: ports.flatMap((p) => p.findings) });
  }
  return merged;
}

/** Every finding of a domain's report: DNS, discovery, the plan and the disagreements, then the ports. The exit code is the worst of these. */
export function allDomainFindings(report: DomainReport): Finding[] {
  return [...report.records.findings, ...report.discovery.findings, ...report.findings, ...report.hosts.flatMap((h) => h.findings)];
}

/**
 * The addresses of the autoconfig servers the records do not carry. A lookup
 * that fails (a resolver timeout, SERVFAIL) is kept apart from a name that
 * does not resolve: the probe could not see the answer, so it blames no one.
 */
async function resolveDiscovered(
  records: DomainRecords,
  discovery: DiscoveryReport,
  resolve: ResolveAddresses | undefined,
): Promise<{ resolved: Map<string, readonly string[]>; lookupFailed: Map<string, string> }> {
  const known = new Set([records.self.name, ...records.names.map((n) => n.name), ...records.srv.map((s) => s.name)].map(canonical));
  if (records.mx.kind === 'hosts') for (const mx of records.mx.hosts) known.add(canonical(mx.name));
  const wanted = [...new Set((discovery.autoconfig?.servers ?? []).map((s) => canonical(s.host)))].filter((name) => !known.has(name));
  const resolved = new Map<string, readonly string[]>();
  const lookupFailed = new Map<string, string>();
  if (resolve === undefined) return { resolved, lookupFailed };
  await Promise.all(
    wanted.map(async (name) => {
      try {
        resolved.set(name, await resolve(name));
      } catch (error) {
        lookupFailed.set(name, error instanceof Error ? error.message : String(error));
      }
    }),
  );
  return { resolved, lookupFailed };
}

/** answered: something greeted (a mail protocol or TLS) on one of its addresses; refused: every address refused; otherwise the probe could not see it. */
type Reach = 'answered' | 'refused' | 'unseen';

function reach(ports: readonly PortReport[]): Reach {
  if (ports.some((p) => p.tcp.outcome === 'connected' && p.spoken !== undefined)) return 'answered';
  if (ports.length > 0 && ports.every((p) => p.tcp.outcome === 'refused')) return 'refused';
  return 'unseen';
}

function outcomes(ports: readonly PortReport[]): string {
  return ports
    .map(
      (p) =>
        `${p.address}:${p.port} ${p.tcp.outcome === 'connected' ? (p.spoken ?? 'no greeting') : p.tcp.outcome}${p.tcp.error === undefined ? '' : ` (${p.tcp.error})`}`,
    )
    .join('; ');
}

/**
 * Where the sources and the ports disagree. A refusal is the server's own
 * answer and can be blamed on it; a timeout or silence is only what this
 * network saw, so it is a warning that says so, never a failure.
 */
function disagreements(records: DomainRecords, discovery: DiscoveryReport, plan: DomainPlan, hosts: readonly HostReport[]): Finding[] {
  const out: Finding[] = [];
  const portsOf = (target: PlannedTarget): PortReport[] => hosts.find((h) => h.host === target.host)?.ports.filter((p) => p.port === target.port) ?? [];
  const probed = plan.targets.filter((t) => t.addresses.length > 0);

  // Published servers that do not answer. One that answers in another protocol has its port finding (wrong-protocol) already.
  for (const target of probed) {
    const ports = portsOf(target);
    const seen = reach(ports);
    if (seen === 'answered') continue;
    const where = { host: target.host, port: target.port };
    for (const source of target.sources) {
      if (source.startsWith('srv:')) {
        const service = source.slice('srv:'.length);
        out.push(finding(seen === 'refused' ? 'srv-target-refused' : 'srv-target-unreachable', where, outcomes(ports), { service }));
      } else if (source === 'autoconfig') {
        out.push(
          finding(seen === 'refused' ? 'autoconfig-server-refused' : 'autoconfig-server-unreachable', where, outcomes(ports), {
            protocol: target.expected.protocol.toUpperCase(),
          }),
        );
      }
    }
  }

  // SRV and autoconfig for the same service (protocol and security): some server in common, or a warning naming both.
  for (const srv of new Set(records.srv.map((s) => s.service))) {
    const expects = describe(SRV_EXPECTS[srv]);
    const bySrv = records.srv.filter((s) => s.service === srv).map((s) => `${canonical(s.name)}:${s.port}`);
    const byAutoconfig = (discovery.autoconfig?.servers ?? [])
      .filter((s) => describe({ protocol: s.protocol, security: s.security === 'tls' ? 'tls' : 'starttls' }) === expects)
      .map((s) => `${canonical(s.host)}:${s.port}`);
    if (byAutoconfig.length === 0 || bySrv.some((t) => byAutoconfig.includes(t))) continue;
    out.push(
      finding('srv-autoconfig-disagree', { host: records.domain }, `SRV ${srv}: ${bySrv.join(', ')}; autoconfig ${expects}: ${byAutoconfig.join(', ')}`, {
        service: srv,
        srv: bySrv.join(', '),
        autoconfig: [...new Set(byAutoconfig)].join(', '),
      }),
    );
  }

  out.push(...mxFindings(records, plan, probed, portsOf));
  return out;
}

/**
 * The MX port of every exchange (or of the domain itself, the implicit MX).
 * One that does not answer while another does: a warning (mail still flows,
 * with delays). None answering: a failure only when every one refused; when
 * some timed out and a submission port of the domain works, this network
 * blocks the port (ISPs often block outbound 25), which says nothing of the server.
 */
function mxFindings(records: DomainRecords, plan: DomainPlan, probed: readonly PlannedTarget[], portsOf: (t: PlannedTarget) => PortReport[]): Finding[] {
  const mx = probed.filter((t) => t.expected.mx === true);
  if (mx.length === 0) return [];
  const seen = mx.map((target) => ({ target, ports: portsOf(target), reach: reach(portsOf(target)) }));
  const out: Finding[] = [];
  const domain = records.domain;
  if (seen.some((s) => s.reach === 'answered')) {
    for (const s of seen.filter((x) => x.reach !== 'answered'))
      out.push(
        finding('mx-not-answering', { host: s.target.host, port: s.target.port }, outcomes(s.ports), {
          outcome: s.reach === 'refused' ? 'it refuses connections' : 'it did not answer from here',
        }),
      );
    return out;
  }
  const port = mx[0]!.port;
  const evidence = seen.map((s) => `${s.target.host}: ${outcomes(s.ports)}`).join('; ');
  if (seen.every((s) => s.reach === 'refused')) return [finding('mx-none-answering', { host: domain, port }, evidence, { domain })];
  const timedOut = seen.some((s) => s.ports.some((p) => p.tcp.outcome === 'timeout'));
  const working = plan.targets.filter((t) => t.expected.mx !== true && t.expected.protocol === 'smtp').find((t) => reach(portsOf(t)) === 'answered');
  if (timedOut && working !== undefined)
    return [finding('mx-port-blocked-here', { host: domain, port }, evidence, { working: `${working.host}:${working.port}` })];
  return [finding('mx-unreachable-here', { host: domain, port }, evidence, { domain })];
}
