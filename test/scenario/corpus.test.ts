import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LoadError } from '../../src/core/diagnostics.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { testActions } from './test-actions.js';

/**
 * Each fixtures/scenarios/bad/NAME.yaml has a sidecar NAME.expected: a
 * `# CODE` line, then one `line:col: reason` per diagnostic, in order.
 */
const dir = path.resolve('fixtures/scenarios/bad');
const cases = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

function readExpected(file: string): { code: string; lines: string[] } {
  const [head = '', ...rest] = readFileSync(file, 'utf8').trimEnd().split('\n');
  return { code: head.replace(/^#\s*/, ''), lines: rest };
}

describe('bad scenario corpus', () => {
  it('has at least 15 cases, each with a sidecar', () => {
    expect(cases.length).toBeGreaterThanOrEqual(15);
    for (const c of cases) expect(readdirSync(dir)).toContain(c.replace(/\.yaml$/, '.expected'));
  });

  it.each(cases)('%s', async (name) => {
    const file = path.join(dir, name);
    const expected = readExpected(file.replace(/\.yaml$/, '.expected'));
    const err = await loadScenarioFile(file, { root: path.resolve('fixtures/scenarios'), actions: testActions }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(LoadError);
    const loadError = err as LoadError;
    expect(loadError.code).toBe(expected.code);
    expect(loadError.diagnostics.map((d) => `${d.pos.line}:${d.pos.col}: ${d.message}`)).toEqual(expected.lines);
    for (const d of loadError.diagnostics) expect(d.pos.file).toBe(file);
  });
});
