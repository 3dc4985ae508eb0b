/**
 * JSON: the whole result model, redacted, for tools and dashboards.
 *
 *   {
 *     "schemaVersion": 1,
 *     "runId": "mp-20240501-7f3a9c",
 *     "counts": { "total": 5, "passed": 1, "failed": 1, "errored": 1, "skipped": 1, "inconclusive": 1 },
 *     "target": { "name": "staging-pop", "host": "mail.example.test", … },
 *     "scenarios": [ { "state": "passed", "id": "pop3/login-user-pass", … } ],
 *     "peakBufferedBytes": 70123,
 *     …
 *   }
 *
 * Unlike JUnit, JSON keeps every verdict as it is (inconclusive stays
 * inconclusive). Bump schemaVersion on any change a consumer could trip on.
 */
import type { RunCounts, RunResult } from '../runner/results.js';
import { countResults } from '../runner/results.js';
import { escapeDisguisingInJson } from './escape.js';
import { writeReport } from './output.js';
import { redactRun } from './redact-result.js';
import type { Reporter, ReporterContext } from '../runner/reporter.js';

export const JSON_SCHEMA_VERSION = 1;

export type JsonReport = { readonly schemaVersion: typeof JSON_SCHEMA_VERSION; readonly counts: RunCounts } & RunResult;

/** Renders an already redacted run. JSON.stringify escapes control bytes and lone surrogates itself; bidi overrides are escaped here. */
export function renderJson(run: RunResult): string {
  const { runId, ...rest } = run;
  const report: JsonReport = { schemaVersion: JSON_SCHEMA_VERSION, runId, counts: countResults(run.scenarios), ...rest };
  return escapeDisguisingInJson(JSON.stringify(report, null, 2)) + '\n';
}

export class JsonReporter implements Reporter {
  readonly name = 'json';
  readonly #ctx: ReporterContext;

  constructor(ctx: ReporterContext) {
    this.#ctx = ctx;
  }

  async onRunEnd(result: RunResult): Promise<void> {
    await writeReport(this.#ctx, renderJson(redactRun(result, this.#ctx.redactor)));
  }
}
