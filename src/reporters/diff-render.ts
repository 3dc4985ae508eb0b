/**
 * The three forms of a report diff (diff.ts): a console table for a person at
 * a terminal, Markdown for a pull-request comment, JSON for a tool. Values
 * that came from a server (check values, capability names) are shown with
 * their control and bidi characters escaped, on one line.
 */
import { escapeDisguisingInJson, oneLine } from './escape.js';
import { REGRESSING_STATES, type ReportDiff } from './diff.js';
import type { DiffFormat } from './diff-options.js';

export { DIFF_FORMATS, type DiffFormat } from './diff-options.js';

interface Section {
  readonly title: string;
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

const STATE_TITLES = [
  ['newly-failing', 'Newly failing'],
  ['newly-errored', 'Newly errored'],
  ['newly-inconclusive', 'Newly inconclusive'],
  ['newly-skipped', 'Newly skipped'],
  ['newly-passing', 'Newly passing'],
] as const;

/** The rows shared by the console and Markdown forms: one section per kind of change, empty ones left out. */
function sections(diff: ReportDiff): Section[] {
  const out: Section[] = [];
  for (const [kind, title] of STATE_TITLES) {
    const rows = diff.states.filter((s) => s.kind === kind).map((s) => [s.id, `${s.from} → ${s.to}`]);
    const mark = REGRESSING_STATES.has(kind) ? ' (regression)' : '';
    if (rows.length > 0) out.push({ title: `${title}${mark}`, header: ['scenario', 'verdict'], rows });
  }
  const gone = diff.capabilities.filter((c) => c.gone.length > 0);
  if (gone.length > 0)
    out.push({
      title: 'Capabilities gone (regression)',
      header: ['scenario', 'session', 'gone'],
      rows: gone.map((c) => [c.id, sessionName(c.session, c.protocol), c.gone.join(' ')]),
    });
  const added = diff.capabilities.filter((c) => c.added.length > 0);
  if (added.length > 0)
    out.push({
      title: 'Capabilities new',
      header: ['scenario', 'session', 'new'],
      rows: added.map((c) => [c.id, sessionName(c.session, c.protocol), c.added.join(' ')]),
    });
  if (diff.latency.length > 0)
    out.push({
      title: `Slower beyond +${diff.threshold.percent}% and +${diff.threshold.ms} ms (regression)`,
      header: ['scenario', 'measure', 'baseline', 'current'],
      rows: diff.latency.map((l) => [l.id, l.measure, `${l.baselineMs} ms`, `${l.currentMs} ms (+${percent(l.baselineMs, l.currentMs)})`]),
    });
  if (diff.checks.length > 0)
    out.push({
      title: 'Checks whose actual value changed',
      header: ['scenario', 'step', 'check', 'baseline', 'current'],
      rows: diff.checks.map((c) => [c.id, c.step, c.check, c.baseline, c.current]),
    });
  const appeared = (diff.deviations ?? []).filter((d) => d.kind === 'appeared');
  if (appeared.length > 0)
    out.push({
      title: "New known deviations (listed in the target's deviations)",
      header: ['scenario', 'check', 'clause', 'reason', 'baseline'],
      rows: appeared.map((d) => [d.id, d.check, d.rfc, d.reason, d.other]),
    });
  const noLonger = (diff.deviations ?? []).filter((d) => d.kind === 'gone');
  if (noLonger.length > 0)
    out.push({
      title: 'Known deviations no longer seen',
      header: ['scenario', 'check', 'clause', 'reason', 'current'],
      rows: noLonger.map((d) => [d.id, d.check, d.rfc, d.reason, d.other]),
    });
  if (diff.added.length > 0) out.push({ title: 'Scenarios only in the current run', header: ['scenario'], rows: diff.added.map((id) => [id]) });
  if (diff.removed.length > 0) out.push({ title: 'Scenarios only in the baseline', header: ['scenario'], rows: diff.removed.map((id) => [id]) });
  return out;
}

function sessionName(session: string, protocol: string): string {
  return protocol === '' ? session : `${session} (${protocol})`;
}

function percent(baseline: number, current: number): string {
  return baseline === 0 ? '∞' : `${Math.round(((current - baseline) / baseline) * 100)}%`;
}

function verdictLine(diff: ReportDiff): string {
  return diff.regressed ? 'REGRESSED: something that worked in the baseline no longer does' : 'no regression';
}

const MAX_CELL = 80;

function cell(text: string): string {
  const one = oneLine(text);
  return one.length > MAX_CELL ? `${one.slice(0, MAX_CELL - 1)}…` : one;
}

function renderConsole(diff: ReportDiff): string {
  const lines = [`report diff: baseline ${cell(diff.baselineRunId)} → current ${cell(diff.currentRunId)}`];
  const all = sections(diff);
  if (all.length === 0) lines.push('', 'nothing changed');
  for (const s of all) {
    const rows = [s.header, ...s.rows].map((r) => r.map(cell));
    const widths = s.header.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
    const line = (r: readonly string[]) => `  ${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ')}`.trimEnd();
    lines.push('', `${s.title}:`, line(rows[0]!), `  ${widths.map((w) => '-'.repeat(w)).join('  ')}`, ...rows.slice(1).map(line));
  }
  lines.push('', verdictLine(diff));
  return `${lines.join('\n')}\n`;
}

/** A table cell of GitHub-flavoured Markdown: a pipe would end the cell, a backtick or asterisk would start code or emphasis. */
function mdCell(text: string): string {
  return cell(text).replace(/[\\|`*_<>[\]]/g, (ch) => `\\${ch}`);
}

function renderMarkdown(diff: ReportDiff): string {
  const lines = [
    `### mailprobe report diff: ${diff.regressed ? '❌ regressed' : '✅ no regression'}`,
    '',
    `Baseline \`${oneLine(diff.baselineRunId).replace(/`/g, "'")}\` → current \`${oneLine(diff.currentRunId).replace(/`/g, "'")}\``,
  ];
  const all = sections(diff);
  if (all.length === 0) lines.push('', 'Nothing changed.');
  for (const s of all) {
    lines.push('', `#### ${s.title}`, '', `| ${s.header.join(' | ')} |`, `|${s.header.map(() => ' --- |').join('')}`);
    for (const r of s.rows) lines.push(`| ${r.map(mdCell).join(' | ')} |`);
  }
  return `${lines.join('\n')}\n`;
}

export function renderDiff(diff: ReportDiff, format: DiffFormat): string {
  switch (format) {
    case 'console':
      return renderConsole(diff);
    case 'markdown':
      return renderMarkdown(diff);
    case 'json':
      return `${escapeDisguisingInJson(JSON.stringify({ diffVersion: 1, ...diff }, null, 2))}\n`;
  }
}
