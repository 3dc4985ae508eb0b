import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { ReporterContext } from '../../src/runner/reporter.js';
import type { RunResult } from '../../src/runner/results.js';
import { buildSampleRun, sampleRedactor, type SampleOptions } from '../support/sample-results.js';

export const GOLDEN_DIR = fileURLToPath(new URL('../../fixtures/golden/', import.meta.url));

/** Collects what a reporter writes, as a string. */
export class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.text += chunk.toString();
    done();
  }
}

export function captureContext(overrides: Partial<ReporterContext> = {}): ReporterContext & { stdout: Capture; stderr: Capture } {
  return {
    redactor: sampleRedactor(),
    color: false,
    cwd: process.cwd(),
    ...overrides,
    stdout: new Capture(),
    stderr: new Capture(),
  } as ReporterContext & { stdout: Capture; stderr: Capture };
}

/**
 * The sample run with the fields that differ from run to run in real life
 * (start time, run id, port) made different on every test run, so the golden
 * comparison only passes if normalise() really removes them.
 */
export function volatileSampleRun(options: SampleOptions = {}): { run: RunResult; normalise: (text: string) => string } {
  const runId = `mp-${randomBytes(4).toString('hex')}`;
  const port = 20000 + Math.floor(Math.random() * 40000);
  const startedAt = Date.now() - Math.floor(Math.random() * 1e9);
  const run = buildSampleRun({ runId, port, startedAt, ...options });
  const normalise = (text: string) => normaliseReport(text, { runId });
  return { run, normalise };
}

/** Compares with fixtures/golden/NAME; UPDATE_GOLDEN=1 rewrites the file instead. */
export async function expectGolden(name: string, actual: string): Promise<void> {
  const path = `${GOLDEN_DIR}${name}`;
  if (process.env['UPDATE_GOLDEN'] === '1') {
    await writeFile(path, actual, 'utf8');
    return;
  }
  const expected = await readFile(path, 'utf8').catch(() => undefined);
  if (expected === undefined) throw new Error(`golden file fixtures/golden/${name} is missing; run with UPDATE_GOLDEN=1 to create it`);
  expect(actual).toBe(expected);
}

/** What differs between two runs of the same report, for normaliseReport. */
export interface VolatileFields {
  /** The run's id: also part of its folder names and its X-Mailprobe-Run header. */
  readonly runId: string;
  /** Machine- or run-specific directories (temp dirs, the lab's state dir) → the placeholder shown instead. */
  readonly paths?: Readonly<Record<string, string>>;
  /**
   * A report of a real run against a real server (not the fixed sample run):
   * also normalise durations, transcript clocks, server-assigned numbers and
   * the state of the shared test mailbox outside this run (see normaliseLive).
   */
  readonly live?: boolean;
}

/**
 * The one normaliser for golden reports. Placeholders use braces, not angle
 * brackets, so the JUnit goldens stay well-formed XML.
 */
export function normaliseReport(text: string, volatile: VolatileFields): string {
  let out = text;
  // Longest first, so a temp dir inside another placeholder's dir is replaced whole.
  for (const [dir, name] of Object.entries(volatile.paths ?? {}).sort(([a], [b]) => b.length - a.length)) {
    out = out.split(dir).join(`{${name}}`);
  }
  out = out
    .split(volatile.runId)
    .join('{run-id}')
    .replace(/\b(127\.0\.0\.1|mail\.example\.test):\d+/g, '$1:{port}')
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)/g, '{timestamp}')
    // Epoch milliseconds (JSON startedAt / at fields).
    .replace(/\b1\d{12}\b/g, '{epoch-ms}');
  return volatile.live ? normaliseLive(out) : out;
}

/** A run id as newRunId makes them; after normaliseReport replaced this run's own, any left is another run's. */
const OTHER_RUN_ID = /\b\d{8}t\d{6}-[0-9a-f]{6}\b/;
/** One transcript line as formatEntry writes it, indented in the console and JUnit bodies. */
const TRANSCRIPT_LINE = /^(\s*)\+\s*\d+ms \[([^\]]+)\] (C:|S:|--) (.*)$/;
const MONTH = '(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';
/** A Date header's value: "Fri, 27 Nov 2026 09:00:49 +0000". */
const RFC5322_DATE = new RegExp(
  `\\b(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?\\d{1,2} ${MONTH} \\d{4} \\d\\d:\\d\\d(?::\\d\\d)? (?:[+-]\\d{4}|GMT|UT)(?: \\([^)]*\\))?`,
  'g',
);
/** IMAP INTERNALDATE / APPEND date: "27-Nov-2026 09:00:49 +0000". */
const IMAP_DATE = new RegExp(`\\b\\d{1,2}-${MONTH}-\\d{4} \\d\\d:\\d\\d:\\d\\d [+-]\\d{4}`, 'g');

/**
 * Real IMAP runs against the lab. Besides what changes every run (durations,
 * clocks, UIDs, UIDVALIDITY, MODSEQs, Dovecot's command timings, Message-IDs,
 * dates, literal sizes), the lab's test account is shared: other scenarios and
 * test files (and earlier runs that could not clean up) leave folders and
 * messages in it. What a transcript shows of them is not this run's doing, so:
 * server lines naming another run's folders are dropped; in a mailbox outside
 * this run (the cleanup looks through INBOX, Sent, Drafts, …) message counts,
 * UNSEEN, HIGHESTMODSEQ and unsolicited updates are dropped (a fresh account
 * has no HIGHESTMODSEQ yet), LIST's \Marked / \UnMarked (new mail since the
 * last look) is removed, and LIST replies are sorted by mailbox name (Dovecot
 * answers in index order, which differs between a fresh account and a used
 * one). This run's own folders keep all their untagged data.
 */
function normaliseLive(text: string): string {
  /** Per transcript session: is the selected mailbox outside this run? */
  const outside = new Map<string, boolean>();
  const kept: string[] = [];
  /** Consecutive LIST / LSUB replies of one session, sorted by mailbox name when the run of them ends. */
  let listed: Array<{ line: string; name: string }> = [];
  let listedSession = '';
  const flushListed = () => {
    kept.push(...listed.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((l) => l.line));
    listed = [];
  };
  for (const line of text.split('\n')) {
    const m = TRANSCRIPT_LINE.exec(line);
    const [, , session = '', arrow, body = ''] = m ?? [];
    if (m && arrow === 'C:') {
      const select = /^\S+ (?:SELECT|EXAMINE) (.*)$/i.exec(body);
      if (select) outside.set(session, !(select[1] ?? '').includes('{run-id}'));
      else if (/^\S+ (?:CLOSE|UNSELECT|LOGOUT)\b/i.test(body)) outside.delete(session);
    }
    if (m && arrow === 'S:') {
      if (OTHER_RUN_ID.test(body)) continue;
      if (outside.get(session) === true && /^\* (?:\d+ (?:EXISTS|RECENT|EXPUNGE|FETCH)\b|VANISHED\b|OK \[(?:UNSEEN|HIGHESTMODSEQ|NOMODSEQ)\b)/i.test(body))
        continue;
      const list = /^\* (?:LIST|LSUB) \([^)]*\) (.*)$/i.exec(body);
      if (list) {
        if (session !== listedSession) flushListed();
        listedSession = session;
        // Dovecot lists in its index order, which differs between a fresh account and a used one.
        listed.push({ line: body.includes('{run-id}') ? line : line.replace(/ \\(?:Un)?Marked\b/gi, ''), name: list[1] ?? '' });
        continue;
      }
    }
    flushListed();
    kept.push(line);
  }
  flushListed();
  return (
    kept
      .join('\n')
      // Transcript clocks, relative to the scenario start: "+   12ms".
      .replace(/\+\s*\d+ms \[/g, '+{ms} [')
      // Console: the duration ending a scenario's progress line, and the run's wall time.
      .replace(/^([✓✗!↓?] .*? {2})(?:\d+ms|\d+\.\d\ds)(?=$| {2})/gmu, '$1{duration}')
      .replace(/ in (?:\d+ms|\d+\.\d\ds)$/gm, ' in {duration}')
      // JUnit: time="0.252" on <testsuites>, <testsuite>, <testcase>.
      .replace(/\btime="\d+(?:\.\d+)?"/g, 'time="{seconds}"')
      // Dovecot's command timings: "(0.001 + 0.000 secs)", "(0.003 + 0.000 + 0.002 secs)".
      .replace(/\(\d+\.\d+(?: \+ \d+\.\d+)* secs\)/g, '({secs} secs)')
      // Server-assigned numbers.
      .replace(/\[UIDVALIDITY \d+\]/gi, '[UIDVALIDITY {uidvalidity}]')
      .replace(/\[UIDNEXT \d+\]/gi, '[UIDNEXT {uidnext}]')
      .replace(/\[HIGHESTMODSEQ \d+\]/gi, '[HIGHESTMODSEQ {modseq}]')
      .replace(/\[APPENDUID \d+ [\d:,]+\]/gi, '[APPENDUID {uidvalidity} {uid}]')
      .replace(/\[COPYUID \d+ [\d:,]+ [\d:,]+\]/gi, '[COPYUID {uidvalidity} {uids} {uids}]')
      .replace(/\b((?:UN)?CHANGEDSINCE|MODSEQ) \(?\d+\)?/gi, (_all, word: string) =>
        word.toUpperCase() === 'MODSEQ' ? `${word} ({modseq})` : `${word} {modseq}`,
      )
      .replace(/\bUID (FETCH|STORE|COPY|MOVE|EXPUNGE) [\d:,*]+/gi, 'UID $1 {uids}')
      .replace(/\bUID \d+\b/g, 'UID {uid}')
      .replace(/^(.*\bS: \* (?:SEARCH|SORT))(?: \d+)+/gim, '$1 {uids}')
      .replace(/\bRFC822\.SIZE \d+/gi, 'RFC822.SIZE {size}')
      // Literal sizes (the message holds a Date header and a Message-ID): "(* 414B literal *)", "{414}".
      .replace(/\(\* \d+B literal \*\)/g, '(* {n}B literal *)')
      .replace(/\{\d+\+?\}$/gm, '{{n}}')
      // Message-IDs (raw, or XML-escaped in JUnit text), Date headers and IMAP INTERNALDATE.
      .replace(/(<|&lt;)[^\s<>&]+@[^\s<>&]+(>|&gt;)/g, '$1{message-id}$2')
      .replace(RFC5322_DATE, '{date}')
      .replace(IMAP_DATE, '{internaldate}')
      // Ports of the lab's and the proxy's endpoints on the second loopback address.
      .replace(/\b(127\.0\.0\.2|localhost):\d+/g, '$1:{port}')
  );
}
