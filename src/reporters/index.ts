import { ConsoleReporter } from './console.js';
import { HtmlReporter } from './html.js';
import { JsonReporter } from './json.js';
import { JUnitReporter } from './junit-reporter.js';
import type { Reporter, ReporterContext } from '../runner/reporter.js';
import { TapReporter } from './tap.js';

/**
 * `--reporter NAME[=FILE]` → a Reporter. Without a file, tap/json/junit write
 * to ctx.stdout; console always writes to stderr; html needs a file.
 */
export const REPORTER_NAMES = ['console', 'junit', 'junit-strict', 'tap', 'json', 'html'] as const;
export type ReporterName = (typeof REPORTER_NAMES)[number];

export interface ReporterSpec {
  readonly name: ReporterName;
  readonly file?: string;
}

export class ReporterSpecError extends Error {
  readonly code = 'EREPORTER_SPEC';
  override readonly name = 'ReporterSpecError';
}

function isReporterName(name: string): name is ReporterName {
  return (REPORTER_NAMES as readonly string[]).includes(name);
}

/** "junit=reports/junit.xml" → { name: 'junit', file: 'reports/junit.xml' }; "tap" → { name: 'tap' }. */
export function parseReporterSpec(spec: string): ReporterSpec {
  const eq = spec.indexOf('=');
  const name = (eq === -1 ? spec : spec.slice(0, eq)).trim();
  const file = eq === -1 ? undefined : spec.slice(eq + 1).trim();
  const known = REPORTER_NAMES.join(', ');
  if (name.length === 0) throw new ReporterSpecError(`reporter spec "${spec}" has no name; use NAME or NAME=FILE, NAME one of: ${known}`);
  if (!isReporterName(name)) throw new ReporterSpecError(`unknown reporter "${name}"; known reporters: ${known}`);
  if (file !== undefined && file.length === 0) throw new ReporterSpecError(`reporter spec "${spec}" has an empty file name after "="`);
  if (name === 'console' && file !== undefined) {
    throw new ReporterSpecError('the console reporter writes to stderr and takes no file; use json, tap or junit for a file');
  }
  if (name === 'html' && file === undefined) {
    // A whole page on stdout is only ever redirected to a file; naming it keeps it out of a terminal or a log.
    throw new ReporterSpecError('the html reporter writes a page and needs a file: --reporter html=FILE, e.g. html=reports/report.html');
  }
  return file === undefined ? { name } : { name, file };
}

/** The spec's file, when given, wins over ctx.outFile; it is resolved against ctx.cwd when written. */
export function createReporter(spec: ReporterSpec | string, ctx: ReporterContext): Reporter {
  const parsed = typeof spec === 'string' ? parseReporterSpec(spec) : spec;
  const context: ReporterContext = parsed.file !== undefined ? { ...ctx, outFile: parsed.file } : ctx;
  switch (parsed.name) {
    case 'console':
      return new ConsoleReporter(context);
    case 'junit':
      return new JUnitReporter(context);
    case 'junit-strict':
      return new JUnitReporter(context, { strict: true });
    case 'tap':
      return new TapReporter(context);
    case 'json':
      return new JsonReporter(context);
    case 'html':
      if (context.outFile === undefined) throw new ReporterSpecError('the html reporter needs a file: --reporter html=FILE');
      return new HtmlReporter(context);
  }
}

export { ConsoleReporter, renderConsoleHeader, renderConsoleScenario, renderConsoleSummary } from './console.js';
export { JUnitReporter } from './junit-reporter.js';
// renderJUnit is not re-exported: importing it from here would load the XML builder with every reporter (junit-reporter.ts).
export { TapReporter, renderTap, type TapOptions } from './tap.js';
export { JsonReporter, renderJson, JSON_SCHEMA_VERSION, type JsonReport } from './json.js';
export { HtmlReporter, renderHtml } from './html.js';
export { ReporterMultiplexer, type ReporterCrash } from '../runner/reporter-multiplexer.js';
export { redactRun, redactScenario } from './redact-result.js';
export { escapeControls } from './escape.js';
export type { Reporter, ReporterContext, RunStartInfo, ScenarioStartInfo } from '../runner/reporter.js';
