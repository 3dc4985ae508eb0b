import pc from 'picocolors';
import { placeOf, worstSeverity, type Finding, type Severity } from './findings.js';
import type { HostReport } from './host-probe.js';
import type { PortReport } from './port-probe.js';

export interface RenderOptions {
  readonly color: boolean;
  /**
   * Makes server-sent text (banners, evidence) safe for one terminal line.
   * Passed in by the CLI (the reporters' oneLine): the probe layer sits beside
   * the reporters and does not import them.
   */
  readonly oneLine: (text: string) => string;
}

const COLUMNS = ['address:port', 'expected', 'tcp ms', 'banner ms', 'answered', 'tls', 'worst'] as const;

/**
 * The probe's terminal report: one row per address:port, then every finding
 * that is not ok, with the hint a support engineer reads out to the customer.
 */
export function renderProbe(reports: readonly HostReport[], options: RenderOptions): string {
  const paint = painter(options.color);
  const out: string[] = [];
  for (const report of reports) out.push(`mailprobe probe ${options.oneLine(report.host)}`);
  const ports = reports.flatMap((r) => r.ports);
  const findings = reports.flatMap((r) => r.findings);
  out.push('', ...portTable(ports, paint), '', ...findingsBlock(findings, paint, options.oneLine));
  return `${out.join('\n')}\n`;
}

export type Paint = (severity: Severity, text: string) => string;

/** The port table: a header, then one row per address:port coloured by its worst finding. */
export function portTable(ports: readonly PortReport[], paint: Paint): string[] {
  const rows = ports.map((port) => row(port));
  const widths = COLUMNS.map((title, i) => Math.max(title.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[], severity?: Severity): string =>
    cells
      .map((cell, i) => {
        // The last cell is not padded: trailing blanks would sit inside its colour codes.
        if (i === cells.length - 1) return severity === undefined ? cell : paint(severity, cell);
        return cell.padEnd(widths[i]!);
      })
      .join('  ');
  return [line(COLUMNS), ...ports.map((port, i) => line(rows[i]!, worstSeverity(port.findings)))];
}

/**
 * Every finding that is not ok with its evidence and hint, a blank line, then
 * the worst severity of all. withHost: a port finding names its host too (a
 * domain's report, where two names may share an address).
 */
export function findingsBlock(findings: readonly Finding[], paint: Paint, oneLine: (text: string) => string, withHost = false): string[] {
  const out: string[] = [];
  const notOk = findings.filter((f) => f.severity !== 'ok');
  if (notOk.length === 0) out.push('No findings above ok.');
  else for (const f of notOk) out.push(...findingLines(f, paint, oneLine, withHost));
  const worst = worstSeverity(findings);
  out.push('', `worst: ${paint(worst, worst)}`);
  return out;
}

function row(port: PortReport): string[] {
  const address = port.address.includes(':') ? `[${port.address}]` : port.address;
  return [
    `${address}:${port.port}`,
    `${port.expected.protocol}/${port.expected.security}${port.expected.mx === true ? ' (mx)' : ''}`,
    port.tcp.ms === undefined ? '-' : String(Math.round(port.tcp.ms)),
    port.banner?.ms === undefined ? '-' : String(Math.round(port.banner.ms)),
    port.spoken === undefined ? (port.tcp.outcome === 'connected' ? '?' : port.tcp.outcome) : port.spoken,
    port.tls?.info?.protocol ?? port.tls?.outcome ?? '-',
    worstSeverity(port.findings),
  ];
}

function findingLines(f: Finding, paint: Paint, oneLine: (text: string) => string, withHost: boolean): string[] {
  const place = withHost && f.address !== undefined ? `${oneLine(f.host)} ${placeOf(f)}` : placeOf(f);
  return [
    `${paint(f.severity, f.severity.padEnd(4))}  ${f.id}  ${place}  ${oneLine(f.title)}`,
    `      evidence: ${oneLine(f.evidence)}`,
    `      hint:     ${oneLine(f.hint)}`,
  ];
}

export function painter(color: boolean): Paint {
  if (!color) return (_severity, text) => text;
  const colours = pc.createColors(true);
  const by: Record<Severity, (s: string) => string> = { ok: colours.green, info: colours.cyan, warn: colours.yellow, fail: colours.red };
  return (severity, text) => by[severity](text);
}
