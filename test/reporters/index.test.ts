import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createReporter, parseReporterSpec, ReporterSpecError } from '../../src/reporters/index.js';
import { buildSampleRun } from '../support/sample-results.js';
import { captureContext } from './support.js';

function specError(spec: string): ReporterSpecError {
  try {
    parseReporterSpec(spec);
  } catch (error) {
    expect(error).toBeInstanceOf(ReporterSpecError);
    return error as ReporterSpecError;
  }
  throw new Error(`parseReporterSpec(${JSON.stringify(spec)}) did not throw`);
}

describe('parseReporterSpec', () => {
  it('reads NAME and NAME=FILE', () => {
    expect(parseReporterSpec('junit=reports/junit.xml')).toEqual({ name: 'junit', file: 'reports/junit.xml' });
    expect(parseReporterSpec('tap')).toEqual({ name: 'tap' });
    expect(parseReporterSpec('junit-strict=out/a=b.xml')).toEqual({ name: 'junit-strict', file: 'out/a=b.xml' });
  });

  it('rejects an unknown name with EREPORTER_SPEC, listing the known ones', () => {
    const error = specError('junitt=x.xml');
    expect(error.code).toBe('EREPORTER_SPEC');
    expect(error.message).toBe('unknown reporter "junitt"; known reporters: console, junit, junit-strict, tap, json, html');
  });

  it('rejects an empty name, an empty file and a file for console', () => {
    expect(specError('=x.xml').message).toContain('has no name');
    expect(specError('json=').message).toContain('empty file name');
    expect(specError('console=out.txt').message).toContain('takes no file');
  });
});

describe('createReporter', () => {
  it('file reporters create parent folders and write their file in onRunEnd, relative to cwd', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mailprobe-reporters-'));
    const ctx = captureContext({ cwd: dir });
    for (const spec of ['json=a/b/run.json', 'tap=a/c/run.tap', 'junit=x/junit.xml']) {
      const reporter = createReporter(spec, ctx);
      await reporter.onRunEnd?.(buildSampleRun());
    }
    expect(JSON.parse(readFileSync(join(dir, 'a/b/run.json'), 'utf8')).schemaVersion).toBe(1);
    expect(readFileSync(join(dir, 'a/c/run.tap'), 'utf8')).toMatch(/^TAP version 14\n/);
    expect(readFileSync(join(dir, 'x/junit.xml'), 'utf8')).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites/);
    expect(ctx.stdout.text).toBe('');
  });

  it('without a file, tap, json and junit write to stdout and console writes to stderr', async () => {
    for (const [name, start] of [
      ['tap', 'TAP version 14'],
      ['json', '{'],
      ['junit', '<?xml'],
      ['junit-strict', '<?xml'],
    ] as const) {
      const ctx = captureContext();
      await createReporter(name, ctx).onRunEnd?.(buildSampleRun());
      expect(ctx.stdout.text.startsWith(start), name).toBe(true);
    }
    const ctx = captureContext();
    const console = createReporter({ name: 'console' }, ctx);
    await console.onRunEnd?.(buildSampleRun());
    expect(ctx.stdout.text).toBe('');
    expect(ctx.stderr.text).toContain('1 passed, 1 failed');
  });

  it('names reporters after their spec', () => {
    const ctx = captureContext();
    expect(['console', 'junit', 'junit-strict', 'tap', 'json', 'html=r.html'].map((n) => createReporter(n, ctx).name)).toEqual([
      'console',
      'junit',
      'junit-strict',
      'tap',
      'json',
      'html',
    ]);
  });
});
