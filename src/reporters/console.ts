/**
 * Console reporter: progress and diagnosis on stderr, for a person watching.
 * stdout stays free for TAP or JSON piped to another tool.
 *
 *   mailprobe 0.1.0 · run mp-20240501-7f3a9c · target staging-pop (mail.example.test)
 *   ✓ USER/PASS login reaches TRANSACTION state  pop3/login-user-pass  14ms
 *   ✗ RETR of a message marked deleted answers -ERR  pop3/dele-marks-deleted  41ms
 *       message  RETR of a message marked deleted must fail, but the server sent it
 *       step     RETR 1 after DELE 1
 *       at       suites/pop3/dele-marks-deleted.yaml:20:9
 *       expected -ERR
 *       actual   +OK 312 octets\x07\x1b[2J\ud800
 *       rfc      RFC 1939 §6 DELE: any future reference to the message-number …
 *       transcript (last lines, redacted):
 *         +   13ms [laptop] C: RETR 1
 *   ↓ AUTH CRAM-MD5 login  pop3/auth/sasl-cram-md5  6ms  skipped: requires capability SASL CRAM-MD5 …
 *
 *   1 passed, 1 failed, 1 errored, 1 skipped, 1 inconclusive (5 scenarios) in 1.79s
 *   insecure: TLS certificate verification was OFF for this run
 */
import { resolve } from 'node:path';
import pc from 'picocolors';
import type { SourcePos } from '../core/source.js';
import { formatDiagnostic } from '../input/errors.js';
import { readInputText } from '../input/input-file.js';
import type { RunResult, ScenarioResult, Verdict } from '../runner/results.js';
import { countResults } from '../runner/results.js';
import { caseRemarks, deviationNote, formatDuration, interruptedCleanup, furtherCheckHeading, transcriptTail, verdictDetail } from './detail.js';
import { escapeControls, oneLine } from './escape.js';
import { redactRun, redactScenario } from './redact-result.js';
import type { Reporter, ReporterContext, RunStartInfo } from '../runner/reporter.js';

type Colors = ReturnType<typeof pc.createColors>;

export const SYMBOLS: Record<Verdict, string> = {
  passed: '✓',
  failed: '✗',
  errored: '!',
  skipped: '↓',
  inconclusive: '?',
};

export function paint(colors: Colors, state: Verdict, text: string): string {
  switch (state) {
    case 'passed':
      return colors.green(text);
    case 'failed':
    case 'errored':
      return colors.red(text);
    case 'skipped':
      return colors.dim(text);
    case 'inconclusive':
      return colors.yellow(text);
  }
}

/** Rows of the detail block under a scenario line, label left, value right. */
function row(label: string, value: string, colors: Colors): string {
  // Multi-line values keep their shape, indented under the value column.
  const [first = '', ...rest] = escapeControls(value, { keep: '\n' }).split('\n');
  const lines = [`    ${colors.dim(label.padEnd(8))} ${first}`];
  for (const more of rest) lines.push(`    ${' '.repeat(8)} ${more}`);
  return lines.join('\n');
}

export function renderConsoleHeader(info: RunStartInfo, version: string | undefined, colors: Colors): string {
  const head = [version !== undefined ? `mailprobe ${version}` : 'mailprobe', `run ${info.runId}`, `target ${info.target.name} (${info.target.host})`];
  const lines = [colors.bold(oneLine(head.join(' · ')))];
  if (info.target.insecure) lines.push(colors.yellow('insecure: TLS certificate verification is OFF for this run'));
  return lines.join('\n') + '\n';
}

/**
 * The scenario lines around a failure's place (the load errors' renderer, secrets masked), given the
 * text of its file; undefined without one.
 */
export function runtimeFrame(pos: SourcePos, sources: ReadonlyMap<string, string>): string | undefined {
  const text = sources.get(pos.file);
  if (text === undefined) return undefined;
  const [, ...frame] = formatDiagnostic({ pos, message: '' }, text).split('\n');
  return frame.length > 0 ? frame.join('\n') : undefined;
}

/**
 * One scenario as it ends: the progress line, plus the diagnosis when it did not pass. Input must be redacted.
 * `sources` holds scenario texts by absolute path, for code frames under `at`.
 */
export function renderConsoleScenario(result: ScenarioResult, colors: Colors, cwd: string, sources: ReadonlyMap<string, string> = new Map()): string {
  const head = `${paint(colors, result.state, SYMBOLS[result.state])} ${oneLine(result.name)}  ${colors.dim(oneLine(result.id))}`;
  const detail = verdictDetail(result, cwd);
  const lines: string[] = [];
  const note = deviationNote(result);
  const timed = `${head}  ${colors.dim(formatDuration(result.durationMs))}${note !== undefined ? `  ${colors.yellow(note)}` : ''}`;
  lines.push(
    result.state === 'skipped' || result.state === 'inconclusive'
      ? `${timed}  ${paint(colors, result.state, `${result.state}: ${oneLine(result.reason)}`)}`
      : timed,
  );
  if (detail !== undefined && result.state !== 'skipped') {
    if (result.state === 'errored') {
      lines.push(row('error', `${detail.code ?? ''}${detail.phase !== undefined ? ` in phase ${detail.phase}` : ''}`, colors));
      lines.push(row('message', detail.message, colors));
    } else if (result.state === 'failed') {
      lines.push(row('message', detail.message, colors));
      if (detail.check !== undefined) lines.push(row('check', detail.check, colors));
    }
    if (detail.step !== undefined) lines.push(row('step', detail.step, colors));
    if (detail.at !== undefined) lines.push(row('at', detail.at, colors));
    const frame = detail.position === undefined ? undefined : runtimeFrame({ ...detail.position, file: resolve(cwd, detail.position.file) }, sources);
    if (frame !== undefined) lines.push(escapeControls(frame, { keep: '\n' }).replace(/^/gm, '      '));
    if (detail.expected !== undefined) lines.push(row('expected', detail.expected, colors));
    if (detail.actual !== undefined) lines.push(row('actual', detail.actual, colors));
    if (detail.rfc !== undefined) lines.push(row('rfc', detail.rfc, colors));
    for (const remark of detail.remarks) lines.push(row(remark.label, remark.text, colors));
    detail.more.forEach((check, i) => {
      lines.push(`    ${colors.dim(`${furtherCheckHeading(i, detail)}:`)}`);
      lines.push(row('message', check.message, colors));
      if (check.check !== undefined) lines.push(row('check', check.check, colors));
      lines.push(row('at', check.at, colors));
      lines.push(row('expected', check.expected, colors), row('actual', check.actual, colors));
      if (check.rfc !== undefined) lines.push(row('rfc', check.rfc, colors));
    });
    if (detail.transcript.length > 0) {
      lines.push(`    ${colors.dim('transcript (last lines, redacted):')}`);
      for (const line of transcriptTail(detail.transcript, result.startedAt)) lines.push(`      ${oneLine(line)}`);
    }
  }
  // A passed or skipped case has no diagnosis block; its remarks (a probe warning) still show.
  if (detail === undefined || result.state === 'skipped') for (const remark of caseRemarks(result)) lines.push(row(remark.label, remark.text, colors));
  if (result.leftovers.length > 0) {
    lines.push(colors.yellow(`    left behind (remove by hand):`));
    for (const item of result.leftovers) lines.push(`      ${oneLine(item)}`);
  }
  return lines.join('\n') + '\n';
}

export function renderConsoleSummary(run: RunResult, colors: Colors): string {
  const c = countResults(run.scenarios);
  const parts = [
    colors.green(`${c.passed} passed`),
    (c.failed > 0 ? colors.red : colors.dim)(`${c.failed} failed`),
    (c.errored > 0 ? colors.red : colors.dim)(`${c.errored} errored`),
    colors.dim(`${c.skipped} skipped`),
    (c.inconclusive > 0 ? colors.yellow : colors.dim)(`${c.inconclusive} inconclusive`),
  ];
  const lines = [`${parts.join(', ')} (${c.total} scenario${c.total === 1 ? '' : 's'}) in ${formatDuration(run.durationMs)}`];
  const deviations = run.scenarios.flatMap((s) => s.deviations ?? []);
  const known = deviations.filter((d) => d.status === 'known').length;
  const fixed = deviations.length - known;
  // Never hidden behind the pass count: a profile's entries that failed as listed, and those that no longer fail.
  if (known > 0) lines.push(colors.yellow(`${known} known deviation${known === 1 ? '' : 's'} (listed in the target file; not counted as failures)`));
  if (fixed > 0)
    lines.push(
      colors.yellow(
        `${fixed} deviation${fixed === 1 ? '' : 's'} fixed: the listed check passes now; remove ${fixed === 1 ? 'it' : 'them'} from the target's deviations`,
      ),
    );
  if (run.target.insecure) lines.push(colors.yellow('insecure: TLS certificate verification was OFF for this run'));
  if (run.interrupted) lines.push(colors.yellow(`interrupted: the run was stopped early; ${interruptedCleanup(run)}, results are partial`));
  return '\n' + lines.join('\n') + '\n';
}

export class ConsoleReporter implements Reporter {
  readonly name = 'console';
  readonly #ctx: ReporterContext;
  readonly #colors: Colors;
  readonly #version: string | undefined;

  constructor(ctx: ReporterContext, options: { version?: string } = {}) {
    this.#ctx = ctx;
    this.#colors = pc.createColors(ctx.color);
    this.#version = options.version;
  }

  onRunStart(info: RunStartInfo): void {
    const target = { ...info.target, name: this.#ctx.redactor.text(info.target.name), host: this.#ctx.redactor.text(info.target.host) };
    this.#ctx.stderr.write(renderConsoleHeader({ ...info, target }, this.#version ?? info.version, this.#colors));
  }

  /** Scenario texts read for code frames, by absolute path (undefined: unreadable, not tried again). */
  readonly #sources = new Map<string, string | undefined>();

  async onScenarioEnd(result: ScenarioResult): Promise<void> {
    const redacted = redactScenario(result, this.#ctx.redactor);
    const place = result.state === 'failed' ? result.failure.source : result.state === 'errored' ? result.error.source : undefined;
    if (place !== undefined && !this.#sources.has(place.file)) {
      // Read again, bounded, with the limits it was loaded with; the frame masks secrets like a load error's.
      const text = await readInputText(place.file, 'scenario').catch(() => undefined);
      this.#sources.set(place.file, text === undefined ? undefined : this.#ctx.redactor.text(text));
    }
    const sources = new Map([...this.#sources].flatMap(([file, text]) => (text === undefined ? [] : [[file, text] as const])));
    this.#ctx.stderr.write(renderConsoleScenario(redacted, this.#colors, this.#ctx.cwd, sources));
  }

  onRunEnd(result: RunResult): void {
    this.#ctx.stderr.write(renderConsoleSummary(redactRun(result, this.#ctx.redactor), this.#colors));
  }
}
