import { describe, expect, it } from 'vitest';
import { JsonReporter, renderJson } from '../../src/reporters/json.js';
import { redactRun } from '../../src/reporters/redact-result.js';
import { buildSampleRun, sampleRedactor } from '../support/sample-results.js';
import { captureContext, expectGolden, volatileSampleRun } from './support.js';

describe('JSON reporter', () => {
  it('matches the golden output', async () => {
    const { run, normalise } = volatileSampleRun();
    await expectGolden('report.json', normalise(renderJson(redactRun(run, sampleRedactor()))));
  });

  it('writes the whole run with schemaVersion and counts, keeping every verdict as it is', async () => {
    const ctx = captureContext();
    await new JsonReporter(ctx).onRunEnd(buildSampleRun());
    const report = JSON.parse(ctx.stdout.text);
    expect(report.schemaVersion).toBe(1);
    expect(report.counts).toEqual({ total: 5, passed: 1, failed: 1, errored: 1, skipped: 1, inconclusive: 1 });
    expect(report.scenarios.map((s: { state: string }) => s.state)).toEqual(['passed', 'failed', 'errored', 'skipped', 'inconclusive']);
    expect(report.target).toEqual({ name: 'staging-pop', host: 'mail.example.test', file: 'targets/staging.yaml', insecure: true });
    expect(report.scenarios[1].failure.rfc).toMatch(/^RFC 1939 §6 DELE/);
    // The most server bytes held at once during the run (src/transport/limits.ts), at the top level.
    expect(report.peakBufferedBytes).toBe(70_123);
    // Pretty-printed, one value per line.
    expect(ctx.stdout.text).toContain('\n  "schemaVersion": 1,\n');
  });

  it('keeps the structure of the model: only strings change under redaction', () => {
    const run = buildSampleRun();
    const report = JSON.parse(renderJson(redactRun(run, sampleRedactor())));
    const shape = (v: unknown): unknown =>
      typeof v === 'string'
        ? 'string'
        : Array.isArray(v)
          ? v.map(shape)
          : v !== null && typeof v === 'object'
            ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shape(x)]))
            : v;
    const { schemaVersion, counts, ...rest } = report;
    expect(schemaVersion).toBe(1);
    expect(counts.total).toBe(5);
    expect(shape(rest)).toEqual(shape(JSON.parse(JSON.stringify(run))));
  });

  it('writes bidirectional overrides as \\u escapes, so the file is safe to cat and still means the same', () => {
    const run = buildSampleRun();
    const text = renderJson(redactRun(run, sampleRedactor()));
    expect(text).not.toMatch(/[\u202a-\u202e\u2066-\u2069]/);
    expect(text).toContain('\\u202egpj.exe');
    expect(JSON.stringify(JSON.parse(text))).toContain('\u202egpj.exe');
  });
});
