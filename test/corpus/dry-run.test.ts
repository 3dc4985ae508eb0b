import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeRun, REPO_ROOT, runCli, startCountingServer, tempDir } from '../support/cli.js';

/**
 * `mailprobe run --dry-run` through the built CLI, against a target whose
 * every endpoint is a counting listener in this process, with the
 * connect-refusing hook of the bad-input corpus (see bad-input.test.ts for
 * why both): it lists what the run would do and connects nowhere.
 */
const HOOK = pathToFileURL(resolve(import.meta.dirname, 'no-network.mjs')).href;
let counter: Awaited<ReturnType<typeof startCountingServer>>;
let dir = '';
let targetFile = '';

beforeAll(async () => {
  counter = await startCountingServer();
  dir = await tempDir('dry-run');
  targetFile = join(dir, 'target.yaml');
  const endpoint = (security: string) => `{ port: ${counter.port}, security: ${security} }`;
  writeFileSync(
    targetFile,
    [
      'name: counting host',
      'host: 127.0.0.1',
      'tls: { insecure: true }',
      'endpoints:',
      `  submission: ${endpoint('starttls')}`,
      `  pop3s: ${endpoint('tls')}`,
      `  imaps: ${endpoint('tls')}`,
      'accounts:',
      '  primary: { user: alice, address: alice@count.test, password_env: DRY_PRIMARY_PW }',
      '  secondary: { user: bob, address: bob@count.test, password_env: DRY_SECONDARY_PW }',
      '',
    ].join('\n'),
  );
});

afterAll(async () => {
  await counter?.close();
});

async function dry(args: readonly string[]) {
  const log = join(dir, `connect-${Math.random().toString(36).slice(2)}.log`);
  const r = await runCli(['run', '--dry-run', '--target', targetFile, ...args], {
    // The dry run checks that the passwords are set (never what they are), as a run does.
    env: { NODE_OPTIONS: `--import=${HOOK}`, MAILPROBE_CONNECT_LOG: log, DRY_PRIMARY_PW: 'dry-pw-1', DRY_SECONDARY_PW: 'dry-pw-2' },
  });
  return { r, connects: existsSync(log) ? readFileSync(log, 'utf8') : '' };
}

describe('run --dry-run', () => {
  it('lists, per scenario of the shipped suites, what would be created, sent and deleted, and connects nowhere', async () => {
    const { r, connects } = await dry([join(REPO_ROOT, 'suites')]);
    expect(r.code, describeRun(r)).toBe(0);
    expect(connects).toBe('');
    expect(counter.connections()).toBe(0);
    expect(r.stdout + r.stderr).not.toMatch(/dry-pw-/);
    const runId = /run id (\S+);/.exec(r.stdout)?.[1] ?? '';
    expect(runId).toMatch(/^\d{8}t\d{6}-[0-9a-f]{6}$/);
    // One block per scenario, headed by its id.
    for (const id of ['imap/folder-sync', 'imap/draft-sync', 'pop3/sizes-agree', 'pop3/rset']) expect(r.stdout).toMatch(new RegExp(`^${id} — `, 'm'));
    expect(r.stdout).toContain(`create folder mailprobe-${runId}/projects/2026`);
    expect(r.stdout).toContain(`MAIL FROM:<alice@count.test>`);
    expect(r.stdout).toContain(`Message-ID <mailprobe.${runId}.…@mailprobe.invalid>`);
    expect(r.stdout).toMatch(/cleanup 1 .*\(pop3\.cleanup\)\n {4}delete every message of this run/);
    expect(r.stdout).toContain(`connect laptop: pop3 127.0.0.1:${counter.port} (pop3s, tls) as alice`);
  });

  it('is exit 2 with file:line:col on bad input, and still connects nowhere', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'name: x\nsteps:\n  - action: pop3.stats\n');
    const { r, connects } = await dry([bad]);
    expect(r.code, describeRun(r)).toBe(2);
    expect(r.stderr).toContain(`${bad}:3:13: unknown action 'pop3.stats'`);
    expect(r.stdout).toBe('');
    expect(connects).toBe('');
    expect(counter.connections()).toBe(0);
  });

  it('is described in the help of run', async () => {
    const r = await runCli(['run', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--dry-run\s+check every input, then list per scenario what\s+the run would/);
  });
});
