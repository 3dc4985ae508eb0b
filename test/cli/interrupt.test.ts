import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeMailHost, Pop3OverrideIo } from '../../fixtures/servers/fake-mail-host.js';
import { multiLine, toWire } from '../../fixtures/servers/pop3-wire.js';
import { describeRun, POP3_SUITE, startCli, startFakeHostWithTarget, tempDir, waitUntil } from '../support/cli.js';

/**
 * Ctrl-C in the middle of a scenario: the run must stop, clean up what it
 * created on the server, still write its reports, and exit 130.
 */

// Long enough that SIGINT lands while RETR is in flight; the reply still comes
// (a real slow server answers eventually), so nothing hangs if the CLI waits for it.
const STALL_MS = 4000;

describe('mailprobe run interrupted by SIGINT', () => {
  let host: FakeMailHost;
  let targetFile: string;
  let env: Record<string, string>;
  let retrSeen = 0;
  // The message the stalled RETR asked for: proof that the run had mail on the server to clean up.
  let stalled: Buffer | undefined;

  beforeAll(async () => {
    ({ host, targetFile, env } = await startFakeHostWithTarget({
      accounts: { alice: { password: 'alice-Int-pw-1', address: 'alice@fake.test' }, bob: { password: 'bob-Int-pw-2', address: 'bob@fake.test' } },
    }));
    host.pop3Overrides.RETR = (args: string[], io: Pop3OverrideIo) => {
      retrSeen++;
      // Only the first RETR stalls; later ones (if any) take the normal path.
      if (retrSeen > 1 || io.user === undefined) return false;
      const user = io.user;
      // Read the message now: the session's numbering is the login snapshot, and nothing is
      // delivered or expunged between that and this command in a sequential run.
      const message = host.maildrop(user)[Number(args[0]) - 1];
      stalled = message?.raw;
      setTimeout(() => {
        if (!message) return io.reply('-ERR no such message');
        const wire = toWire(message.raw);
        io.write(Buffer.concat([Buffer.from(`+OK ${wire.length} octets\r\n`), multiLine(wire, true)]));
      }, STALL_MS);
      return true;
    };
  });
  afterAll(async () => {
    await host?.close();
  });

  it('exits 130, writes JUnit and JSON (interrupted: true), and leaves no message of the run on the server', async () => {
    const dir = await tempDir('sigint');
    const junit = join(dir, 'junit.xml');
    const json = join(dir, 'report.json');
    const cli = startCli(
      ['run', POP3_SUITE, '--target', targetFile, '--reporter', `junit=${junit}`, '--reporter', `json=${json}`, '--out-dir', join(dir, 'out')],
      { env },
    );
    // Poll the server, not the clock: SIGINT goes only once the run is mid-scenario.
    await waitUntil(() => retrSeen > 0 || cli.child.exitCode !== null, 'the fake host has seen RETR');
    expect(cli.child.exitCode, `the run ended before RETR:\n${cli.stderrSoFar()}`).toBeNull();
    cli.child.kill('SIGINT');
    const r = await cli.done;

    expect(r.code, describeRun(r)).toBe(130);
    expect(existsSync(junit), describeRun(r)).toBe(true);
    expect(existsSync(json), describeRun(r)).toBe(true);
    const report = JSON.parse(await readFile(json, 'utf8')) as { interrupted?: unknown; runId?: unknown };
    expect(report.interrupted).toBe(true);
    expect(typeof report.runId).toBe('string');
    const runId = report.runId as string;
    expect(runId.length).toBeGreaterThan(0);
    expect(await readFile(junit, 'utf8')).toContain('<testsuites');

    // The stalled message was this run's (RETR refuses anything else), so there was something to clean up.
    expect(stalled?.toString('latin1')).toContain(`X-Mailprobe-Run: ${runId}`);
    // The child has exited, but the server may not have processed its last close yet.
    await host.pop3Idle();
    const left = [...host.maildrop('alice'), ...host.maildrop('bob')].filter((m) => m.raw.includes(runId));
    expect(
      left.map((m) => m.raw.toString('latin1').split('\r\n\r\n')[0]),
      `cleanup left messages of run ${runId} on the server\n${r.stderr}`,
    ).toEqual([]);
  });
});

/**
 * A second Ctrl-C while cleanup is stuck on a server that never answers DELE:
 * the run stops waiting, still writes its reports (every scenario of the plan,
 * the ones never run as skipped "interrupted"), names on stderr what it left
 * on the server, and exits 130, well before the (long) command timeout.
 */
describe('mailprobe run interrupted twice while cleanup is stuck', () => {
  // Far above anything the test waits: without the second Ctrl-C, cleanup would wait this long for DELE.
  const COMMAND_TIMEOUT_MS = 120_000;
  let host: FakeMailHost;
  let targetFile: string;
  let env: Record<string, string>;
  let retrSeen = 0;
  let deleSeen = 0;
  let interrupted = false;

  beforeAll(async () => {
    ({ host, targetFile, env } = await startFakeHostWithTarget({
      accounts: { alice: { password: 'alice-Int-pw-3', address: 'alice@fake.test' }, bob: { password: 'bob-Int-pw-4', address: 'bob@fake.test' } },
    }));
    // RETR is never answered, so the first interrupt lands in a step; once it has, DELE is
    // never answered either, so the second lands in cleanup. Earlier scenarios run as usual.
    host.pop3Overrides.RETR = (_args: string[], io: Pop3OverrideIo) => {
      if (io.user === undefined) return false;
      retrSeen++;
      return true;
    };
    host.pop3Overrides.DELE = (_args: string[], io: Pop3OverrideIo) => {
      if (io.user === undefined || !interrupted) return false;
      deleSeen++;
      return true;
    };
  });
  afterAll(async () => {
    await host?.close();
  });

  const start = async (label: string) => {
    const dir = await tempDir(label);
    const files = { junit: join(dir, 'junit.xml'), json: join(dir, 'report.json'), tap: join(dir, 'report.tap') };
    const cli = startCli(
      [
        'run',
        POP3_SUITE,
        '--target',
        targetFile,
        '--timeout',
        String(COMMAND_TIMEOUT_MS),
        '--reporter',
        `junit=${files.junit}`,
        '--reporter',
        `json=${files.json}`,
        '--reporter',
        `tap=${files.tap}`,
        '--out-dir',
        join(dir, 'out'),
      ],
      { env },
    );
    retrSeen = 0;
    deleSeen = 0;
    interrupted = false;
    await waitUntil(() => retrSeen > 0 || cli.child.exitCode !== null, 'the fake host has seen RETR');
    expect(cli.child.exitCode, `the run ended before RETR:\n${cli.stderrSoFar()}`).toBeNull();
    interrupted = true;
    cli.child.kill('SIGINT');
    await waitUntil(() => deleSeen > 0 || cli.child.exitCode !== null, 'the fake host has seen cleanup DELE', 200).catch((err: Error) => {
      throw new Error(`${err.message}\n${cli.stderrSoFar()}`);
    });
    expect(cli.child.exitCode, `the run ended before cleanup's DELE:\n${cli.stderrSoFar()}`).toBeNull();
    return { cli, files };
  };

  it('writes every report and names the leftovers on stderr, exit 130', async () => {
    const { cli, files } = await start('sigint-twice');
    const sent = Date.now();
    cli.child.kill('SIGINT');
    const r = await cli.done;
    // An upper bound only, far below the command timeout cleanup would otherwise wait out.
    expect(Date.now() - sent, describeRun(r)).toBeLessThan(COMMAND_TIMEOUT_MS / 4);
    expect(r.code, describeRun(r)).toBe(130);

    expect(existsSync(files.json), describeRun(r)).toBe(true);
    const report = JSON.parse(await readFile(files.json, 'utf8')) as {
      interrupted: boolean;
      runId: string;
      counts: { total: number; skipped: number };
      scenarios: Array<{ id: string; state: string; reason?: string; leftovers: string[]; error?: { code: string } }>;
    };
    expect(report.interrupted).toBe(true);
    const plan = (await readdir(POP3_SUITE)).filter((f) => f.endsWith('.yaml')).length;
    expect(report.counts.total).toBe(plan);
    expect(report.scenarios).toHaveLength(plan);
    // The scenarios before the one interrupted ran as usual; every one after it never ran.
    const at = report.scenarios.findIndex((s) => s.error?.code === 'EINTERRUPTED');
    expect(at, describeRun(r)).toBeGreaterThanOrEqual(0);
    const first = report.scenarios[at];
    expect(first!.state, describeRun(r)).toBe('errored');
    const rest = report.scenarios.slice(at + 1);
    expect(rest.length).toBeGreaterThan(0);
    for (const s of rest) expect({ id: s.id, state: s.state, reason: s.reason }).toEqual({ id: s.id, state: 'skipped', reason: 'interrupted' });

    // The message the run sent is still on the server (DELE was never answered, QUIT never sent): a leftover, named.
    const mine = host.maildrop('alice').filter((m) => m.raw.includes(report.runId));
    expect(mine.length).toBeGreaterThan(0);
    expect(first!.leftovers.length).toBeGreaterThan(0);
    for (const m of mine) {
      const id = /^Message-ID:\s*(\S+)/im.exec(m.raw.toString('latin1'))![1]!;
      expect(
        first!.leftovers.some((l) => l.includes(id)),
        first!.leftovers.join('\n'),
      ).toBe(true);
      expect(r.stderr).toContain(id);
    }
    expect(r.stderr).toMatch(/left on the server \(remove by hand\)/);
    for (const item of first!.leftovers) expect(r.stderr).toContain(`${first!.id}: ${item}`);

    expect(await readFile(files.junit, 'utf8')).toContain(`tests="${plan}"`);
    expect(await readFile(files.tap, 'utf8')).toContain(`\n1..${plan}\n`);
    host.discard('alice', report.runId);
    host.discard('bob', report.runId);
  }, 90_000);

  it('exits 130 naming what the record says is left when Ctrl-C comes three times in a row', async () => {
    const { cli } = await start('sigint-thrice');
    cli.child.kill('SIGINT');
    cli.child.kill('SIGINT');
    const r = await cli.done;
    expect(r.code, describeRun(r)).toBe(130);
    expect(r.stderr).toMatch(/left on the server \(remove by hand\)/);
    // The run's message is named by its Message-ID whichever of the two ways out was taken.
    const runId = /run (\d{8}t\d{6}-[0-9a-f]{6})/.exec(r.stderr)?.[1];
    expect(runId, describeRun(r)).toBeDefined();
    const mine = host.maildrop('alice').filter((m) => m.raw.includes(runId!));
    expect(mine.length).toBeGreaterThan(0);
    for (const m of mine) expect(r.stderr).toContain(/^Message-ID:\s*(\S+)/im.exec(m.raw.toString('latin1'))![1]!);
    host.discard('alice', runId!);
    host.discard('bob', runId!);
  }, 90_000);
});
