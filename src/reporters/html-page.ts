import { dirname, resolve } from 'node:path';
import type { CheckResult, Remark, RunResult, ScenarioResult, StepResult, Verdict } from '../runner/results.js';
import { countResults } from '../runner/results.js';
import { formatPos } from '../core/source.js';
import { formatEntry, type TranscriptEntry } from '../transport/transcript.js';
import { deviationNote, formatDuration, interruptedCleanup, relPath, relPos, transcriptTail, verdictDetail, type VerdictDetail } from './detail.js';
import { latencies } from './diff.js';
import { CONTENT_SECURITY_POLICY, SCRIPT, STYLE } from './html-assets.js';
import { html, Markup, pageHead } from './html-markup.js';

/**
 * The markup of the HTML report, from an already redacted run. Every value
 * goes through `html\`…\`` (html-markup.ts), which escapes it.
 */

export const VERDICTS: readonly Verdict[] = ['failed', 'errored', 'inconclusive', 'skipped', 'passed'];

/** The console's symbols, with the word beside them: a verdict is never told by colour alone. */
const SYMBOLS: Record<Verdict, string> = { passed: '✓', failed: '✗', errored: '!', skipped: '↓', inconclusive: '?' };

export interface HtmlPageOptions {
  /** Scenario paths are shown relative to this folder (ReporterContext.cwd). */
  readonly cwd: string;
  /** The report's own path (resolved against cwd): saved message copies are named relative to its folder. */
  readonly outFile?: string;
}

function badge(state: Verdict, small = false): Markup {
  return html`<span class="badge${small ? ' small' : ''} v-${state}">${SYMBOLS[state]} ${state}</span>`;
}

function utc(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : '';
}

function summaryBar(run: RunResult & { readonly mergedRunIds?: readonly string[] }): Markup {
  const counts = countResults(run.scenarios);
  const facts: Array<[string, Markup | string]> = [
    ['target', `${run.target.name} (${run.target.host})`],
    ['target file', run.target.file],
    ['started', utc(run.startedAt)],
    ['duration', formatDuration(run.durationMs)],
    ['mailprobe', run.mailprobeVersion],
  ];
  if (run.shard !== undefined) facts.push(['shard', `${run.shard.index}/${run.shard.total}`]);
  if (run.mergedRunIds !== undefined && run.mergedRunIds.length > 0) facts.push(['merged runs', run.mergedRunIds.join(', ')]);
  if (run.target.insecure) facts.push(['TLS', html`<span class="warning">certificate verification was off (insecure: true) for at least one endpoint</span>`]);
  if (run.interrupted) facts.push(['interrupted', html`<span class="warning">the run was interrupted; ${interruptedCleanup(run)}</span>`]);
  facts.push(['peak buffered', `${run.peakBufferedBytes} bytes of server input held at once`]);
  return html`<header id="summary">
<h1>mailprobe run <code>${run.runId}</code></h1>
<ul class="counts" aria-label="verdicts">${VERDICTS.map(
    (v) => html`<li class="v-${v}" data-verdict-count="${v}">${badge(v)}<b>${counts[v]}</b></li>`,
  )}<li data-verdict-count="total">total <b>${counts.total}</b></li></ul>
<dl class="facts">${facts.map(([label, value]) => html`<dt>${label}</dt><dd>${value}</dd>`)}</dl>
</header>`;
}

function filterBar(run: RunResult): Markup {
  const counts = countResults(run.scenarios);
  const tagCounts = new Map<string, number>();
  for (const s of run.scenarios) for (const tag of new Set(s.tags)) tagCounts.set(tag, (tagCounts.get(tag) ?? 0) + 1);
  const tags = [...tagCounts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  // Hidden until the script runs: without JavaScript every scenario is shown and no dead control is offered.
  return html`<form id="filters" class="filters" hidden>
<fieldset><legend>Verdict</legend>${VERDICTS.map(
    (v) => html`<label><input type="checkbox" name="verdict" value="${v}" checked> ${SYMBOLS[v]} ${v} (${counts[v]})</label>`,
  )}</fieldset>
${tags.length > 0 && html`<fieldset><legend>Tag (any of)</legend>${tags.map(([tag, n]) => html`<label><input type="checkbox" name="tag" value="${tag}"> ${tag} (${n})</label>`)}</fieldset>`}
<button type="button" id="show-all">Show all</button>
<button type="button" id="open-all">Expand shown</button>
<button type="button" id="close-all">Collapse shown</button>
<output id="shown">${run.scenarios.length} scenarios</output>
</form>`;
}

function transcriptBlock(entries: readonly TranscriptEntry[], startedAt: number, label: string, open: boolean): Markup | undefined {
  if (entries.length === 0) return undefined;
  const lines = entries.map((e) => {
    const kind = e.direction === 'client' ? 'c' : e.direction === 'server' ? 's' : 'i';
    // Outside the line's text, so no one reads it as something the server sent.
    return html`<span class="${kind}"><span class="muted">${e.tls === true ? 'TLS ' : '    '}</span>${formatEntry(e, startedAt)}</span>\n`;
  });
  return html`<details class="transcript"${open ? html` open` : ''}><summary>${label} (${entries.length} line${entries.length === 1 ? '' : 's'}, redacted${entries.some((e) => e.tls === true) ? '; TLS: the line crossed inside TLS' : ''})</summary><pre class="transcript">${lines}</pre></details>`;
}

function checksTable(checks: readonly CheckResult[], cwd: string): Markup | undefined {
  if (checks.length === 0) return undefined;
  return html`<table class="checks"><thead><tr><th>check</th><th>result</th><th class="value">expected</th><th class="value">actual</th><th>RFC</th></tr></thead><tbody>${checks.map(
    (c) =>
      html`<tr class="check-${c.passed ? 'passed' : c.deviation !== undefined ? 'deviation' : 'failed'}"><td>${c.description}${c.id !== undefined && html` <code class="check-id">${c.id}</code>`}${c.source !== undefined && html` <span class="muted mono">${formatPos(relPos(c.source, cwd))}</span>`}</td><td class="result">${c.passed ? '✓ passed' : c.deviation !== undefined ? html`≈ failed, known deviation <code>${c.deviation}</code>` : '✗ failed'}</td><td class="value">${c.expected}</td><td class="value">${c.actual}</td><td>${c.rfc ?? ''}</td></tr>`,
  )}</tbody></table>`;
}

function stepItem(step: StepResult, scenario: ScenarioResult, cwd: string): Markup {
  const problem =
    step.state === 'errored'
      ? html`<p><b>${step.problem.code}</b>${step.problem.phase !== undefined && html` (${step.problem.phase})`}: ${step.problem.message}</p>`
      : step.state === 'skipped' || step.state === 'inconclusive'
        ? html`<p>${step.reason}</p>`
        : undefined;
  const missing = step.missing !== undefined && step.missing.length > 0 ? html`<p>the server did not send: ${step.missing.join(', ')}</p>` : undefined;
  const troubled = step.state === 'failed' || step.state === 'errored' || step.state === 'inconclusive';
  return html`<li class="step v-${step.state}"><details class="step"${troubled ? html` open` : ''}><summary>${badge(step.state, true)} <b>${step.name}</b> <code>${step.action}</code>${step.session !== undefined && html` on <code>${step.session}</code>`} <span class="muted">${formatDuration(step.durationMs)} · ${formatPos(relPos(step.source, cwd))}</span></summary>
${problem}${missing}${checksTable(step.checks, cwd)}${transcriptBlock(step.transcript, scenario.startedAt, 'transcript', troubled)}</details></li>`;
}

function verdictBox(result: ScenarioResult, detail: VerdictDetail | undefined): Markup | undefined {
  if (detail === undefined) return undefined;
  const checks = [
    ...(detail.expected !== undefined || detail.actual !== undefined
      ? [{ heading: detail.message, check: detail.check, at: detail.at, expected: detail.expected, actual: detail.actual, rfc: detail.rfc }]
      : []),
    ...detail.more.map((c) => ({ heading: c.message, check: c.check, at: c.at, expected: c.expected, actual: c.actual, rfc: c.rfc })),
  ];
  const rows: Array<[string, Markup | string]> = [];
  if (detail.step !== undefined) rows.push(['step', detail.step]);
  if (detail.at !== undefined) rows.push(['at', html`<code>${detail.at}</code>`]);
  if (detail.code !== undefined) rows.push(['code', html`<code>${detail.code}</code>${detail.phase !== undefined && ` (phase ${detail.phase})`}`]);
  const label = result.state === 'failed' ? 'failure' : result.state === 'errored' ? 'error' : result.state === 'inconclusive' ? 'inconclusive' : 'skipped';
  return html`<div class="verdict-box v-${result.state}"><p><b>${label}:</b> <span class="message">${detail.message}</span></p>
${rows.length > 0 && html`<dl class="facts">${rows.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>`}
${
  checks.length > 0 &&
  html`<table class="failed-checks"><thead><tr><th>failed check</th><th class="value">expected</th><th class="value">actual</th><th>RFC clause</th></tr></thead><tbody>${checks.map(
    (c) =>
      html`<tr><td>${c.heading}${c.check !== undefined && html` <code class="check-id">${c.check}</code>`}${c.at !== undefined && html` <span class="muted mono">${c.at}</span>`}</td><td class="value">${c.expected ?? ''}</td><td class="value">${c.actual ?? ''}</td><td class="rfc">${c.rfc ?? ''}</td></tr>`,
  )}</tbody></table>`
}
${remarksList(result.remarks ?? [])}
${detail.transcript.length > 0 && html`<h3>Transcript, last lines</h3><pre class="transcript failure-transcript">${transcriptTail(detail.transcript, result.startedAt).map((line) => html`${line}\n`)}</pre>`}
</div>`;
}

/** The target's known and fixed deviations of this scenario, each with its reason and clause: shown whatever the verdict. */
function deviationsBlock(result: ScenarioResult, cwd: string): Markup | undefined {
  const list = result.deviations ?? [];
  if (list.length === 0) return undefined;
  return html`<div class="deviations"><h3>Deviations listed in the target file</h3><table class="deviations"><thead><tr><th>check</th><th>status</th><th>reason</th><th>RFC clause</th><th class="value">expected</th><th class="value">actual</th><th>note</th></tr></thead><tbody>${list.map(
    (d) =>
      html`<tr class="deviation-${d.status}"><td><code class="check-id">${d.check}</code> <span class="muted">${d.step}</span>${d.source !== undefined && html` <span class="muted mono">${formatPos(relPos(d.source, cwd))}</span>`}</td><td>${d.status === 'known' ? '≈ known deviation' : '✓ deviation fixed'}</td><td>${d.reason}</td><td class="rfc">${d.rfc}</td><td class="value">${d.expected}</td><td class="value">${d.actual}</td><td>${
        d.status === 'fixed'
          ? "the check passes now: remove it from the target's deviations"
          : [
              ...(d.notJudged !== undefined ? [`${d.notJudged} check(s) needing the missing item not judged`] : []),
              ...(d.stepsNotRun !== undefined ? [`the scenario stopped there: ${d.stepsNotRun} later step(s) not run or judged`] : []),
            ].join('; ')
      }</td></tr>`,
  )}</tbody></table></div>`;
}

function remarksList(remarks: readonly Remark[]): Markup | undefined {
  if (remarks.length === 0) return undefined;
  return html`<dl class="facts remarks">${remarks.map((r) => html`<dt>${r.label}</dt><dd>${r.text}</dd>`)}</dl>`;
}

function capabilitiesBlock(result: ScenarioResult): Markup | undefined {
  const sessions = Object.entries(result.capabilities);
  if (sessions.length === 0) return undefined;
  return html`<h3>Capabilities</h3><dl class="facts capabilities">${sessions.map(
    ([session, caps]) =>
      html`<dt>${session}</dt><dd>${caps.length === 0 ? html`<span class="muted">none listed</span>` : html`<ul class="caps">${caps.map((c) => html`<li><code>${c}</code></li>`)}</ul>`}</dd>`,
  )}</dl>`;
}

/** Delivery and IDLE push times, as `report diff` reads them (diff.ts `latencies`); the scenario's own time is in its row. */
function measuredLatencies(result: ScenarioResult): Array<[string, number]> {
  return [...latencies(result)].filter(([measure]) => measure !== 'duration');
}

function propertiesBlock(result: ScenarioResult, options: HtmlPageOptions): Markup | undefined {
  const reportDir = options.outFile === undefined ? options.cwd : dirname(resolve(options.cwd, options.outFile));
  const measured = new Set(measuredLatencies(result).map(([m]) => m));
  const rows = Object.entries(result.properties)
    .filter(([key]) => !measured.has(key))
    .map(([key, value]) => {
      // A saved copy is named as JUnit attaches it: relative to the report's folder.
      const shown = key === 'saved_copy' || key.startsWith('saved_copy.') ? relPath(resolve(options.cwd, value), reportDir) || '.' : value;
      return html`<dt>${key}</dt><dd class="mono">${shown}</dd>`;
    });
  return rows.length === 0 ? undefined : html`<h3>Properties</h3><dl class="facts properties">${rows}</dl>`;
}

function latencyBlock(result: ScenarioResult): Markup | undefined {
  const measured = measuredLatencies(result);
  if (measured.length === 0) return undefined;
  return html`<h3>Latencies</h3><dl class="facts latencies">${measured.map(([m, ms]) => html`<dt>${m}</dt><dd>${ms} ms</dd>`)}</dl>`;
}

function leftoversBlock(result: ScenarioResult): Markup | undefined {
  if (result.leftovers.length === 0) return undefined;
  return html`<h3 class="warning">Left on the server</h3><ul class="leftovers">${result.leftovers.map((l) => html`<li>${l}</li>`)}</ul>`;
}

function scenarioRow(result: ScenarioResult, options: HtmlPageOptions): Markup {
  const detail = verdictDetail(result, options.cwd);
  const where = result.file !== undefined ? `${relPath(result.file, options.cwd)}${result.line !== undefined ? `:${result.line}` : ''}` : undefined;
  return html`<details class="scenario v-${result.state}" id="scenario-${result.id}" data-verdict="${result.state}" data-tags="${JSON.stringify(result.tags)}"${result.state === 'failed' ? html` open` : ''}>
<summary>${badge(result.state)}<span class="name">${result.name}</span><code class="id">${result.id}</code><span class="time">${formatDuration(result.durationMs)}</span>${result.tags.map((t) => html`<span class="tag">${t}</span>`)}${deviationNote(result) !== undefined && html`<span class="deviation-note">${deviationNote(result)}</span>`}${detail !== undefined && html`<span class="why">${detail.message}</span>`}</summary>
<div class="scenario-body">
${where !== undefined && html`<p class="muted mono">${where}</p>`}
${result.description !== undefined && html`<p class="description">${result.description}</p>`}
${result.rfc.length > 0 && html`<p>RFC: ${result.rfc.join(', ')}</p>`}
${verdictBox(result, detail)}
${detail === undefined && remarksList(result.remarks ?? [])}
${deviationsBlock(result, options.cwd)}
${result.steps.length > 0 && html`<h3>Steps</h3><ol class="steps">${result.steps.map((s) => stepItem(s, result, options.cwd))}</ol>`}
${result.cleanup.length > 0 && html`<h3>Cleanup</h3><ol class="steps cleanup">${result.cleanup.map((s) => stepItem(s, result, options.cwd))}</ol>`}
${leftoversBlock(result)}
${capabilitiesBlock(result)}
${latencyBlock(result)}
${propertiesBlock(result, options)}
</div>
</details>`;
}

function runLatencies(run: RunResult): Markup {
  const rows = run.scenarios.flatMap((s) => measuredLatencies(s).map(([measure, ms]) => ({ s, measure, ms })));
  if (rows.length === 0) return html`<section id="latencies"><h2>Delivery and IDLE push latencies</h2><p class="muted">none measured in this run</p></section>`;
  return html`<section id="latencies"><h2>Delivery and IDLE push latencies</h2><table><thead><tr><th>scenario</th><th>measure</th><th>ms</th></tr></thead><tbody>${rows.map(
    (r) => html`<tr><td><a href="#scenario-${r.s.id}">${r.s.id}</a> ${badge(r.s.state, true)}</td><td><code>${r.measure}</code></td><td>${r.ms}</td></tr>`,
  )}</tbody></table></section>`;
}

function runLeftovers(run: RunResult): Markup {
  const rows = run.scenarios.flatMap((s) => s.leftovers.map((l) => ({ s, l })));
  const heading = html`<h2>Leftovers</h2>`;
  if (rows.length === 0)
    return html`<section id="leftovers">${heading}<p class="muted">none: cleanup removed everything the run recorded creating</p></section>`;
  return html`<section id="leftovers">${heading}<p class="warning">cleanup could not remove these; remove them by hand</p><ul>${rows.map(
    (r) => html`<li><a href="#scenario-${r.s.id}">${r.s.id}</a>: ${r.l}</li>`,
  )}</ul></section>`;
}

function title(run: RunResult): string {
  const c = countResults(run.scenarios);
  const bad = VERDICTS.filter((v) => v !== 'passed' && c[v] > 0).map((v) => `${c[v]} ${v}`);
  return `mailprobe ${run.runId}: ${bad.length === 0 ? `${c.passed} passed` : bad.join(', ')}`;
}

/** The whole page: one file, no external asset, no request. */
export function renderHtmlPage(run: RunResult, options: HtmlPageOptions): string {
  return html`<!DOCTYPE html>
<html lang="en">
${pageHead({ csp: CONTENT_SECURITY_POLICY, version: run.mailprobeVersion, title: title(run), style: STYLE })}
<body>
${summaryBar(run)}
${filterBar(run)}
<main>
<section id="scenarios"><h2>Scenarios</h2>
${run.scenarios.map((s) => scenarioRow(s, options))}
</section>
${runLatencies(run)}
${runLeftovers(run)}
</main>
<script>${SCRIPT_MARKUP}</script>
</body>
</html>
`.html;
}

// Our own text, inserted verbatim: the CSP hashes are of exactly these strings.
const SCRIPT_MARKUP = new Markup(SCRIPT);
