import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENDPOINT_NAMES, ENDPOINT_PROTOCOL, PROTOCOL_NAMES, endpointsOf } from '../../src/core/protocols.js';
import type { ProtocolModule, ProtocolOutcome, SessionKindSpec } from '../../src/protocols/module.js';
import { PROTOCOL_MODULES, createRegistry, protocols } from '../../src/protocols/registry.js';
import { classifyError } from '../../src/runner/classify.js';
import { RequirementFailure, SkipScenario } from '../../src/protocols/outcomes.js';
import type { RunTarget } from '../../src/actions/run-target.js';
import { SessionPool } from '../../src/runner/sessions.js';
import type { Scenario } from '../../src/scenario/model.js';
import { Transcript } from '../../src/transport/transcript.js';

/**
 * The protocol seam: a protocol the runner has never heard of plugs in with a
 * module and a registry entry, and the session pool and the error
 * classification handle it unchanged. The toy protocol keeps its "server" in
 * memory (unit tests open no sockets); the shipped modules are proven on the
 * wire by the integration, fake-host and hostile suites.
 */

/** What the toy "server" did, so the test can see the pool drive the module. */
interface ToyLog {
  opened: Array<{ label: string; user: string; password: string; port: number; wanted: readonly string[] }>;
  closed: string[];
  discarded: string[];
}

class ToySession {
  closed = false;
  constructor(readonly label: string) {}
}

/** The toy protocol's "not now" and "no" replies, which only its module knows. */
class ToyBusy extends Error {}
class ToyNo extends Error {
  constructor(readonly command: string) {
    super(`NOPE ${command}`);
  }
}

function toyModule(log: ToyLog, capabilities: readonly string[]): ProtocolModule {
  const toy: SessionKindSpec<ToySession, { shout?: boolean }> = {
    async open(ctx, options) {
      log.opened.push({ label: ctx.label, user: ctx.user, password: ctx.password, port: ctx.endpoint.port, wanted: ctx.wanted });
      return { session: new ToySession(options?.shout ? ctx.label.toUpperCase() : ctx.label), announced: { greeting: 'TOY ready', capabilities } };
    },
    isOpen: (s) => !s.closed,
    close: async (s) => {
      s.closed = true;
      log.closed.push(s.label);
    },
    discard: async (s) => {
      s.closed = true;
      log.discarded.push(s.label);
    },
  };
  const classify = (err: unknown): ProtocolOutcome | undefined => {
    if (err instanceof ToyBusy) return { kind: 'inconclusive', reason: 'toy server busy' };
    if (err instanceof ToyNo) return { kind: 'reply', error: { reply: err.message, text: 'NOPE', command: err.command, protocol: 'toy' as never } };
    return undefined;
  };
  // 'toy' is not in the shipped vocabulary: a test-only registry holds it.
  return {
    name: 'toy',
    endpoints: ['toy'],
    sessions: { toy },
    primary: { kind: 'toy', readers: 'reopen' },
    capabilityList: { command: 'TOYCAPS', rfc: 'TOY §1' },
    commandClauses: { PING: 'TOY §2' },
    classify,
  } as unknown as ProtocolModule;
}

function setup(options: { capabilities?: readonly string[]; requires?: readonly string[]; required?: readonly string[] } = {}) {
  const log: ToyLog = { opened: [], closed: [], discarded: [] };
  const registry = createRegistry([toyModule(log, options.capabilities ?? ['PING', 'SHINY extra']), ...protocols.modules]);
  const target = {
    name: 't',
    host: '127.0.0.1',
    file: 't.yaml',
    endpoints: { toy: { host: '127.0.0.1', port: 4242, security: 'none', tls: { verify: true } } },
    accounts: { primary: { role: 'primary', user: 'alice', address: 'alice@example.test', passwordEnv: 'P' } },
    timeouts: { dns: 1000, tcp: 1000, tls: 1000, greeting: 1000, command: 1000, delivery: 1000, push: 1000 },
    capabilitiesRequired: { toy: options.required ?? [] },
  } as unknown as RunTarget;
  const scenario = {
    id: 'toy/x',
    requires: { endpoints: [], accounts: [], capabilities: { toy: options.requires ?? [] } },
    sessions: { dev: { protocol: 'toy', endpoint: 'toy', account: 'primary', source: { file: 'x', line: 1, col: 1 } } },
  } as unknown as Scenario;
  const announced: Array<[string, string, readonly string[]]> = [];
  const pool = new SessionPool(
    scenario,
    {
      runId: 'mp-test',
      target,
      transcript: new Transcript(),
      passwords: { primary: 'pw' },
      signal: new AbortController().signal,
      onOpened: (name, greeting, caps) => announced.push([name, greeting, caps]),
      onSeen: () => undefined,
      onFound: () => undefined,
    },
    registry,
  );
  return { log, registry, pool, announced };
}

describe('a protocol module plugs into the runner through the registry alone', () => {
  it('the pool opens, reuses, reopens and closes its sessions through the module', async () => {
    const { log, pool, announced } = setup();
    const first = (await pool.session('toy', 'dev')) as ToySession;
    expect(first).toBeInstanceOf(ToySession);
    expect(log.opened).toEqual([{ label: 'dev', user: 'alice', password: 'pw', port: 4242, wanted: [] }]);
    expect(announced).toEqual([['dev', 'TOY ready', ['PING', 'SHINY extra']]]);
    expect(await pool.session('toy', 'dev'), 'an open session is reused').toBe(first);
    first.closed = true;
    const second = await pool.session('toy', 'dev');
    expect(second, 'a closed session is opened again on next use').not.toBe(first);
    const extra = (await pool.extraSession('toy', 'dev', 'dev~extra', { shout: true })) as ToySession;
    expect(extra.label, 'the kind receives its own options').toBe('DEV~EXTRA');
    await pool.closeAll();
    expect(log.closed.sort()).toEqual(['DEV~EXTRA', 'dev']);
  });

  it("judges the scenario's requires against what the module announced: a skip, or a failure the target makes mandatory", async () => {
    const skipped = setup({ requires: ['MISSING'] });
    const skip = await skipped.pool.session('toy', 'dev').then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(skip).toBeInstanceOf(SkipScenario);
    expect((skip as SkipScenario).reason).toBe('the server does not announce the TOY capability MISSING');
    expect(skipped.log.discarded, 'the session that failed its checks is discarded').toEqual(['dev']);

    const failed = setup({ requires: ['MISSING'], required: ['missing'] });
    const failure = await failed.pool.session('toy', 'dev').then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(RequirementFailure);
    expect((failure as RequirementFailure).check).toMatchObject({ expected: 'MISSING in the TOYCAPS list', rfc: 'TOY §1', actual: 'PING SHINY' });

    const met = setup({ requires: ['shiny'] });
    expect(await met.pool.session('toy', 'dev')).toBeInstanceOf(ToySession);
    expect(met.log.opened[0]?.wanted, 'the module is told what the scenario requires of it').toEqual(['shiny']);
  });

  it("a step's own requires and the readers opened before sending go through the module's primary kind", async () => {
    const { log, pool } = setup();
    expect(await pool.stepRequirement('dev', { ['toy' as never]: ['PING'] })).toBeUndefined();
    expect(await pool.stepRequirement('dev', { ['toy' as never]: ['ABSENT'] })).toMatchObject({ kind: 'skipped' });
    await pool.openReaders(['dev']);
    // `reopen`: the reader is opened and closed again at once, beside the step session.
    expect(log.opened.map((o) => o.label)).toEqual(['dev', 'dev']);
    expect(log.closed).toEqual(['dev']);
    await pool.closeAll();
  });

  it("classification asks the module: the toy's errors get their verdicts only when the toy is registered", () => {
    const { registry } = setup();
    expect(classifyError(new ToyBusy(), registry)).toEqual({ kind: 'inconclusive', reason: 'toy server busy' });
    expect(classifyError(new ToyNo('PING'), registry)).toMatchObject({ kind: 'reply', error: { reply: 'NOPE PING', command: 'PING', protocol: 'toy' } });
    expect(registry.clauseOfRefusedCommand('toy', 'PING 1')).toBe('TOY §2');
    // The shipped registry does not know the toy: its errors are internal errors there.
    expect(classifyError(new ToyBusy())).toMatchObject({ kind: 'errored', problem: { code: 'EINTERNAL' } });
  });

  it('an unknown session kind is a could-not-run error naming it, not a silent no-op', async () => {
    const { pool } = setup();
    await expect(pool.session('fax' as never, 'dev')).rejects.toMatchObject({ code: 'EUNKNOWN_SESSION_KIND' });
  });

  it('refuses a second module with the same name or session kind', () => {
    const log: ToyLog = { opened: [], closed: [], discarded: [] };
    expect(() => createRegistry([toyModule(log, []), toyModule(log, [])])).toThrow(/registered twice/);
  });
});

describe('the shipped registry', () => {
  it('lists one module per protocol of the vocabulary, each with its endpoints', () => {
    expect(protocols.modules.map((m) => m.name)).toEqual([...PROTOCOL_NAMES]);
    for (const name of PROTOCOL_NAMES) {
      expect(PROTOCOL_MODULES[name].endpoints).toEqual(endpointsOf(name));
      for (const endpoint of PROTOCOL_MODULES[name].endpoints) expect(ENDPOINT_PROTOCOL[endpoint]).toBe(name);
    }
    expect(protocols.modules.flatMap((m) => m.endpoints).sort()).toEqual([...ENDPOINT_NAMES].sort());
    expect(protocols.modules.flatMap((m) => Object.keys(m.sessions))).toEqual(['pop3', 'imap', 'imap-raw', 'smtp']);
  });
});

/** Source text without comments, so a word in an explanation does not count as naming a protocol. */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

describe('the runner and the action context name no protocol', () => {
  const root = join(import.meta.dirname, '../../src');
  const files = [...readdirSync(join(root, 'runner')).map((f) => join('runner', f)), 'actions/context.ts', 'actions/define-action.ts'];
  const protocolWord = new RegExp(`\\b(${PROTOCOL_NAMES.join('|')})\\b`, 'i');

  it.each(files)('%s', (file) => {
    const source = readFileSync(join(root, file), 'utf8');
    expect(source, 'imports a protocol folder directly').not.toMatch(/from '\.\.\/protocols\/(?!registry\.js|module\.js|outcomes\.js)/);
    expect(
      code(source)
        .split('\n')
        .filter((line) => protocolWord.test(line)),
    ).toEqual([]);
  });

  it('the session pool and classification do not even mention one', () => {
    for (const file of ['runner/sessions.ts', 'runner/classify.ts']) {
      expect(readFileSync(join(root, file), 'utf8')).not.toMatch(protocolWord);
    }
  });
});
