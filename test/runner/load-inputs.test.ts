import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';

// Every read of a user file goes through readInputBytes: counting its calls per path shows how often a file is read.
const reads = vi.hoisted(() => [] as Array<{ file: string; kind: string }>);
vi.mock('../../src/input/input-file.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/input/input-file.js')>();
  return {
    ...real,
    readInputBytes: (file: string, kind: Parameters<typeof real.readInputBytes>[1]) => {
      reads.push({ file, kind });
      return real.readInputBytes(file, kind);
    },
    readInputText: async (file: string, kind: Parameters<typeof real.readInputText>[1]) => {
      reads.push({ file, kind });
      return real.decodeInputText(await real.readInputBytes(file, kind), kind);
    },
  };
});

const { loadScenarios, loadTarget, loadRunInputs, scenarioFilter } = await import('../../src/runner/load-inputs.js');

async function tempFile(name: string, text: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'mailprobe-load-'));
  const file = path.join(dir, name);
  await writeFile(file, text);
  return file;
}

describe('loading the inputs of a run', () => {
  beforeEach(() => {
    reads.length = 0;
  });

  it('reads a scenario file that fails to load once, and frames its problem from that text', async () => {
    const file = await tempFile('broken.yaml', 'name: broken\nsteps:\n  - action: no.such.action\n');
    const { problems } = await loadScenarios([file]);
    expect(problems.join('\n')).toContain("broken.yaml:3:13: unknown action 'no.such.action'");
    expect(problems.join('\n')).toContain('> 3 |   - action: no.such.action');
    expect(reads.filter((r) => r.file === file)).toEqual([{ file, kind: 'scenario' }]);
  });

  it('reads a target file that fails to load once, as a target (its own size limit), and frames it', async () => {
    const file = await tempFile('target.yaml', 'name: t\nhost: 127.0.0.1\nendpoints: {}\naccounts: {}\nbogus: 1\n');
    const { problems } = await loadTarget(file);
    expect(problems.join('\n')).toMatch(/target\.yaml:5:1: .*bogus/);
    expect(problems.join('\n')).toContain('> 5 | bogus: 1');
    expect(reads.filter((r) => r.file === file)).toEqual([{ file, kind: 'target' }]);
  });

  it('a target file between the target and the scenario size limits is refused as too large, not framed as a scenario', async () => {
    const file = await tempFile('big-target.yaml', `name: t\n# ${'x'.repeat(300 * 1024)}\n`);
    const { problems } = await loadTarget(file);
    expect(problems.join('\n')).toMatch(/target file too large: the limit is 256 KiB/);
    expect(reads.filter((r) => r.file === file).map((r) => r.kind)).toEqual(['target']);
  });
});

describe('--grep', () => {
  it('matches name, id and tags, case-insensitively, and says when nothing matches', async () => {
    const target = path.resolve('fixtures/scenarios/targets/good/lab.yaml');
    const suites = path.resolve('suites/pop3');
    const kept = await loadRunInputs(target, [suites], scenarioFilter('SIZES-agree'));
    expect(kept.problems).toEqual([]);
    expect(kept.scenarios?.map((s) => s.id)).toEqual(['pop3/sizes-agree']);
    const none = await loadRunInputs(target, [suites], scenarioFilter('a/b(x)?'));
    expect(none.problems).toEqual(['--grep a/b(x)? matches no scenario']);
  });

  it('a pattern that does not compile is refused with the engine reason', () => {
    expect(() => scenarioFilter('(')).toThrow(/^not a valid regular expression: .*Unterminated group/);
  });
});

describe('the good scenario fixtures', () => {
  // They are the loader's examples and users copy them: they must pass the real validator too, not only the test registry.
  it('load against the real action registry with no problem', async () => {
    const { problems, value } = await loadScenarios([path.join(import.meta.dirname, '../../fixtures/scenarios/good')]);
    expect(problems).toEqual([]);
    expect(value?.map((s) => s.id)).toEqual(['pop3-retrieve-delete']);
  });
});
