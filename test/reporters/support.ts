import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { ReporterContext } from '../../src/reporters/reporter.js';
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
  // Placeholders use braces, not angle brackets, so the JUnit goldens stay well-formed XML.
  const normalise = (text: string) =>
    text
      .split(runId)
      .join('{run-id}')
      .replace(/\b(127\.0\.0\.1|mail\.example\.test):\d+/g, '$1:{port}')
      .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)/g, '{timestamp}')
      // Epoch milliseconds (JSON startedAt / at fields).
      .replace(/\b1\d{12}\b/g, '{epoch-ms}');
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
