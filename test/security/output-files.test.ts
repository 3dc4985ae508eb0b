import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, describeRun, filesUnder, REPO_ROOT, startCli, tempDir, waitUntil, type CliResult } from '../support/cli.js';
import { startFakeHostTarget, type FakeHostTarget } from '../support/fake-host-target.js';
import { parseOutputMode } from '../../src/transport/private-files.js';

/**
 * Reports and saved message copies hold users' mail. They are written 0600 in
 * folders made 0700, whatever the umask, unless --report-mode asks for a
 * group-readable 0640 (folders 0750) for a CI reader. And a report or
 * --out-dir that cannot be created (under /proc, where recursive mkdir once
 * spun forever) is an error at once, not a hang.
 */

const SCENARIO = join(REPO_ROOT, 'suites', 'pop3', 'retrieve-then-delete.yaml');
const REPORTERS = ['json', 'junit', 'junit-strict', 'tap'] as const;

/** Runs the built CLI under `umask` (through sh, the only portable way to set it for a child). */
function runUnderUmask(umask: string, args: readonly string[], env: Record<string, string>, timeoutMs = 60_000): Promise<CliResult & { timedOut: boolean }> {
  const child = spawn('/bin/sh', ['-c', `umask ${umask} && exec "$0" "$@"`, process.execPath, CLI, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  let timedOut = false;
  // An upper bound only: a run that spins is killed, and the test says so.
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

async function modeOf(path: string): Promise<string> {
  return ((await stat(path)).mode & 0o777).toString(8).padStart(4, '0');
}

describe('reports and saved messages are private files', () => {
  let fake: FakeHostTarget;
  beforeAll(async () => {
    fake = await startFakeHostTarget('mailprobe-modes-');
  });
  afterAll(async () => {
    await fake?.host.close();
  });

  async function runAndCollect(umask: string, extra: readonly string[] = []): Promise<{ result: CliResult; files: string[]; dirs: string[]; base: string }> {
    const base = await tempDir(`modes-${umask}`);
    // Everything below `out` is created by the run, so every folder there is mailprobe's.
    const out = join(base, 'out');
    const args = [
      'run',
      SCENARIO,
      '--target',
      fake.targetFile,
      '--out-dir',
      join(out, 'saved'),
      ...REPORTERS.flatMap((r) => ['--reporter', `${r}=${join(out, 'reports', r)}`]),
      ...extra,
    ];
    const result = await runUnderUmask(umask, args, fake.env);
    const files = await filesUnder(out);
    const dirs = [...new Set(files.flatMap((f) => ancestorsBelow(out, f)))];
    return { result, files, dirs, base: out };
  }

  function ancestorsBelow(root: string, file: string): string[] {
    const out: string[] = [];
    for (let dir = join(file, '..'); relative(root, dir) !== '' && !relative(root, dir).startsWith('..'); dir = join(dir, '..')) out.push(dir);
    return [...out, root];
  }

  for (const umask of ['000', '022']) {
    it(`writes every report and message copy 0600, in folders 0700, under umask ${umask}`, { timeout: 90_000 }, async () => {
      const { result, files, dirs, base } = await runAndCollect(umask);
      expect(result.code, describeRun(result)).toBe(0);
      // The four reports and at least one saved message copy.
      expect(files.filter((f) => f.includes(join(base, 'reports'))).length, files.join('\n')).toBe(REPORTERS.length);
      expect(files.filter((f) => f.endsWith('.eml')).length, files.join('\n')).toBeGreaterThan(0);
      const modes = await Promise.all(files.map(async (f) => `${relative(base, f)} ${await modeOf(f)}`));
      expect(modes).toEqual(files.map((f) => `${relative(base, f)} 0600`));
      const dirModes = await Promise.all(dirs.map(async (d) => `${relative(base, d) || '.'} ${await modeOf(d)}`));
      expect(dirModes).toEqual(dirs.map((d) => `${relative(base, d) || '.'} 0700`));
    });
  }

  it('--report-mode 0640 makes them group-readable (folders 0750), whatever the umask', { timeout: 90_000 }, async () => {
    const { result, files, dirs, base } = await runAndCollect('077', ['--report-mode', '0640']);
    expect(result.code, describeRun(result)).toBe(0);
    expect(files.length).toBeGreaterThan(REPORTERS.length);
    for (const f of files) expect(`${relative(base, f)} ${await modeOf(f)}`).toBe(`${relative(base, f)} 0640`);
    for (const d of dirs) expect(`${relative(base, d)} ${await modeOf(d)}`).toBe(`${relative(base, d)} 0750`);
  });

  for (const bad of ['0644x', '0700', '0400', '0666', '0620', '10640', 'rw-r-----', '']) {
    it(`--report-mode ${JSON.stringify(bad)} is a usage error, before anything connects`, async () => {
      // Refused while the options are parsed, before the run starts: nothing can have connected.
      const result = await runUnderUmask('022', ['run', SCENARIO, '--target', fake.targetFile, '--report-mode', bad], fake.env);
      expect(result.code, describeRun(result)).toBe(2);
      expect(result.stderr).toMatch(/--report-mode/);
      expect(result.stderr).not.toMatch(/PASS|scenario/i);
    });
  }
});

describe('--report-mode values', () => {
  it('folders get a search bit wherever files are readable; group and others never write', () => {
    expect(parseOutputMode('0600')).toEqual({ file: 0o600, dir: 0o700 });
    expect(parseOutputMode('640')).toEqual({ file: 0o640, dir: 0o750 });
    expect(parseOutputMode('0644')).toEqual({ file: 0o644, dir: 0o755 });
    for (const bad of ['0660', '0602', '0700', '0400', '0200', '1640', '0o640', '64']) expect(() => parseOutputMode(bad), bad).toThrow();
  });
});

describe('output that cannot be created is an error at once', () => {
  let fake: FakeHostTarget;
  beforeAll(async () => {
    fake = await startFakeHostTarget('mailprobe-proc-');
  });
  afterAll(async () => {
    await fake?.host.close();
  });

  // Far above the few seconds such a run takes; the bug was a run that never ended.
  const BOUND_MS = 45_000;

  it('a report under /proc ends with exit 3 and says the report could not be written', { timeout: BOUND_MS + 15_000 }, async () => {
    const result = await runUnderUmask(
      '022',
      ['run', SCENARIO, '--target', fake.targetFile, '--reporter', `json=/proc/mailprobe-no-such/${process.pid}/report.json`],
      fake.env,
      BOUND_MS,
    );
    expect(result.timedOut, describeRun(result)).toBe(false);
    expect(result.code, describeRun(result)).toBe(3);
    expect(result.stderr).toMatch(/reporter "json": the report could not be written: cannot create folder \/proc\/mailprobe-no-such: ENOENT/);
  });

  it('SIGTERM mid-run with a report under /proc ends the run: exit 130, the report named as unwritten', { timeout: BOUND_MS + 15_000 }, async () => {
    // STAT is never answered, so the run is in a step when the signal comes; the reports are
    // written after the interrupt, which is where the old recursive mkdir spun.
    let stalled = false;
    fake.host.pop3Overrides.STAT = () => {
      stalled = true;
      return true;
    };
    try {
      const run = startCli(['run', SCENARIO, '--target', fake.targetFile, '--reporter', `json=/proc/mailprobe-no-such/${process.pid}/report.json`], {
        env: fake.env,
      });
      await waitUntil(() => stalled, 'the run reached STAT');
      const timer = setTimeout(() => run.child.kill('SIGKILL'), BOUND_MS);
      run.child.kill('SIGTERM');
      const result = await run.done;
      clearTimeout(timer);
      expect(result.signal, describeRun(result)).toBe(null);
      expect(result.code, describeRun(result)).toBe(130);
      expect(result.stderr).toMatch(/reporter "json": the report could not be written: cannot create folder \/proc\/mailprobe-no-such/);
    } finally {
      delete fake.host.pop3Overrides.STAT;
    }
  });

  it('an --out-dir under /proc errors the step that saves a copy, and the run ends', { timeout: BOUND_MS + 15_000 }, async () => {
    const result = await runUnderUmask(
      '022',
      ['run', SCENARIO, '--target', fake.targetFile, '--out-dir', `/proc/mailprobe-no-such/${process.pid}`],
      fake.env,
      BOUND_MS,
    );
    expect(result.timedOut, describeRun(result)).toBe(false);
    expect(result.code, describeRun(result)).toBe(3);
    expect(result.stderr).toMatch(/\/proc\/mailprobe-no-such/);
  });
});

describe('a lab folder that cannot be created', () => {
  it('ends `lab up` at once with exit 3 and the reason, before anything starts', { timeout: 60_000 }, async () => {
    const result = await runUnderUmask('022', ['lab', 'up'], { MAILPROBE_LAB_DIR: `/proc/mailprobe-no-such-lab/${process.pid}` }, 45_000);
    expect(result.timedOut, describeRun(result)).toBe(false);
    expect(result.code, describeRun(result)).toBe(3);
    expect(result.stderr).toMatch(/^mailprobe lab up: cannot create folder \/proc\/mailprobe-no-such-lab: ENOENT$/m);
    expect(result.stderr).not.toContain('internal error');
  });
});
