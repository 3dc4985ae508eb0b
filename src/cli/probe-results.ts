import type { DomainReport } from '../probe/domain-probe.js';
import { placeOf, type Finding } from '../probe/findings.js';
import type { HostReport } from '../probe/host-probe.js';
import type { PortReport } from '../probe/port-probe.js';
import type { Remark, RunResult, ScenarioResult } from '../runner/results.js';

/**
 * `mailprobe probe` results in the runner's result model, so the same
 * reporters (JUnit, TAP, JSON, console) write them. It lives in the CLI: the
 * probe layer sits beside the reporters and imports neither them nor the runner.
 *
 * One <testsuite> per host; one case per place (address:port, or a name alone
 * for a DNS or discovery finding) and finding id:
 * - fail → failed: message = title; the body says severity, evidence and hint;
 * - warn → passed, with the same lines as remarks (JUnit <system-out>, TAP
 *   diagnostics under the `ok` line), so CI stays green but a reader sees them;
 * - ok, info → passed (remarks too: the evidence is what a reader checks);
 * - every finding of a port that could not be probed at all (refused, timed
 *   out, reset, no connection) → skipped, "not probed: <title>": nothing on
 *   it was judged. The exit code still follows the worst finding (a timeout
 *   is warn), as it does without reporters.
 * The case name is the place and the id, never the title: titles carry
 * values (days to expiry), and CI keys its history on the name.
 */
export interface ProbeRunMeta {
  readonly runId: string;
  readonly startedAt: number;
  readonly durationMs: number;
  readonly version: string;
  readonly interrupted?: boolean;
  readonly peakBufferedBytes?: number;
}

export interface FindingCasesOptions {
  /** The JUnit testsuite of these findings: the probed host or domain. */
  readonly suite: string;
  readonly startedAt: number;
  /** Places (placeOf in probe/changes.ts) where nothing could be probed: their findings are skipped, not judged. */
  readonly notProbed?: ReadonlySet<string>;
}

/** A port that never got as far as a connection: nothing on it could be checked. */
export function unreachable(port: PortReport): boolean {
  return port.tcp.outcome !== 'connected';
}

/** One case per finding, in the order given; a second finding of the same id at the same place is "… #2". */
export function findingCases(findings: readonly Finding[], options: FindingCasesOptions): ScenarioResult[] {
  const seen = new Map<string, number>();
  return findings.map((f) => {
    const place = placeOf(f);
    const key = `${place} ${f.id}`;
    const n = (seen.get(key) ?? 0) + 1;
    seen.set(key, n);
    const name = n === 1 ? key : `${key} #${n}`;
    const common = {
      id: `probe/${f.host}/${place}/${f.id}${n === 1 ? '' : `#${n}`}`,
      name,
      suite: options.suite,
      classname: 'mailprobe.probe',
      tags: [] as string[],
      rfc: [] as string[],
      durationMs: 0,
      startedAt: options.startedAt,
      steps: [],
      cleanup: [],
      properties: {},
      capabilities: {},
      leftovers: [] as string[],
    };
    if (options.notProbed?.has(place) === true) {
      return { ...common, state: 'skipped', reason: `not probed: ${f.title}`, remarks: remarks(f, false) } satisfies ScenarioResult;
    }
    if (f.severity === 'fail') {
      return { ...common, state: 'failed', remarks: remarks(f, true), failure: { message: f.title, checks: [], transcript: [] } } satisfies ScenarioResult;
    }
    return { ...common, state: 'passed', remarks: remarks(f, true) } satisfies ScenarioResult;
  });
}

/** Severity, title (unless it is already the case's message or reason), evidence and hint. */
function remarks(f: Finding, withTitle: boolean): Remark[] {
  const out: Remark[] = [{ label: 'severity', text: f.severity }];
  if (withTitle && f.severity !== 'fail') out.push({ label: 'title', text: f.title, prose: true });
  if (f.evidence.length > 0) out.push({ label: 'evidence', text: f.evidence });
  out.push({ label: 'hint', text: f.hint, prose: true });
  return out;
}

/** The cases of one host's probe: one suite named by the host. */
export function hostCases(report: HostReport, startedAt: number): ScenarioResult[] {
  const notProbed = new Set(report.ports.filter(unreachable).map((p) => placeOf(p)));
  return findingCases(report.findings, { suite: report.host, startedAt, notProbed });
}

/**
 * A whole probe (one or more hosts) as a run the reporters render; for a
 * domain, its DNS, discovery and disagreement findings first, in one suite
 * named by the domain (they have no address or port).
 */
export function probeRunResult(reports: readonly HostReport[], meta: ProbeRunMeta, domain?: DomainReport): RunResult {
  const hosts = domain?.domain ?? reports.map((r) => r.host).join(', ');
  const domainCases =
    domain === undefined
      ? []
      : findingCases([...domain.records.findings, ...domain.discovery.findings, ...domain.findings], { suite: domain.domain, startedAt: meta.startedAt });
  return {
    runId: meta.runId,
    startedAt: meta.startedAt,
    durationMs: meta.durationMs,
    // Certificate trouble is a finding of its own; the probe turns no verification off for anything it relies on.
    target: { name: hosts, host: hosts, file: '(probe)', insecure: false },
    scenarios: [...domainCases, ...reports.flatMap((r) => hostCases(r, meta.startedAt))],
    interrupted: meta.interrupted ?? false,
    cleanupStopped: false,
    mailprobeVersion: meta.version,
    peakBufferedBytes: meta.peakBufferedBytes ?? 0,
  };
}

/**
 * A probe that could not happen at all (the name has no address, the
 * resolver failed): one errored case, so a CI job or monitor that reads the
 * report sees why rather than a missing file.
 */
export function unprobedRunResult(host: string, message: string, meta: ProbeRunMeta): RunResult {
  const errored: ScenarioResult = {
    id: `probe/${host}/resolve`,
    name: `${host} resolve`,
    suite: host,
    classname: 'mailprobe.probe',
    tags: [],
    rfc: [],
    durationMs: meta.durationMs,
    startedAt: meta.startedAt,
    steps: [],
    cleanup: [],
    properties: {},
    capabilities: {},
    leftovers: [],
    state: 'errored',
    error: { code: 'EDNS', message, phase: 'dns', transcript: [] },
  };
  return { ...probeRunResult([], meta), target: { name: host, host, file: '(probe)', insecure: false }, scenarios: [errored] };
}
