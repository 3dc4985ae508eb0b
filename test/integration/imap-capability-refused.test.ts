import { afterEach, describe, expect, it } from 'vitest';
import { classifyError } from '../../src/runner/classify.js';
import type { RunTarget } from '../../src/actions/run-target.js';
import { SessionPool } from '../../src/runner/sessions.js';
import type { Scenario } from '../../src/scenario/model.js';
import { DEFAULT_TIMEOUTS } from '../../src/transport/timeouts.js';
import { Transcript } from '../../src/transport/transcript.js';
import { FakeLineServer } from '../support/fake-line-server.js';

/**
 * The IMAP side of "a refused capability query is never an absent
 * capability": a server that refuses CAPABILITY (and sends no [CAPABILITY]
 * code elsewhere) lists nothing, and imapflow then just has no capabilities.
 * That must not skip a scenario "for a missing MOVE".
 */
let server: FakeLineServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function open(capabilityReply: string) {
  server = await FakeLineServer.start({
    greeting: '* OK fake IMAP ready\r\n',
    // IMAP lines start with a tag, so every command lands here.
    fallback: (s, _args, line) => {
      const [tag, verb = ''] = line.split(' ');
      const reply =
        verb.toUpperCase() === 'CAPABILITY' ? `${tag} ${capabilityReply}` : verb.toUpperCase() === 'LOGOUT' ? `* BYE bye\r\n${tag} OK bye` : `${tag} OK done`;
      void s.write(`${reply}\r\n`);
    },
  });
  const target = {
    name: 'fake',
    host: '127.0.0.1',
    file: 'fake.yaml',
    timeouts: { ...DEFAULT_TIMEOUTS, greeting: 2000, command: 2000 },
    capabilitiesRequired: {},
    endpoints: { imap: { host: '127.0.0.1', port: server.port, security: 'none', tls: { verify: true } } },
    accounts: { primary: { role: 'primary', user: 'alice', address: 'alice@fake.test', passwordEnv: 'X' } },
  } as unknown as RunTarget;
  const scenario = {
    id: 'imap/x',
    requires: { endpoints: [], accounts: [], capabilities: { imap: ['MOVE'] } },
    sessions: { laptop: { protocol: 'imap', endpoint: 'imap', account: 'primary', source: { file: 'x', line: 1, col: 1 } } },
  } as unknown as Scenario;
  const pool = new SessionPool(scenario, {
    runId: 'mp-test',
    target,
    transcript: new Transcript(),
    passwords: { primary: 'pw' },
    signal: new AbortController().signal,
    onOpened: () => undefined,
    onSeen: () => undefined,
    onFound: () => undefined,
  });
  const error = await pool.session('imap', 'laptop').then(
    () => undefined,
    (err: unknown) => err,
  );
  await pool.closeAll();
  expect(error, 'opening the session must not succeed').toBeDefined();
  return classifyError(error);
}

describe('CAPABILITY refused', () => {
  it('NO [UNAVAILABLE] is inconclusive, not a skip', async () => {
    const outcome = await open('NO [UNAVAILABLE] capability cache broken');
    expect(outcome).toMatchObject({ kind: 'inconclusive' });
  });

  it('a plain NO is failed, citing RFC 9051 §6.1.1', async () => {
    const outcome = await open('NO not telling');
    expect(outcome.kind).toBe('failed');
    if (outcome.kind !== 'failed') return;
    expect(outcome.check.rfc).toMatch(/^RFC 9051 §6\.1\.1\b/);
    expect(outcome.check.actual).toContain('not telling');
  });
});
