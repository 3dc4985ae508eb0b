/**
 * HTML: one self-contained page for a person who would rather look than read
 * XML (`--reporter html=FILE`). No external asset and no request: the style
 * and the filter script are inline, allowed by hash in its
 * Content-Security-Policy (html-assets.ts).
 *
 *   <header id="summary"> ✗ failed 1  ! errored 1 … run id, target, duration, version, shard
 *   <form id="filters">   verdict and tag checkboxes (shown only when the script runs)
 *   <details class="scenario v-failed" data-verdict="failed" data-tags='["pop3"]' open>
 *     <summary>✗ failed  RETR of a deleted message …</summary>
 *     failure: expected / actual / RFC clause, the transcript's last lines;
 *     steps with their checks and redacted transcripts; cleanup; leftovers;
 *     capabilities per session; delivery and IDLE push latencies
 *   </details> …
 *   <section id="latencies"> … <section id="leftovers"> …
 *
 * It needs a file (a bare `--reporter html` is refused by parseReporterSpec):
 * a page on stdout would only be redirected to one.
 */
import type { RunResult } from '../runner/results.js';
import { renderHtmlPage, type HtmlPageOptions } from './html-page.js';
import { writeReport } from './output.js';
import { redactRun } from './redact-result.js';
import type { Reporter, ReporterContext } from '../runner/reporter.js';

/** Renders an already redacted run. */
export function renderHtml(run: RunResult, options: HtmlPageOptions): string {
  return renderHtmlPage(run, options);
}

export class HtmlReporter implements Reporter {
  readonly name = 'html';
  readonly #ctx: ReporterContext;

  constructor(ctx: ReporterContext) {
    this.#ctx = ctx;
  }

  async onRunEnd(result: RunResult): Promise<void> {
    const options: HtmlPageOptions = this.#ctx.outFile === undefined ? { cwd: this.#ctx.cwd } : { cwd: this.#ctx.cwd, outFile: this.#ctx.outFile };
    await writeReport(this.#ctx, renderHtml(redactRun(result, this.#ctx.redactor), options));
  }
}
