import { createHash } from 'node:crypto';

/**
 * The HTML report's only style sheet and only script, inlined: the report is
 * one file that must read the same offline, from a CI artefact or a mail
 * attachment, and must make no request of its own.
 *
 * The Content-Security-Policy allows exactly these two by their SHA-256 hash,
 * not by 'unsafe-inline': every value in the page comes from a server or a
 * scenario and is escaped, and should a hostile `<script>` or `onerror=` ever
 * slip past the escaping, the browser still refuses to run it (a hash allows
 * only this text, and no event-handler attribute). `default-src 'none'`
 * forbids every fetch: images, fonts, frames, connections, forms.
 */

export const STYLE = `
:root { color-scheme: light; --passed: #1a7f37; --failed: #cf222e; --errored: #8250df; --inconclusive: #9a6700; --skipped: #57606a; --line: #d0d7de; --soft: #f6f8fa; }
[hidden] { display: none !important; }
body { margin: 0; font: 14px/1.45 system-ui, "DejaVu Sans", sans-serif; color: #1f2328; background: #fff; }
header, main, .filters { padding: 0.5rem 1rem; }
header { background: var(--soft); border-bottom: 1px solid var(--line); }
h1 { font-size: 1.25rem; margin: 0.2rem 0 0.4rem; }
h2 { font-size: 1.1rem; margin: 1.2rem 0 0.4rem; border-bottom: 1px solid var(--line); }
h3 { font-size: 0.95rem; margin: 0.8rem 0 0.3rem; }
code, pre, .mono { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 0.92em; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.1rem 1rem; margin: 0.3rem 0; }
dl.facts dt { color: #57606a; }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
ul.counts { list-style: none; padding: 0; margin: 0.4rem 0; display: flex; flex-wrap: wrap; gap: 0.5rem; }
ul.counts li { border: 1px solid var(--line); border-radius: 4px; padding: 0.1rem 0.5rem; background: #fff; }
ul.counts b { font-size: 1.1em; margin-left: 0.3em; }
.badge { display: inline-block; min-width: 7.5em; padding: 0 0.4em; border-radius: 3px; color: #fff; font-weight: 600; text-align: center; }
.badge.small { min-width: 5.5em; font-size: 0.85em; }
.v-passed > .badge, .badge.v-passed { background: var(--passed); }
.v-failed > .badge, .badge.v-failed { background: var(--failed); }
.v-errored > .badge, .badge.v-errored { background: var(--errored); }
.v-inconclusive > .badge, .badge.v-inconclusive { background: var(--inconclusive); }
.v-skipped > .badge, .badge.v-skipped { background: var(--skipped); }
.warning { color: var(--failed); font-weight: 600; }
.filters { border-bottom: 1px solid var(--line); display: flex; flex-wrap: wrap; gap: 0.5rem 1.5rem; align-items: center; }
.filters fieldset { border: 1px solid var(--line); border-radius: 4px; margin: 0; padding: 0.2rem 0.6rem; }
.filters label { margin-right: 0.8rem; white-space: nowrap; }
details.scenario { border: 1px solid var(--line); border-left: 6px solid var(--skipped); border-radius: 4px; margin: 0.4rem 0; }
details.scenario.v-passed { border-left-color: var(--passed); }
details.scenario.v-failed { border-left-color: var(--failed); }
details.scenario.v-errored { border-left-color: var(--errored); }
details.scenario.v-inconclusive { border-left-color: var(--inconclusive); }
details.scenario > summary { cursor: pointer; padding: 0.3rem 0.5rem; }
details.scenario[open] > summary { background: var(--soft); border-bottom: 1px solid var(--line); }
summary .name { font-weight: 600; margin: 0 0.4rem; }
summary .id, summary .time { color: #57606a; margin-right: 0.4rem; }
summary .why { display: block; margin: 0.15rem 0 0 0.2rem; overflow-wrap: anywhere; }
.tag { display: inline-block; border: 1px solid var(--line); border-radius: 10px; padding: 0 0.5em; margin-right: 0.2em; font-size: 0.85em; background: #fff; }
.scenario-body { padding: 0.2rem 0.8rem 0.6rem; }
.verdict-box { border: 1px solid var(--line); border-radius: 4px; padding: 0.3rem 0.6rem; margin: 0.4rem 0; background: #fff8f8; }
.verdict-box.v-passed, .verdict-box.v-skipped { background: var(--soft); }
table { border-collapse: collapse; width: 100%; margin: 0.3rem 0; }
th, td { border: 1px solid var(--line); padding: 0.15rem 0.4rem; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
th { background: var(--soft); font-weight: 600; }
td.result { white-space: nowrap; }
th.value, td.value { min-width: 9em; }
table.checks th:first-child, table.failed-checks th:first-child { width: 30%; }
td.value { font-family: ui-monospace, "DejaVu Sans Mono", monospace; white-space: pre-wrap; }
tr.check-failed td.result { color: var(--failed); font-weight: 600; }
tr.check-passed td.result { color: var(--passed); }
tr.check-deviation td.result, tr.deviation-known td { color: var(--inconclusive); }
summary .deviation-note { color: var(--inconclusive); font-weight: 600; margin-right: 0.4rem; }
ol.steps { padding-left: 1.6rem; margin: 0.2rem 0; }
ol.steps > li { margin: 0.25rem 0; }
details.step > summary { cursor: pointer; }
details.transcript > summary { cursor: pointer; color: #57606a; }
pre.transcript { white-space: pre-wrap; overflow-wrap: anywhere; background: var(--soft); border: 1px solid var(--line); border-radius: 4px; padding: 0.4rem 0.6rem; margin: 0.3rem 0; max-height: 36em; overflow: auto; }
pre.transcript .c { color: #0550ae; }
pre.transcript .s { color: #1f2328; }
pre.transcript .i { color: #6e7781; font-style: italic; }
ul.caps { list-style: none; padding: 0; margin: 0; display: flex; flex-wrap: wrap; gap: 0.25rem; }
ul.caps li code { border: 1px solid var(--line); border-radius: 3px; padding: 0 0.3em; background: var(--soft); }
.muted { color: #57606a; }
`;

/**
 * Filters by verdict and tag, and keeps the choice in location.hash
 * (`#verdict=failed,errored&tag=imap`) so a link can be shared. Plain ES5-era
 * DOM calls, no modules: any browser that opens a file runs it, and without
 * JavaScript the filters stay hidden and every scenario is shown.
 */
export const SCRIPT = `
(function () {
  'use strict';
  var form = document.getElementById('filters');
  var shown = document.getElementById('shown');
  if (!form || !shown) return;
  var rows = Array.prototype.slice.call(document.querySelectorAll('details.scenario'));
  function boxes(name) { return Array.prototype.slice.call(form.querySelectorAll('input[name="' + name + '"]')); }
  function checked(name) { return boxes(name).filter(function (b) { return b.checked; }).map(function (b) { return b.value; }); }
  function tagsOf(row) { try { return JSON.parse(row.getAttribute('data-tags') || '[]'); } catch (e) { return []; } }
  function apply() {
    var verdicts = checked('verdict');
    var tags = checked('tag');
    var count = 0;
    rows.forEach(function (row) {
      var visible = verdicts.indexOf(row.getAttribute('data-verdict')) !== -1 &&
        (tags.length === 0 || tagsOf(row).some(function (t) { return tags.indexOf(t) !== -1; }));
      row.hidden = !visible;
      if (visible) count++;
    });
    shown.textContent = count + ' of ' + rows.length + ' scenarios shown';
    return { verdicts: verdicts, tags: tags };
  }
  function writeHash(state) {
    var parts = [];
    if (state.verdicts.length !== boxes('verdict').length) parts.push('verdict=' + state.verdicts.map(encodeURIComponent).join(','));
    if (state.tags.length > 0) parts.push('tag=' + state.tags.map(encodeURIComponent).join(','));
    try { history.replaceState(null, '', parts.length > 0 ? '#' + parts.join('&') : location.pathname + location.search); } catch (e) { /* the view still filters */ }
  }
  function readHash() {
    var hash = location.hash.replace(/^#/, '');
    if (!/(^|&)(verdict|tag)=/.test(hash)) return;
    hash.split('&').forEach(function (pair) {
      var at = pair.indexOf('=');
      var key = pair.slice(0, at);
      if (key !== 'verdict' && key !== 'tag') return;
      var values = pair.slice(at + 1).split(',').map(function (v) { try { return decodeURIComponent(v); } catch (e) { return v; } });
      boxes(key).forEach(function (b) { b.checked = values.indexOf(b.value) !== -1; });
    });
  }
  function openAll(open) { rows.forEach(function (row) { if (!row.hidden) row.open = open; }); }
  form.addEventListener('change', function () { writeHash(apply()); });
  document.getElementById('show-all').addEventListener('click', function () {
    boxes('verdict').forEach(function (b) { b.checked = true; });
    boxes('tag').forEach(function (b) { b.checked = false; });
    writeHash(apply());
  });
  document.getElementById('open-all').addEventListener('click', function () { openAll(true); });
  document.getElementById('close-all').addEventListener('click', function () { openAll(false); });
  readHash();
  apply();
  form.hidden = false;
})();
`;

function sha256(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/** No fetch of any kind; only the inline style and script above, by hash. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  `style-src ${sha256(STYLE)}`,
  `script-src ${sha256(SCRIPT)}`,
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/**
 * The matrix page's only style sheet (matrix-html.ts). It has no script: the
 * page is a table, readable with JavaScript off, its header row kept in view
 * by `position: sticky`.
 */
export const MATRIX_STYLE = `
:root { color-scheme: light; --passed: #1a7f37; --failed: #cf222e; --errored: #8250df; --inconclusive: #9a6700; --skipped: #57606a; --not-run: #8c959f; --line: #d0d7de; --soft: #f6f8fa; }
body { margin: 0; font: 14px/1.45 system-ui, "DejaVu Sans", sans-serif; color: #1f2328; background: #fff; }
header, main, footer { padding: 0.5rem 1rem; }
header { background: var(--soft); border-bottom: 1px solid var(--line); }
h1 { font-size: 1.25rem; margin: 0.2rem 0 0.4rem; }
h2 { font-size: 1.1rem; margin: 1.2rem 0 0.4rem; border-bottom: 1px solid var(--line); }
code, .mono { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 0.92em; }
.muted { color: #57606a; }
ul.legend { list-style: none; padding: 0; margin: 0.4rem 0; display: flex; flex-wrap: wrap; gap: 0.3rem 1rem; }
.badge { display: inline-block; min-width: 6.5em; padding: 0 0.4em; border-radius: 3px; color: #fff; font-weight: 600; text-align: center; white-space: nowrap; }
.v-passed .badge { background: var(--passed); }
.v-failed .badge { background: var(--failed); }
.v-errored .badge { background: var(--errored); }
.v-inconclusive .badge { background: var(--inconclusive); }
.v-skipped .badge { background: var(--skipped); }
.v-not-run .badge { background: var(--not-run); }
table.matrix { border-collapse: separate; border-spacing: 0; margin: 0.3rem 0; }
table.matrix th, table.matrix td { border-right: 1px solid var(--line); border-bottom: 1px solid var(--line); padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
table.matrix thead th { position: sticky; top: 0; z-index: 1; background: var(--soft); border-top: 1px solid var(--line); min-width: 12em; }
table.matrix th.scenario { min-width: 16em; max-width: 28em; font-weight: normal; }
table.matrix th.scenario code { font-weight: 600; }
table.matrix td.cell { min-width: 12em; max-width: 26em; }
td.v-passed { background: #f0fff4; }
td.v-failed { background: #fff0f0; }
td.v-errored { background: #f8f0ff; }
td.v-inconclusive { background: #fff8e5; }
td.v-skipped, td.v-not-run { background: var(--soft); }
.time { color: #57606a; margin-left: 0.4em; white-space: nowrap; }
.note { display: block; margin-top: 0.15rem; }
.deviations { display: block; margin-top: 0.15rem; color: var(--inconclusive); font-weight: 600; }
.warning { color: var(--failed); font-weight: 600; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0 0.6rem; margin: 0.2rem 0 0; font-weight: normal; font-size: 0.9em; }
dl.facts dt { color: #57606a; }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
`;

/** The matrix page's policy: no fetch, no script at all, only the style sheet above by hash. */
export const MATRIX_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  `style-src ${sha256(MATRIX_STYLE)}`,
  "script-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');
