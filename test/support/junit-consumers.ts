import { create } from 'xmlbuilder2';

/**
 * How two CI consumers read a JUnit file, re-implemented from their own source
 * so a test can ask "what would this reader show?" without a CI service:
 *
 * - mikepenz/action-junit-report (src/testParser.ts, parseSuite and
 *   resolveFileAndLine): the annotation's file is testcase@file, else
 *   failure@file, else testsuite@file; its line is testcase@line, else
 *   failure@line, else testsuite@line; with no line, the LAST match of
 *   ` [^ ]*FILE.*?:\d+` in the failure (or error) body gives it, else line 1.
 *   The message is failure@message, else error@message, else the first two
 *   body lines.
 * - GitLab's JUnit parser (lib/gitlab/ci/parsers/test/junit.rb): a case's
 *   details are the <failure>, <error> or <skipped> element TEXT (attributes
 *   are not shown); for a failed or errored case the first
 *   `[[ATTACHMENT|path]]` in <system-out> is its attachment.
 *
 * Only what mailprobe's reports exercise is modelled (no retries, transformers
 * or path globbing).
 */

interface Element {
  getAttribute(name: string): string | null;
  getElementsByTagName(name: string): ArrayLike<Element>;
  readonly childNodes: ArrayLike<Element>;
  readonly nodeName: string;
  readonly textContent: string | null;
}

function parse(xml: string): Element {
  return (create(xml) as unknown as { node: Element }).node;
}

function child(el: Element, name: string): Element | undefined {
  return Array.from(el.childNodes).find((c) => c.nodeName === name);
}

function testcases(doc: Element): Array<{ testcase: Element; suite: Element }> {
  const out: Array<{ testcase: Element; suite: Element }> = [];
  for (const suite of Array.from(doc.getElementsByTagName('testsuite'))) {
    for (const testcase of Array.from(suite.childNodes).filter((c) => c.nodeName === 'testcase')) out.push({ testcase, suite });
  }
  return out;
}

export interface MikepenzAnnotation {
  readonly name: string;
  readonly path: string;
  readonly line: number;
  readonly message: string;
  readonly level: 'failure' | 'notice';
}

function safeParseInt(line: string | null | undefined): number | null {
  if (!line) return null;
  const parsed = Number.parseInt(line, 10);
  return Number.isNaN(parsed) ? null : parsed;
}

function resolveFileAndLine(file: string | null, line: string | null, className: string, output: string): { fileName: string; line: number } {
  const fileName = file ? file : (className.split('.').slice(-1)[0] ?? '');
  const lineNumber = safeParseInt(line);
  if (fileName && lineNumber) return { fileName, line: lineNumber };
  const escaped = fileName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace('::', '/');
  const matches = output.match(new RegExp(` [^ ]*${escaped}.*?:\\d+`, 'g'));
  if (!matches) return { fileName, line: lineNumber || 1 };
  const last = matches.slice(-1)[0] ?? '';
  return { fileName, line: safeParseInt(last.split(':').pop()) || -1 };
}

/** mikepenz/action-junit-report: one annotation per testcase. */
export function mikepenzAnnotations(xml: string): MikepenzAnnotation[] {
  return testcases(parse(xml)).map(({ testcase, suite }) => {
    const failure = child(testcase, 'failure');
    const error = child(testcase, 'error');
    const skipped = child(testcase, 'skipped');
    const stackTrace = (failure?.textContent || error?.textContent || '').trim();
    const message = (
      failure?.getAttribute('message') ||
      error?.getAttribute('message') ||
      stackTrace.split('\n').slice(0, 2).join('\n') ||
      testcase.getAttribute('name') ||
      ''
    ).trim();
    const pos = resolveFileAndLine(
      testcase.getAttribute('file') || failure?.getAttribute('file') || suite.getAttribute('file'),
      testcase.getAttribute('line') || failure?.getAttribute('line') || suite.getAttribute('line'),
      testcase.getAttribute('classname') || testcase.getAttribute('name') || '',
      stackTrace,
    );
    const failed = (failure ?? error) !== undefined && skipped === undefined;
    return { name: testcase.getAttribute('name') ?? '', path: pos.fileName, line: pos.line, message, level: failed ? 'failure' : 'notice' };
  });
}

export interface GitLabCase {
  readonly name: string;
  readonly status: 'success' | 'failed' | 'error' | 'skipped';
  /** The element text GitLab shows as the case's details. */
  readonly details?: string;
  readonly attachment?: string;
}

const ATTACHMENT_TAG = /\[\[ATTACHMENT\|(?<path>.+?)\]\]/;

/** GitLab's JUnit parser: status, details (element text) and attachment of every case. */
export function gitlabCases(xml: string): GitLabCase[] {
  return testcases(parse(xml)).map(({ testcase }) => {
    const name = testcase.getAttribute('name') ?? '';
    const failure = child(testcase, 'failure');
    const error = child(testcase, 'error');
    const skipped = child(testcase, 'skipped');
    const attachment = ATTACHMENT_TAG.exec(child(testcase, 'system-out')?.textContent ?? '')?.groups?.['path'];
    if (failure !== undefined) return { name, status: 'failed', details: failure.textContent ?? '', ...(attachment ? { attachment } : {}) };
    if (error !== undefined) return { name, status: 'error', details: error.textContent ?? '', ...(attachment ? { attachment } : {}) };
    if (skipped !== undefined) return { name, status: 'skipped', details: skipped.textContent ?? '' };
    return { name, status: 'success' };
  });
}
