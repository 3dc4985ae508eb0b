import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
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
