/**
 * JUnit XML, for CI (Jenkins, GitLab, dorny/test-reporter, mikepenz/action-junit-report).
 *
 *   <testsuites name="mailprobe" tests="5" failures="1" errors="1" skipped="2" time="1.790">
 *     <testsuite name="suites/pop3/dele-marks-deleted.yaml" tests="1" failures="1" errors="0" skipped="0" time="0.041" …>
 *       <properties><property name="target.host" value="mail.example.test"/>…</properties>
 *       <testcase classname="mailprobe.pop3" name="RETR of a message marked deleted answers -ERR"
 *                 time="0.041" file="suites/pop3/dele-marks-deleted.yaml" line="20">
 *         <failure message="RETR of a message marked deleted must fail, but the server sent it" type="expectation">message:  RETR of …
 *   step:     RETR 1 after DELE 1 …</failure>
 *         <system-out>+    0ms [laptop] -- connected to 127.0.0.1:40110 (plain) …</system-out>
 *       </testcase>
 *     </testsuite>
 *   </testsuites>
 *
 * Two flavours. The default carries `file` and `line` on <testcase>, which is
 * what action-junit-report turns into annotations and what Jenkins, GitLab and
 * dorny ignore. `strict` leaves out everything the Jenkins xunit schema
 * (junit-10.xsd) rejects: testcase file/line, and `skipped` on <testsuites>.
 */
import { resolve } from 'node:path';
import { create } from 'xmlbuilder2';
import type { XMLBuilder } from 'xmlbuilder2/lib/interfaces.js';
import type { Remark, RunResult, ScenarioResult } from '../runner/results.js';
import { countResults } from '../runner/results.js';
import {
  caseRemarks,
  classnameFor,
  formatSeconds,
  fullTranscript,
  furtherCheckHeading,
  relPath,
  transcriptTail,
  verdictDetail,
  type VerdictDetail,
} from './detail.js';
import { escapeControls, oneLine } from './escape.js';

export interface JUnitOptions {
  /** Omit what junit-10.xsd rejects, so the file validates for the Jenkins xunit plugin. */
  readonly strict?: boolean;
  /** Paths are written relative to this directory (ReporterContext.cwd). */
  readonly cwd: string;
  /**
   * The folder the report file is written to (default: cwd, as for stdout):
   * attachment paths are relative to it, as Jenkins and GitLab resolve them
   * beside the report.
   */
  readonly reportDir?: string;
}

/** Renders an already redacted run. */
export function renderJUnit(run: RunResult, options: JUnitOptions): string {
  const strict = options.strict ?? false;
  const cwd = options.cwd;
  const counts = countResults(run.scenarios);

  const root = create({ version: '1.0', encoding: 'UTF-8' }).ele('testsuites', {
    name: 'mailprobe',
    tests: String(counts.total),
    failures: String(counts.failed),
    errors: String(counts.errored),
    ...(strict ? {} : { skipped: String(counts.skipped + counts.inconclusive) }),
    time: formatSeconds(run.durationMs),
  });

  // One <testsuite> per scenario file (or per `suite` of a case no file
  // describes, such as a probed host), in the order the run met them.
  const bySuite = new Map<string, ScenarioResult[]>();
  for (const scenario of run.scenarios) {
    const key = scenario.suite !== undefined ? `suite ${scenario.suite}` : `file ${scenario.file ?? scenario.id}`;
    const list = bySuite.get(key) ?? [];
    list.push(scenario);
    bySuite.set(key, list);
  }

  for (const scenarios of bySuite.values()) {
    const c = countResults(scenarios);
    const first = scenarios[0]!;
    const file = first.suite === undefined ? first.file : undefined;
    const name = first.suite ?? (file === undefined ? first.id : relPath(file, cwd));
    const suite = root.ele('testsuite', {
      name: attr(name),
      tests: String(c.total),
      failures: String(c.failed),
      errors: String(c.errored),
      skipped: String(c.skipped + c.inconclusive),
      time: formatSeconds(scenarios.reduce((sum, s) => sum + s.durationMs, 0)),
      timestamp: timestamp(Math.min(...scenarios.map((s) => s.startedAt))),
      ...(file === undefined ? {} : { file: attr(relPath(file, cwd)) }),
    });
    writeProperties(suite.ele('properties'), run, scenarios);
    for (const scenario of scenarios) writeTestcase(suite, scenario, { strict, cwd, reportDir: options.reportDir ?? cwd });
  }

  // wellFormed makes the serializer throw on anything escapeControls missed,
  // instead of dropping it silently (its default).
  return root.end({ prettyPrint: true, indent: '  ', wellFormed: true }) + '\n';
}

function writeProperties(props: XMLBuilder, run: RunResult, scenarios: readonly ScenarioResult[]): void {
  const add = (name: string, value: string) => props.ele('property', { name: attr(name), value: attr(value) });
  add('target.name', run.target.name);
  add('target.host', run.target.host);
  add('target.file', run.target.file);
  add('insecure', String(run.target.insecure));
  add('run.id', run.runId);
  add('mailprobe.version', run.mailprobeVersion);
  if (run.interrupted) add('interrupted', 'true');
  if (run.shard !== undefined) add('shard', `${run.shard.index}/${run.shard.total}`);
  // A scenario file holds one scenario; should it ever hold more, prefix their properties.
  const prefixed = scenarios.length > 1;
  for (const s of scenarios) {
    const p = prefixed ? `${s.id}.` : '';
    add(`${p}scenario.id`, s.id);
    // JUnit has no inconclusive state (see writeTestcase); CI tools that read properties can see the real one.
    add(`${p}verdict`, s.state);
    if (s.tags.length > 0) add(`${p}tags`, s.tags.join(' '));
    if (s.rfc.length > 0) add(`${p}rfc`, s.rfc.join(', '));
    for (const [session, caps] of Object.entries(s.capabilities)) add(`${p}capabilities.${session}`, caps.join(' '));
    for (const [name, value] of Object.entries(s.properties)) add(`${p}${name}`, value);
    // A known deviation passes the case; the property keeps it in reach of any tool that reads properties.
    for (const d of s.deviations ?? [])
      add(`${p}deviation.${d.check}`, `${d.status === 'known' ? 'known deviation' : 'deviation fixed'}: ${d.rfc}: ${d.reason}`);
  }
}

/**
 * The line a CI annotation should point at: the failing check, or the step
 * that errored, when it is written in the case's own file; otherwise the
 * scenario's line. (action-junit-report takes testcase@line as it is.)
 */
function annotationLine(s: ScenarioResult, cwd: string): number | undefined {
  const where = s.state === 'failed' ? s.failure.source : s.state === 'errored' ? s.error.source : undefined;
  if (where !== undefined && s.file !== undefined && relPath(where.file, cwd) === relPath(s.file, cwd)) return where.line;
  return s.line;
}

function writeTestcase(suite: XMLBuilder, s: ScenarioResult, options: { strict: boolean; cwd: string; reportDir: string }): void {
  const line = annotationLine(s, options.cwd);
  const testcase = suite.ele('testcase', {
    classname: attr(s.classname ?? classnameFor(s.id)),
    name: attr(s.name),
    time: formatSeconds(s.durationMs),
    ...(options.strict || s.file === undefined ? {} : { file: attr(relPath(s.file, options.cwd)), ...(line === undefined ? {} : { line: String(line) }) }),
  });
  const detail = verdictDetail(s, options.cwd);
  switch (s.state) {
    case 'passed':
      break;
    case 'failed':
      testcase.ele('failure', { message: attr(failureMessage(s.failure.message, detail)), type: 'expectation' }).txt(body(detail, s.startedAt));
      break;
    case 'errored':
      testcase.ele('error', { message: attr(s.error.message), type: attr(s.error.code) }).txt(body(detail, s.startedAt));
      break;
    case 'skipped':
      // GitLab shows the element text, not the attribute: the reason goes in both.
      testcase.ele('skipped', { message: attr(s.reason) }).txt(text(s.reason));
      break;
    case 'inconclusive':
      // JUnit has no "try again later". A <failure> would turn CI red because a
      // server greylisted us or held a mailbox lock, which says nothing about
      // compliance; an <error> would blame our run. <skipped> is the honest
      // nearest: not judged. The message says why, the `verdict` property and
      // the TAP and JSON reports keep the real state.
      testcase.ele('skipped', { message: attr(`inconclusive: ${s.reason}`) }).txt(body(detail, s.startedAt, `inconclusive: ${s.reason}`));
      break;
  }
  // A failure, error or inconclusive case carries its remarks in its body; a
  // passed or skipped one has no body and shows them here, so a warning beside a passed case still reaches the CI page.
  const remarks = s.state === 'passed' || s.state === 'skipped' ? remarkLines(caseRemarks(s)) : [];
  const out = [...attachmentLines(s, options), ...remarks, ...fullTranscript(s)];
  if (out.length > 0) testcase.ele('system-out').txt(text(out.join('\n') + '\n'));
  if (s.leftovers.length > 0) {
    testcase.ele('system-err').txt(text(`left behind (remove by hand):\n${s.leftovers.map((l) => `  ${l}`).join('\n')}\n`));
  }
}

/** Readers that show only the attribute still learn that more than one check failed. */
function failureMessage(first: string, detail: VerdictDetail | undefined): string {
  const more = detail?.more.length ?? 0;
  return more === 0 ? first : `${first} (and ${more} more failed check${more === 1 ? '' : 's'})`;
}

/**
 * Saved message copies (the `saved_copy` properties), one `[[ATTACHMENT|path]]`
 * line each: the form the Jenkins junit-attachments plugin reads (the tag
 * alone on its line) and GitLab reads (the first tag in <system-out> of a
 * failed or errored case), so they come first.
 */
function attachmentLines(s: ScenarioResult, options: { cwd: string; reportDir: string }): string[] {
  return Object.entries(s.properties)
    .filter(([key]) => key === 'saved_copy' || key.startsWith('saved_copy.'))
    .map(([, path]) => `[[ATTACHMENT|${relPath(resolve(options.cwd, path), options.reportDir) || '.'}]]`);
}

/**
 * The element body a reader shows: what broke, where, what was expected, what
 * came, and the end of the exchange. A failure's body starts with its message
 * (GitLab shows only the body); an error's starts with its code, its message follows.
 */
function body(detail: VerdictDetail | undefined, startedAt: number, message = detail?.message): string {
  if (detail === undefined) return '';
  const lines: string[] = [];
  const field = (label: string, value: string | undefined, indent = '') => {
    if (value !== undefined) lines.push(`${indent}${`${label}:`.padEnd(10)}${value}`);
  };
  if (detail.code === undefined) field('message', message);
  field('check', detail.check);
  field('code', detail.code);
  field('phase', detail.phase);
  field('step', detail.step);
  field('at', detail.at);
  if (detail.code !== undefined) field('message', detail.message);
  field('expected', detail.expected);
  field('actual', detail.actual);
  field('rfc', detail.rfc);
  lines.push(...remarkLines(detail.remarks));
  detail.more.forEach((check, i) => {
    lines.push(`${furtherCheckHeading(i, detail)}:`);
    for (const key of ['message', 'check', 'at', 'expected', 'actual', 'rfc'] as const)
      field(key, key === 'at' ? furtherAt(check.at, detail.at) : check[key], '  ');
  });
  if (detail.transcript.length > 0) {
    lines.push('transcript (last lines, redacted):');
    for (const line of transcriptTail(detail.transcript, startedAt)) lines.push(`  ${line}`);
  }
  return text(lines.join('\n') + (lines.length > 0 ? '\n' : ''));
}

/**
 * A further check in the first check's file is shown as "line 23, column 9":
 * a reader without testcase@line (the strict flavour) takes the LAST
 * "FILE…:LINE" in the body as the annotation's line, which must stay the
 * first failing check's.
 */
function furtherAt(at: string, firstAt: string | undefined): string {
  const pos = /^(.*):(\d+):(\d+)$/.exec(at);
  const firstFile = firstAt === undefined ? undefined : /^(.*):\d+:\d+$/.exec(firstAt)?.[1];
  return pos !== null && pos[1] === firstFile ? `line ${pos[2]}, column ${pos[3]}` : at;
}

/** "evidence: 554 no"; the labels padded as the body's own fields are. */
function remarkLines(remarks: readonly Remark[]): string[] {
  // A label longer than the column ("known deviation") still gets its space.
  return remarks.map((r) => `${`${r.label}:`.padEnd(Math.max(10, r.label.length + 2))}${r.text}`);
}

function text(value: string): string {
  return escapeControls(value);
}

/** Attribute values: one line, since XML parsers fold newlines in attributes into spaces anyway. */
function attr(value: string): string {
  return oneLine(value);
}

function timestamp(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/Z$/, '+00:00');
}
