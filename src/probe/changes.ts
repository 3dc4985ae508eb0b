import { placeOf, type Finding, type Place, type Severity } from './findings.js';
import type { HostReport } from './host-probe.js';
import type { PortReport } from './port-probe.js';

/**
 * What changed between two probes of the same hosts, for `mailprobe probe
 * --watch`: a finding that appeared, one that went, one whose severity
 * changed, and a port whose outcome (connection, protocol, TLS) changed.
 * A finding whose evidence or title alone changed (a certificate one day
 * nearer its expiry, a banner with a new timestamp) is no change: a watch
 * that printed those every round would hide the ones that matter.
 */
export type Change =
  | { readonly kind: 'appeared'; readonly finding: Finding }
  | { readonly kind: 'gone'; readonly finding: Finding }
  | { readonly kind: 'severity'; readonly finding: Finding; readonly before: Severity }
  | { readonly kind: 'port'; readonly place: Place; readonly before: string; readonly after: string };

/** A port's outcome in words: how far a client gets, without the timings and texts that vary every round. */
export function portOutcome(port: PortReport): string {
  if (port.tcp.outcome !== 'connected') return port.tcp.outcome;
  const parts = ['connected', `answers ${port.spoken ?? 'nothing recognisable'}`];
  if (port.tls !== undefined) parts.push(`tls ${port.tls.outcome}`);
  return parts.join(', ');
}

/** Changes from `before` to `after`, ports first, then findings, each in the order `after` (then `before`) lists them. */
export function probeChanges(before: readonly HostReport[], after: readonly HostReport[]): Change[] {
  return [
    ...portChanges(before, after),
    ...findingChanges(
      before.flatMap((r) => r.findings),
      after.flatMap((r) => r.findings),
    ),
  ];
}

/** What a port that was not in a round reads as (a name that gained or lost an address). */
export const NOT_PROBED = 'not probed';

function portChanges(before: readonly HostReport[], after: readonly HostReport[]): Change[] {
  const key = (p: PortReport) => `${p.host} ${placeOf(p)}`;
  const was = new Map(before.flatMap((r) => r.ports).map((p) => [key(p), p]));
  const changes: Change[] = [];
  for (const port of after.flatMap((r) => r.ports)) {
    const old = was.get(key(port));
    was.delete(key(port));
    const [from, to] = [old === undefined ? NOT_PROBED : portOutcome(old), portOutcome(port)];
    if (from !== to) changes.push({ kind: 'port', place: placeFields(port), before: from, after: to });
  }
  for (const old of was.values()) changes.push({ kind: 'port', place: placeFields(old), before: portOutcome(old), after: NOT_PROBED });
  return changes;
}

/**
 * Findings are matched by host, place and id; the n-th finding of an id at a
 * place matches the n-th of the same id there the round before, so two
 * findings under one id (a name finding twice) are told apart.
 */
function findingChanges(before: readonly Finding[], after: readonly Finding[]): Change[] {
  const was = keyed(before);
  const changes: Change[] = [];
  for (const [key, finding] of keyed(after)) {
    const old = was.get(key);
    was.delete(key);
    if (old === undefined) changes.push({ kind: 'appeared', finding });
    else if (old.severity !== finding.severity) changes.push({ kind: 'severity', finding, before: old.severity });
  }
  for (const finding of was.values()) changes.push({ kind: 'gone', finding });
  return changes;
}

function keyed(findings: readonly Finding[]): Map<string, Finding> {
  const out = new Map<string, Finding>();
  const count = new Map<string, number>();
  for (const f of findings) {
    const base = `${f.host} ${placeOf(f)} ${f.id}`;
    const n = (count.get(base) ?? 0) + 1;
    count.set(base, n);
    out.set(`${base} ${n}`, f);
  }
  return out;
}

function placeFields(p: Place): Place {
  return { host: p.host, ...(p.address === undefined ? {} : { address: p.address }), ...(p.port === undefined ? {} : { port: p.port }) };
}

/**
 * One line per change, for a person watching:
 *   + warn  127.0.0.1:25  tcp-timeout  port 25 did not answer the connection
 *   - ok    127.0.0.1:25  port-ok  port 25 speaks SMTP with STARTTLS
 *   ~ ok→fail  [::1]:993  tls-expired  the certificate expired …
 *   port 127.0.0.1:25: connected, answers smtp, tls ok → refused
 * `oneLine` makes server-sent text safe for one terminal line (the CLI passes the reporters' own).
 */
export function describeChange(change: Change, oneLine: (text: string) => string): string {
  switch (change.kind) {
    case 'appeared':
      return `+ ${change.finding.severity.padEnd(4)}  ${findingText(change.finding, oneLine)}`;
    case 'gone':
      return `- ${change.finding.severity.padEnd(4)}  ${findingText(change.finding, oneLine)}`;
    case 'severity':
      return `~ ${change.before}→${change.finding.severity}  ${findingText(change.finding, oneLine)}`;
    case 'port':
      return `port ${oneLine(placeOf(change.place))}: ${change.before} → ${change.after}`;
  }
}

function findingText(f: Finding, oneLine: (text: string) => string): string {
  return `${oneLine(placeOf(f))}  ${f.id}  ${oneLine(f.title)}`;
}
