import { MATRIX_CONTENT_SECURITY_POLICY, MATRIX_STYLE } from './html-assets.js';
import { html, type Markup, pageHead } from './html-markup.js';
import type { Matrix, MatrixCell, MatrixColumn } from './matrix.js';
import { CELL_SYMBOLS, cellTime, cellWord, columnSummary, LEGEND, MATRIX_STATES } from './matrix.js';

/**
 * The matrix as one self-contained page, as safe as the HTML report: every
 * value goes through `html\`…\`` (html-markup.ts), which escapes it; the only
 * style sheet is allowed by its hash and no script is allowed at all; nothing
 * is fetched. It reads the same with JavaScript off.
 */

function utc(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : '';
}

function badge(state: MatrixCell['state']): Markup {
  return html`<span class="badge">${CELL_SYMBOLS[state]} ${cellWord(state)}</span>`;
}

function columnHead(col: MatrixColumn): Markup {
  return html`<th scope="col" class="target"><span class="label">${col.label}</span>
<dl class="facts"><dt>target</dt><dd>${col.targetName}</dd><dt>host</dt><dd>${col.host}</dd><dt>run</dt><dd><code>${col.runId}</code></dd><dt>file</dt><dd class="mono">${col.file}</dd>${col.interrupted && html`<dt>state</dt><dd class="warning">interrupted: results are partial</dd>`}</dl></th>`;
}

/** A cell: its verdict word and symbol on the verdict's colour, the time, and the note (the failed check and its clause, the deviations). */
function cellMarkup(cell: MatrixCell): Markup {
  const time = cellTime(cell);
  const deviations = cell.deviations.known + cell.deviations.fixed > 0;
  return html`<td class="cell v-${cell.state}" data-state="${cell.state}" data-known-deviations="${cell.deviations.known}" data-fixed-deviations="${cell.deviations.fixed}">${badge(cell.state)}${time !== '' && html`<span class="time">${time}</span>`}${cell.note !== undefined && html`<span class="${deviations && cell.state === 'passed' ? 'deviations' : 'note'}">${cell.note}</span>`}</td>`;
}

function legend(): Markup {
  return html`<ul class="legend" aria-label="legend">${MATRIX_STATES.map((s) => html`<li class="v-${s}">${badge(s)}</li>`)}</ul><p class="muted">${LEGEND}</p>`;
}

function title(m: Matrix): string {
  return `mailprobe matrix: ${m.rows.length} scenario${m.rows.length === 1 ? '' : 's'} × ${m.columns.map((c) => c.label).join(', ')}`;
}

export function renderMatrixHtml(m: Matrix): string {
  return html`<!DOCTYPE html>
<html lang="en">
${pageHead({ csp: MATRIX_CONTENT_SECURITY_POLICY, version: m.version, title: title(m), style: MATRIX_STYLE })}
<body>
<header>
<h1>${title(m)}</h1>
<p class="muted">mailprobe ${m.version}; one column per target, each run on its own; a cell's time is the scenario's protocol time.</p>
${legend()}
</header>
<main>
<table class="matrix">
<thead><tr><th scope="col" class="scenario">scenario</th>${m.columns.map(columnHead)}</tr></thead>
<tbody>
${m.rows.map((row) => html`<tr id="scenario-${row.id}"><th scope="row" class="scenario"><code>${row.id}</code><br>${row.name}</th>${row.cells.map(cellMarkup)}</tr>\n`)}</tbody>
</table>
</main>
<footer>
<h2>Runs</h2>
<ul class="runs">${m.columns.map((col) => html`<li><b>${col.label}</b>: ${columnSummary(col)}<span class="muted"> (started ${utc(col.startedAt)})</span></li>`)}</ul>
</footer>
</body>
</html>
`.html;
}

// Our own text, inserted verbatim: the CSP hash is of exactly this string.
