import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeMailHost } from '../../fixtures/servers/fake-mail-host.js';
import { describeRun, POP3_SUITE, runCli, startFakeHostWithTarget } from '../support/cli.js';

/**
 * `run --verbose` (issue 10 §3): every step's wire transcript on stderr as it
 * happens, redacted, in swaks' conventions: `->` client, `<-` server, `~>` and
 * `<~` inside TLS, `===` mailprobe's remarks; each line with its wall-clock time.
 */
const PASSWORD = 'Verbose-pw-7x!';
const LIVE = /^(\d\d:\d\d:\d\d\.\d{3}) \[([^\]]+)\] (===| ->| <-| ~>| <~) (.*)$/;

describe('run --verbose', () => {
  let host: FakeMailHost;
  let targetFile: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    ({ host, targetFile, env } = await startFakeHostWithTarget({
      accounts: { alice: { password: PASSWORD, address: 'alice@fake.test' }, bob: { password: 'bob-Other-pw-2', address: 'bob@fake.test' } },
    }));
  });
  afterAll(async () => {
    await host?.close();
  });

  it('prints the live transcript, clear and TLS lines told apart, the login redacted', async () => {
    const r = await runCli(['run', `${POP3_SUITE}/stls.yaml`, `${POP3_SUITE}/rset.yaml`, '--target', targetFile, '--verbose'], { env });
    expect(r.code, describeRun(r)).toBe(0);
    const live = r.stderr.split('\n').flatMap((line) => {
      const m = LIVE.exec(line);
      return m ? [{ arrow: m[3]!, text: m[4]! }] : [];
    });
    const said = (arrow: string, text: RegExp) => live.some((l) => l.arrow === arrow && text.test(l.text));
    expect(live.length, describeRun(r)).toBeGreaterThan(10);
    // STLS (RFC 2595 §4) is asked and answered in the clear; what follows the handshake is inside TLS.
    expect(said(' ->', /^STLS$/), describeRun(r)).toBe(true);
    expect(said(' <-', /^\+OK/), describeRun(r)).toBe(true);
    expect(said('===', /^TLS established/), describeRun(r)).toBe(true);
    expect(said(' <~', /^\+OK/), describeRun(r)).toBe(true);
    expect(said(' ~>', /^(PASS|AUTH PLAIN) \[redacted\]$|^\[redacted\]$/), describeRun(r)).toBe(true);
    expect(r.stderr).not.toContain(PASSWORD);
    expect(r.stderr).not.toContain(Buffer.from(`\0alice\0${PASSWORD}`).toString('base64'));
    // The live lines come before the scenario's own result line, as they happen.
    const firstLive = r.stderr.split('\n').findIndex((line) => LIVE.test(line));
    const firstResult = r.stderr.split('\n').findIndex((line) => /^✓ /.test(line));
    expect(firstLive).toBeGreaterThanOrEqual(0);
    expect(firstLive).toBeLessThan(firstResult);
  });

  it('prints no transcript lines without --verbose', async () => {
    const r = await runCli(['run', `${POP3_SUITE}/rset.yaml`, '--target', targetFile], { env });
    expect(r.code, describeRun(r)).toBe(0);
    expect(
      r.stderr.split('\n').filter((line) => LIVE.test(line)),
      describeRun(r),
    ).toEqual([]);
    // stderr is a pipe here, not a terminal: no live waiting line, no carriage returns or erase codes.
    expect(r.stderr).not.toMatch(/waiting for|\r|\x1b\[K/);
  });
});
