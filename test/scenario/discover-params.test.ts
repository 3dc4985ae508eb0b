import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closest, editDistance } from '../../src/core/did-you-mean.js';
import { discoverScenarioFiles } from '../../src/scenario/discover.js';
import { LoadError } from '../../src/core/diagnostics.js';
import { formatDiagnostic } from '../../src/input/errors.js';
import { interpolate } from '../../src/interpolate/interpolate.js';
import { loadScenarioSource, scenarioId } from '../../src/scenario/load.js';
import { parseOutputPath } from '../../src/scenario/model.js';
import { validateParams } from '../../src/scenario/params.js';
import { testActions } from './test-actions.js';

describe('discoverScenarioFiles', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'mailprobe-discover-'));
    for (const f of ['b/z.yaml', 'b/a.yml', 'a.yaml', '_draft.yaml', 'b/_partial.yaml', '_skip/x.yaml', 'notes.txt', 'c/d/e.YAML']) {
      await mkdir(path.dirname(path.join(dir, f)), { recursive: true });
      await writeFile(path.join(dir, f), 'name: x\n');
    }
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('walks folders in sorted order, skipping _ names and non-YAML files', async () => {
    const found = await discoverScenarioFiles([dir]);
    expect(found.map((f) => path.relative(dir, f).split(path.sep).join('/'))).toEqual(['a.yaml', 'b/a.yml', 'b/z.yaml', 'c/d/e.YAML']);
  });

  it('takes named files as given, once', async () => {
    const named = path.join(dir, '_draft.yaml');
    expect(await discoverScenarioFiles([named, dir, named])).toHaveLength(5);
  });

  it('reports every missing path with a clear message', async () => {
    const err = await discoverScenarioFiles([path.join(dir, 'nope'), dir, 'also-missing.yaml']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LoadError);
    expect((err as LoadError).code).toBe('EPATH_NOT_FOUND');
    expect((err as LoadError).diagnostics.map((d) => d.message)).toEqual(['no such file or folder', 'no such file or folder']);
  });

  it('names what a walked *.yaml entry that is no regular file is, in the words the reader uses', async () => {
    const odd = await mkdtemp(path.join(os.tmpdir(), 'mailprobe-discover-odd-'));
    execFileSync('mkfifo', [path.join(odd, 'fifo.yaml')]);
    await symlink('nowhere.yaml', path.join(odd, 'gone.yaml'));
    await mkdir(path.join(odd, 'real'));
    await symlink('real', path.join(odd, 'folder-link.yaml'));
    const err = await discoverScenarioFiles([odd]).catch((e: unknown) => e);
    expect((err as LoadError).diagnostics.map((d) => `${path.basename(d.pos.file)}: ${d.message}`)).toEqual([
      'fifo.yaml: is a FIFO (named pipe), not a regular file; a scenario file must be a regular file',
      'folder-link.yaml: is a folder, not a regular file; a scenario file must be a regular file',
      'gone.yaml: symbolic link to nothing (its target does not exist)',
    ]);
    await rm(odd, { recursive: true, force: true });
  });

  it('derives ids relative to the root', () => {
    expect(scenarioId(path.join('suites', 'pop3', 'rset.yaml'), 'suites')).toBe('pop3/rset');
  });
});

describe('run-time param validation', () => {
  const text = ['name: n', 'vars: { n: "soon" }', 'steps:', '  - action: sleep', '    with: { ms: "${vars.n}" }'].join('\n');
  const scenario = loadScenarioSource(text, 's.yaml', { root: '.', actions: testActions });
  const step = scenario.steps[0]!;
  const scopes = {
    run: { id: 'r', prefix: 'p', started: 't' },
    vars: { n: 'soon' },
    env: {},
    captures: {},
    accounts: {},
    target: { host: 'h', name: 't' },
  };
  const posOf = (p: readonly (string | number)[]) => scenario.positions.posOf(p);

  it('positions a type error from an interpolated value at the template', () => {
    const params = interpolate(step.with, scopes, posOf, [...step.path, 'with']);
    const result = validateParams(testActions.sleep!.params, params, scenario.positions, [...step.path, 'with']);
    expect(result).toEqual({ ok: false, diagnostics: [{ pos: { file: 's.yaml', line: 5, col: 17 }, message: 'expected a number, got a string' }] });
  });

  it('returns parsed params with defaults applied', () => {
    const params = interpolate(step.with, { ...scopes, vars: { n: 250 } }, posOf, [...step.path, 'with']);
    expect(validateParams(testActions.sleep!.params, params, scenario.positions, [...step.path, 'with'])).toEqual({ ok: true, data: { ms: 250 } });
    const send = validateParams(testActions['smtp.send']!.params, { account: 'a', to: ['x@y'] }, scenario.positions, []);
    expect(send).toEqual({ ok: true, data: { account: 'a', to: ['x@y'], subject: 'mailprobe test' } });
  });
});

describe('helpers', () => {
  it('edit distance counts swaps as one edit', () => {
    expect(editDistance('mgs', 'msg')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(closest('pop3.retrr', ['pop3.retr', 'pop3.rset'])).toBe('pop3.retr');
    expect(closest('zzz', ['pop3.retr'])).toBeUndefined();
  });

  it('formatDiagnostic without source is one line', () => {
    expect(formatDiagnostic({ pos: { file: 'a.yaml', line: 2, col: 5 }, message: 'boom' })).toBe('a.yaml:2:5: boom');
  });

  it('parseOutputPath splits on dots and types indexes', () => {
    expect(parseOutputPath('$')).toEqual([]);
    expect(parseOutputPath('messages.0.size')).toEqual(['messages', 0, 'size']);
  });
});
