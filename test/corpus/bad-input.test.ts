import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeRun, REPO_ROOT, runCli, startCli, startCountingServer, tempDir, waitUntil } from '../support/cli.js';
import type { CliResult } from '../support/cli.js';

/**
 * The bad-input corpus (issue 7 §7): every malformed or hostile scenario,
 * target and env file in bad-input/expected.txt goes through the built CLI,
 * `run` and `validate`, and must give `file:line:col: reason`, exit 2, no
 * stack trace, and no connection.
 *
 * "No connection" is proven two ways, because each alone has a gap:
 * - the target's endpoint is a listening 127.0.0.1 server in this process that
 *   counts connections: it must see none (proof from outside the child that
 *   nothing reached the target);
 * - the child runs with `--import no-network.mjs`, which records and refuses
 *   every net.Socket connect (to any host, whatever the target says): its log
 *   must stay empty.
 * Two positive controls show that both would notice a connection.
 */

const CORPUS = resolve(import.meta.dirname, 'bad-input');
const HOOK = pathToFileURL(resolve(import.meta.dirname, 'no-network.mjs')).href;

type Kind = 'scenario' | 'target' | 'env';
interface Case {
  readonly kind: Kind;
  readonly file: string;
  readonly at: string;
  readonly reason: string;
}

function readTable(): Case[] {
  return readFileSync(join(CORPUS, 'expected.txt'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'))
    .map((l) => {
      const [kind = '', file = '', at = '', ...reason] = l.split(' | ');
      if (!['scenario', 'target', 'env'].includes(kind) || !/^\d+:\d+$/.test(at)) throw new Error(`bad line in expected.txt: ${l}`);
      return { kind: kind as Kind, file, at, reason: reason.join(' | ') };
    });
}

const cases = readTable();
let work = '';
let counter: Awaited<ReturnType<typeof startCountingServer>>;
let logCount = 0;
const ENV = { MAILPROBE_CORPUS_PW: 'corpus-Secret-9' };

/** A copy of the corpus with the counting server's port in its targets, and the files git cannot hold. */
function prepare(dir: string, port: number): void {
  cpSync(CORPUS, dir, { recursive: true });
  // Five digits replace five digits, so every expected column stays right.
  expect(String(port)).toMatch(/^\d{5}$/);
  for (const f of ['good/target.yaml', ...cases.filter((c) => c.kind === 'target' && c.file.startsWith('target/')).map((c) => c.file)]) {
    const p = join(dir, f);
    writeFileSync(p, readFileSync(p).toString('latin1').replaceAll('port: 10110', `port: ${port}`), 'latin1');
  }
  const gen = join(dir, 'gen');
  mkdirSync(gen);
  const mkfifo = (p: string) => execFileSync('mkfifo', [p]);
  mkfifo(join(gen, 'fifo.yaml'));
  mkfifo(join(gen, 'target-fifo.yaml'));
  mkfifo(join(gen, 'env-fifo.env'));
  mkfifo(join(dir, 'target', 'ca.fifo'));
  symlinkSync('/dev/zero', join(gen, 'zero.yaml'));
  symlinkSync('loop-b.yaml', join(gen, 'loop.yaml'));
  symlinkSync('loop.yaml', join(gen, 'loop-b.yaml'));
  symlinkSync('target-loop-b.yaml', join(gen, 'target-loop.yaml'));
  symlinkSync('target-loop.yaml', join(gen, 'target-loop-b.yaml'));
  mkdirSync(join(gen, 'target-folder.yaml'));
  mkdirSync(join(gen, 'env-folder.env'));
  mkdirSync(join(gen, 'suite-with-fifo'));
  mkfifo(join(gen, 'suite-with-fifo', 'x.yaml'));
  cpSync(join(dir, 'good', 'scenario.yaml'), join(gen, 'suite-with-fifo', 'a-good.yaml'));
  mkdirSync(join(gen, 'suite-with-dangling-link'));
  symlinkSync('nowhere.yaml', join(gen, 'suite-with-dangling-link', 'gone.yaml'));
  // One byte over each limit; a valid start, so only the size can be the reason.
  const over = (limit: number, head: string) => head + '#'.repeat(limit + 1 - Buffer.byteLength(head));
  writeFileSync(join(gen, 'oversize.yaml'), over(1024 * 1024, readFileSync(join(dir, 'good', 'scenario.yaml'), 'utf8')));
  writeFileSync(join(gen, 'target-oversize.yaml'), over(256 * 1024, readFileSync(join(dir, 'good', 'target.yaml'), 'utf8')));
  writeFileSync(join(gen, 'env-oversize.env'), over(64 * 1024, 'MAILPROBE_CORPUS_PW=x\n'));
  const pem = readFileSync(join(REPO_ROOT, 'fixtures/scenarios/targets/good/ca.pem'), 'utf8');
  writeFileSync(join(dir, 'target', 'big-ca.pem'), over(1024 * 1024, pem));
}

/** The CLI in the copy, with the no-network hook and a fresh connect log. */
async function cli(args: readonly string[]): Promise<{ r: CliResult; connects: string }> {
  const log = join(work, `connect-${++logCount}.log`);
  const env = { ...ENV, NODE_OPTIONS: `--import=${HOOK}`, MAILPROBE_CONNECT_LOG: log };
  const r = await runCli(args, { cwd: work, env });
  return { r, connects: existsSync(log) ? readFileSync(log, 'utf8') : '' };
}

function commandsFor(c: Case): string[][] {
  const good = { scenario: 'good/scenario.yaml', target: 'good/target.yaml' };
  switch (c.kind) {
    case 'scenario': {
      const given = c.file.startsWith('gen/suite-') ? dirname(c.file) : c.file;
      return [
        ['validate', given],
        ['run', '--quiet', '--target', good.target, given],
      ];
    }
    case 'target':
      return [
        ['validate', '--target', c.file],
        ['run', '--quiet', '--target', c.file, good.scenario],
      ];
    case 'env':
      return [['run', '--quiet', '--target', good.target, '--env-from', c.file, good.scenario]];
  }
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

beforeAll(async () => {
  counter = await startCountingServer();
  work = await tempDir('bad-input');
  prepare(work, counter.port);
});

afterAll(async () => {
  await counter?.close();
});

describe('the no-connection checks can fail', () => {
  it('the counting server sees a run of the good files (no hook)', async () => {
    const before = counter.connections();
    const r = await runCli(['run', '--quiet', '--target', 'good/target.yaml', 'good/scenario.yaml'], { cwd: work, env: ENV });
    expect(r.code, describeRun(r)).not.toBe(2);
    expect(counter.connections()).toBeGreaterThan(before);
  });

  it('the hook records and refuses a connect attempt', async () => {
    const before = counter.connections();
    const { r, connects } = await cli(['run', '--quiet', '--target', 'good/target.yaml', 'good/scenario.yaml']);
    expect(r.code, describeRun(r)).not.toBe(2);
    expect(connects).toContain(`connect 127.0.0.1:${counter.port}`);
    expect(counter.connections()).toBe(before);
  });

  it('the good files and a UTF-8 byte order mark validate (exit 0)', async () => {
    // --target takes several files: it goes last.
    const { r } = await cli(['validate', 'good/scenario.yaml', 'good/bom.yaml', '--target', 'good/target.yaml']);
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stderr).toContain('2 scenario(s) and 1 target file(s) are valid');
  });
});

describe('bad-input corpus', () => {
  it('has at least 40 cases, and every committed case file exists', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
    for (const c of cases) if (!c.file.startsWith('gen/') && !c.file.startsWith('/')) expect(existsSync(join(CORPUS, c.file)), c.file).toBe(true);
  });

  it.concurrent.each(cases.map((c) => [`${c.kind} ${c.file}`, c] as const))(
    '%s',
    async (_name, c) => {
      for (const args of commandsFor(c)) {
        const { r, connects } = await cli(args);
        const how = `mailprobe ${args.join(' ')}\n${describeRun(r)}`;
        expect(r.code, how).toBe(2);
        // The file as given, or as the CLI resolved it against its folder.
        const shown = `(?:${escapeRe(c.file)}|${escapeRe(join(work, c.file))})`;
        const reasons = [...r.stderr.matchAll(new RegExp(`^(?:mailprobe: )?${shown}:${c.at}: (.*)$`, 'gm'))].map((m) => m[1] ?? '');
        expect(
          reasons.some((reason) => reason.includes(c.reason)),
          `${how}\nwanted ${c.file}:${c.at}: …${c.reason}…`,
        ).toBe(true);
        expect(r.stderr, how).not.toMatch(/internal error|^\s+at .+:\d+:\d+\)?$/m);
        expect(r.stderr + r.stdout, how).not.toContain(ENV.MAILPROBE_CORPUS_PW);
        expect(connects, how).toBe('');
      }
      // Two CLI starts per case, several cases at once, on a busy CI machine: a generous bound, not a timing check.
    },
    120_000,
  );

  it('no case reached the target', () => {
    // The two positive controls connected once (without the hook); nothing else may have.
    expect(counter.connections()).toBe(1);
  });
});

describe('signals while loading', () => {
  it('SIGTERM while the CA file is a FIFO that nobody writes ends the run promptly', async () => {
    // Before the fix the CA was read with readFileSync: the FIFO blocked the
    // event loop, no signal handler could run, and only SIGKILL ended it.
    const run = startCli(['run', '--quiet', '--target', 'target/ca-fifo.yaml', 'good/scenario.yaml'], { cwd: work, env: ENV });
    let ended = false;
    void run.done.then(() => (ended = true));
    // Give it time to reach the CA file; it may well have finished already.
    await new Promise((r) => setTimeout(r, 1500));
    run.child.kill('SIGTERM');
    try {
      await waitUntil(() => ended, 'the run ends after SIGTERM', 200, 50);
    } finally {
      if (!ended) run.child.kill('SIGKILL');
    }
    const r = await run.done;
    expect(r.signal === 'SIGTERM' || r.code === 2 || r.code === 130, describeRun(r)).toBe(true);
  });
});

describe('--grep', () => {
  it('a pattern that is not a regular expression is a usage error with the reason, before anything connects', async () => {
    const { r, connects } = await cli(['run', '--quiet', '--target', 'good/target.yaml', '--grep', '(', 'good/scenario.yaml']);
    expect(r.code, describeRun(r)).toBe(2);
    expect(r.stderr).toMatch(/--grep.*not a valid regular expression: .*Unterminated group/);
    expect(r.stderr).not.toMatch(/internal error|^\s+at .+:\d+:\d+\)?$/m);
    expect(connects).toBe('');
  });
});
