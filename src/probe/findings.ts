import { CATALOGUE, type FindingId } from './catalogue.js';

/**
 * What `mailprobe probe` tells a person: each finding has a stable id (from
 * the catalogue, so scripts and JUnit cases can key on it), a severity, the
 * exact evidence (a server reply or an error text; the probe never sends a
 * password, so nothing here is secret) and a hint a support engineer can read
 * out to a customer.
 */
export type Severity = 'ok' | 'info' | 'warn' | 'fail';

/** Worst last: the order severities compare in. */
export const SEVERITIES: readonly Severity[] = ['ok', 'info', 'warn', 'fail'];

/** A port of one address of a host: where a port probe's findings are found. */
export interface Where {
  readonly host: string;
  readonly address: string;
  readonly port: number;
}

/**
 * Where any finding was found. A port finding has all three; a DNS or
 * discovery finding names only the name it is about (the domain, a record's
 * owner name, the autoconfig host), and an address or a port where it has one.
 */
export interface Place {
  readonly host: string;
  readonly address?: string;
  readonly port?: number;
}

/** "127.0.0.1:25", "[::1]:993", or the name alone (with a port where it has one) for a finding with no address. */
export function placeOf(p: Place): string {
  if (p.address === undefined) return p.port === undefined ? p.host : `${p.host}:${p.port}`;
  const address = p.address.includes(':') ? `[${p.address}]` : p.address;
  return p.port === undefined ? address : `${address}:${p.port}`;
}

export interface Finding extends Place {
  readonly id: string;
  readonly severity: Severity;
  readonly title: string;
  readonly evidence: string;
  readonly hint: string;
}

/** The worst severity among `findings`; "ok" for none. */
export function worstSeverity(findings: readonly Pick<Finding, 'severity'>[]): Severity {
  let worst = 0;
  for (const finding of findings) worst = Math.max(worst, SEVERITIES.indexOf(finding.severity));
  return SEVERITIES[worst] ?? 'ok';
}

/** Values the catalogue's templates name in braces ("{port}", "{spoken}"). */
export type TemplateValues = Readonly<Record<string, string | number>>;

/**
 * A finding from the catalogue: its severity, title and hint come from the
 * one table (severity may be overridden where the port decides, e.g. port 25),
 * `{name}` placeholders filled from `where` and `values`.
 */
export function finding(id: FindingId, where: Place, evidence: string, values: TemplateValues = {}, severity?: Severity): Finding {
  const entry = CATALOGUE[id];
  const all: TemplateValues = {
    host: where.host,
    ...(where.address === undefined ? {} : { address: where.address }),
    ...(where.port === undefined ? {} : { port: where.port }),
    ...values,
  };
  return {
    id,
    severity: severity ?? entry.severity,
    host: where.host,
    ...(where.address === undefined ? {} : { address: where.address }),
    ...(where.port === undefined ? {} : { port: where.port }),
    title: fill(entry.title, all),
    evidence,
    hint: fill(entry.hint, all),
  };
}

function fill(template: string, values: TemplateValues): string {
  return template.replace(/\{(\w+)(?::([a-z][a-z ]*))?\}/g, (_whole, name: string, word: string | undefined) => {
    const value = values[name];
    if (value === undefined) throw new Error(`finding template needs {${name}}: ${template}`);
    if (word === undefined) return String(value);
    // A count and its word: "1 day", "9 days", "1 more day".
    return `${value} ${word}${Number(value) === 1 ? '' : 's'}`;
  });
}
