/**
 * The JUnit reporter (junit.ts renders the XML). Apart from it, so that the XML
 * builder (xmlbuilder2 and its DOM, about 10 MB and a tenth of a second to load)
 * loads only when a JUnit report is written: a run with other reporters, a
 * support engineer's console run or the bench's JSON one, never loads it.
 */
import { dirname, resolve } from 'node:path';
import type { RunResult } from '../runner/results.js';
import type { Reporter, ReporterContext } from '../runner/reporter.js';
import { writeReport } from './output.js';
import { redactRun } from './redact-result.js';

export class JUnitReporter implements Reporter {
  readonly name: string;
  readonly #ctx: ReporterContext;
  readonly #strict: boolean;

  constructor(ctx: ReporterContext, options: { strict?: boolean } = {}) {
    this.#ctx = ctx;
    this.#strict = options.strict ?? false;
    this.name = this.#strict ? 'junit-strict' : 'junit';
  }

  async onRunEnd(result: RunResult): Promise<void> {
    const { renderJUnit } = await import('./junit.js');
    const { cwd, outFile } = this.#ctx;
    const reportDir = outFile === undefined ? cwd : dirname(resolve(cwd, outFile));
    const xml = renderJUnit(redactRun(result, this.#ctx.redactor), { strict: this.#strict, cwd, reportDir });
    await writeReport(this.#ctx, xml);
  }
}
