import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeMailHost } from '../../fixtures/servers/fake-mail-host.js';
import { execute } from '../../src/runner/execute.js';
import { POP3_SUITE, startFakeHostWithTarget } from '../support/cli.js';

/**
 * The runner hands its waits to whoever shows progress (issue 10 §3): each
 * delivery poll is announced with what it waits for and its bound, and every
 * wait announced is ended, so no live line (and no timer) outlives its wait.
 */
describe('waits announced by the actions', () => {
  let host: FakeMailHost;
  let targetFile: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    ({ host, targetFile, env } = await startFakeHostWithTarget({
      accounts: { alice: { password: 'alice-pw-9', address: 'alice@fake.test' }, bob: { password: 'bob-pw-9', address: 'bob@fake.test' } },
    }));
  });
  afterAll(async () => {
    await host?.close();
  });

  it('pop3.wait-for announces "delivery to alice" with the target delivery bound, and ends it', async () => {
    const started: Array<{ what: string; limitMs: number }> = [];
    let open = 0;
    const outcome = await execute({
      targetFile,
      paths: [join(POP3_SUITE, 'rset.yaml')],
      env,
      reporters: () => [],
      stderr: new Writable({ write: (_c, _e, cb) => cb() }),
      signal: new AbortController().signal,
      messagesDir: await mkdtemp(join(tmpdir(), 'mailprobe-test-messages-')),
      version: '0.0.0-test',
      waiting: (what, limitMs) => {
        started.push({ what, limitMs });
        open++;
        return () => {
          open--;
        };
      },
    });
    expect(outcome.kind).toBe('ran');
    if (outcome.kind !== 'ran') return;
    expect(
      outcome.result.scenarios.map((s) => s.state),
      JSON.stringify(outcome.result.scenarios, null, 1).slice(0, 3000),
    ).toEqual(['passed']);
    expect(started).toContainEqual({ what: 'delivery to alice', limitMs: 30_000 });
    expect(open).toBe(0);
  });
});
