import { copyFile, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeMailHost } from '../../fixtures/servers/fake-mail-host.js';
import {
  type CliResult,
  describeRun,
  POP3_SUITE,
  runCli,
  startCli,
  startCountingServer,
  startFakeHostWithTarget,
  tempDir,
  waitUntil,
  writeCountingTarget,
} from '../support/cli.js';

/**
 * `run --target a --target b`: each target in turn, each with its own run id
 * and report files, the exit code the worst of them, and the matrix at the
 * end. Two in-process hosts: one keeps RSET's promise, one ignores RSET.
 */
const ACCOUNTS = { alice: { password: 'alice-Multi-pw-1', address: 'alice@fake.test' }, bob: { password: 'bob-Multi-pw-2', address: 'bob@fake.test' } };

interface MatrixJson {
  columns: Array<{ label: string; runId: string; interrupted: boolean }>;
  rows: Array<{ id: string; cells: Array<{ state: string; note?: string }> }>;
}

describe('mailprobe run with several targets', () => {
  let good: FakeMailHost;
  let broken: FakeMailHost;
  let dir = '';
  let goodTarget = '';
  let brokenTarget = '';
  let env: Record<string, string> = {};

  beforeAll(async () => {
    const a = await startFakeHostWithTarget({ accounts: ACCOUNTS });
    const b = await startFakeHostWithTarget({ accounts: ACCOUNTS, faults: { ignoreRset: true } });
    good = a.host;
    broken = b.host;
    dir = await tempDir('multi');
    goodTarget = join(dir, 'good.yaml');
    brokenTarget = join(dir, 'target-broken.yaml');
    await copyFile(a.targetFile, goodTarget);
    await copyFile(b.targetFile, brokenTarget);
    env = { ...a.env, ...b.env };
  });
  afterAll(async () => {
    await good?.close();
    await broken?.close();
  });

  describe('two targets, one of which ignores RSET', () => {
    let r: CliResult;
    let out = '';
    beforeAll(async () => {
      out = await tempDir('multi-out');
      r = await runCli(
        [
          'run',
          POP3_SUITE,
          '--target',
          goodTarget,
          '--target',
          brokenTarget,
          '--out-dir',
          out,
          '--reporter',
          `junit=${join(out, 'junit.xml')}`,
          '--reporter',
          `json=${join(out, '{target}', 'run.json')}`,
          '--reporter',
          `matrix-json=${join(out, 'matrix.json')}`,
          '--reporter',
          `matrix-md=${join(out, 'matrix.md')}`,
        ],
        { env },
      );
    }, 120_000);

    it('exits 1, since one target broke a promise, and runs both, each under its own heading', () => {
      expect(r.code, describeRun(r)).toBe(1);
      expect(r.stderr).toContain(`=== target good: ${goodTarget}`);
      expect(r.stderr).toContain(`=== target broken: ${brokenTarget}`);
      expect(r.stderr.indexOf('=== target good')).toBeLessThan(r.stderr.indexOf('=== target broken'));
    });

    it('writes each file reporter once per target, named after it', async () => {
      const files = (await readdir(out)).sort();
      expect(files).toEqual(expect.arrayContaining(['junit-good.xml', 'junit-broken.xml', 'good', 'broken', 'matrix.json', 'matrix.md']));
      expect(files).not.toContain('junit.xml');
      const goodJunit = await readFile(join(out, 'junit-good.xml'), 'utf8');
      const brokenJunit = await readFile(join(out, 'junit-broken.xml'), 'utf8');
      expect(goodJunit).not.toContain('<failure');
      expect(brokenJunit.match(/<failure /g)?.length).toBe(1);
      const goodRun = JSON.parse(await readFile(join(out, 'good', 'run.json'), 'utf8')) as { runId: string; scenarios: Array<{ id: string; state: string }> };
      const brokenRun = JSON.parse(await readFile(join(out, 'broken', 'run.json'), 'utf8')) as typeof goodRun;
      expect(goodRun.runId).not.toBe(brokenRun.runId);
      expect(brokenRun.scenarios.find((s) => s.id === 'pop3/rset')?.state).toBe('failed');
      expect(goodRun.scenarios.every((s) => s.state === 'passed')).toBe(true);
    });

    it('ends with the matrix: scenario × target, in the console and in each matrix file', async () => {
      const matrix = JSON.parse(await readFile(join(out, 'matrix.json'), 'utf8')) as MatrixJson;
      expect(matrix.columns.map((c) => c.label)).toEqual(['good', 'broken']);
      const rset = matrix.rows.find((row) => row.id === 'pop3/rset');
      expect(rset?.cells.map((c) => c.state)).toEqual(['passed', 'failed']);
      expect(rset?.cells[1]?.note).toMatch(/RFC 1939/);
      expect(matrix.rows.filter((row) => row.id !== 'pop3/rset').every((row) => row.cells.every((c) => c.state === 'passed'))).toBe(true);
      const md = await readFile(join(out, 'matrix.md'), 'utf8');
      expect(md).toMatch(/\|[^|\n]*pop3\/rset[^|\n]*\|[^|\n]*passed[^|\n]*\|[^|\n]*failed/);
      // The console's matrix comes after both runs.
      const tail = r.stderr.slice(r.stderr.indexOf('=== target broken'));
      expect(tail).toMatch(/good.*broken/);
      expect(tail).toMatch(/pop3\/rset.*passed.*failed/);
    });

    it('keeps the saved copies of each target apart', async () => {
      expect((await readdir(join(out, 'messages'))).sort()).toEqual(['broken', 'good']);
    });
  });

  it('--dry-run lists each target under its heading and connects nowhere', async () => {
    const counting = await startCountingServer();
    try {
      const a = await writeCountingTarget(join(dir, 'a.yaml'), counting.port);
      const b = await writeCountingTarget(join(dir, 'b.yaml'), counting.port);
      const r = await runCli(['run', POP3_SUITE, '--target', a, '--target', b, '--dry-run'], { env });
      expect(r.code, describeRun(r)).toBe(0);
      expect(r.stdout).toContain(`== target a: ${a}`);
      expect(r.stdout).toContain(`== target b: ${b}`);
      expect(counting.connections()).toBe(0);
    } finally {
      await counting.close();
    }
  });

  describe('usage errors: exit 2, with nothing connected to', () => {
    let counting: Awaited<ReturnType<typeof startCountingServer>>;
    let first = '';
    beforeAll(async () => {
      counting = await startCountingServer();
      first = await writeCountingTarget(join(dir, 'counting.yaml'), counting.port);
    });
    afterAll(async () => {
      await counting?.close();
    });

    const refuse = async (args: readonly string[], reason: RegExp, extraEnv: Record<string, string> = {}) => {
      const r = await runCli(['run', POP3_SUITE, ...args], { env: { ...env, ...extraEnv } });
      expect(r.code, describeRun(r)).toBe(2);
      expect(r.stderr).toMatch(reason);
      expect(counting.connections()).toBe(0);
    };

    it('a report on stdout with several targets', async () => {
      await refuse(['--target', first, '--target', goodTarget, '--reporter', 'tap'], /each target writes its own tap report: give it a file/);
    });

    it('--baseline with several targets', async () => {
      await refuse(['--target', first, '--target', goodTarget, '--baseline', join(dir, 'none.json')], /--baseline compares one run/);
    });

    it('a target named twice, and --servers with --target', async () => {
      await refuse(['--target', first, '--target', first], /--target .*counting\.yaml is given twice/);
      await refuse(['--servers', 'dovecot', '--target', first], /give one or the other/);
    });

    it('an unknown server, and a lab server that is not running', async () => {
      const empty = await tempDir('no-lab');
      await refuse(['--servers', 'dovecot,exim'], /unknown server "exim" in --servers \(known: dovecot, cyrus, courier/, { MAILPROBE_LAB_DIR: empty });
      await mkdir(empty, { recursive: true });
      await writeFile(join(empty, 'target.yaml'), await readFile(first, 'utf8'));
      await refuse(['--servers', 'dovecot,cyrus'], /is not running cyrus \(no target-cyrus\.yaml\); start it with `mailprobe lab up --servers dovecot,cyrus`/, {
        MAILPROBE_LAB_DIR: empty,
      });
    });

    it('a broken second target file: its file:line:col, and the first target is not run', async () => {
      const bad = join(dir, 'bad-target.yaml');
      await writeFile(bad, `${await readFile(goodTarget, 'utf8')}\nbogus_key: 1\n`);
      await refuse(['--target', first, '--target', bad], /bad-target\.yaml:\d+:\d+/);
    });

    it('matrix outputs: html needs a file, an unknown name lists the known ones, two on stdout collide', async () => {
      await refuse(['--target', first, '--reporter', 'matrix-html'], /matrix-html reporter writes a page and needs a file/);
      await refuse(
        ['--target', first, '--reporter', 'matrix-svg'],
        /unknown reporter "matrix-svg"; known reporters: .*json, html, matrix-md, matrix-html, matrix-json/,
      );
      await refuse(['--target', first, '--reporter', 'matrix-md', '--reporter', 'json'], /cannot share stdout/);
    });

    it("--login is probe's option, not run's", async () => {
      await refuse(['--target', first, '--login', 'primary'], /unknown option '--login'/);
    });
  });

  it('Ctrl-C during the first target: its cleanup and reports, no second target, exit 130, the matrix of what ran', async () => {
    const counting = await startCountingServer();
    let retrs = 0;
    good.pop3Overrides.RETR = () => {
      retrs++;
      // The RETR is never answered here; the session ends when the interrupted run closes it.
      return true;
    };
    try {
      const out = await tempDir('multi-int');
      const second = await writeCountingTarget(join(dir, 'second.yaml'), counting.port);
      const cli = startCli(
        [
          'run',
          POP3_SUITE,
          '--target',
          goodTarget,
          '--target',
          second,
          '--out-dir',
          out,
          '--reporter',
          `json=${join(out, 'run.json')}`,
          '--reporter',
          `matrix-json=${join(out, 'matrix.json')}`,
        ],
        { env },
      );
      await waitUntil(() => retrs > 0 || cli.child.exitCode !== null, 'the first host has seen RETR');
      expect(cli.child.exitCode, cli.stderrSoFar()).toBeNull();
      cli.child.kill('SIGINT');
      const r = await cli.done;
      expect(r.code, describeRun(r)).toBe(130);
      expect(r.stderr).toContain('not run, since the run was interrupted: second');
      expect(counting.connections()).toBe(0);
      const first = JSON.parse(await readFile(join(out, 'run-good.json'), 'utf8')) as { interrupted: boolean };
      expect(first.interrupted).toBe(true);
      const matrix = JSON.parse(await readFile(join(out, 'matrix.json'), 'utf8')) as MatrixJson;
      expect(matrix.columns.map((c) => [c.label, c.interrupted])).toEqual([['good', true]]);
    } finally {
      delete good.pop3Overrides.RETR;
      await counting.close();
    }
  }, 60_000);
});
