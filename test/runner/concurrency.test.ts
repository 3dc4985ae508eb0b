import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunTarget } from '../../src/actions/run-target.js';
import { actions, actionSignatures } from '../../src/actions/registry.js';
import { CLASSIFIED_ACTIONS } from '../../src/actions/claims.js';
import { claimsConflict, scenarioClaims, type ScenarioClaims } from '../../src/runner/claims.js';
import { loadScenarios } from '../../src/runner/load-inputs.js';
import type { Reporter } from '../../src/runner/reporter.js';
import { runAll } from '../../src/runner/run.js';
import { runScheduled } from '../../src/runner/schedule.js';
import { loadScenarioSource } from '../../src/scenario/index.js';
import type { Scenario } from '../../src/scenario/model.js';
import { DEFAULT_TIMEOUTS } from '../../src/target/model.js';
import { Redactor } from '../../src/transport/redact.js';

/**
 * The scheduler of `run --concurrency N` (issue 10 §6): which scenarios may
 * overlap (claims read statically from the YAML), that the schedule keeps
 * them apart, that results stay in plan order, and that N=1 is the serial run.
 * No sockets: the claims and the schedule are pure, and runAll is driven with
 * a target whose scenarios all skip before connecting.
 */
const SUITES = join(resolve(import.meta.dirname, '..', '..'), 'suites');
const endpoint = (host: string, port: number) => ({ host, port, security: 'tls' as const, tls: { verify: true } });
const lab: RunTarget = {
  name: 'lab',
  host: '127.0.0.1',
  file: '(test)',
  endpoints: {
    smtp: { ...endpoint('127.0.0.1', 25), security: 'none' },
    submission: { ...endpoint('127.0.0.1', 587), security: 'starttls' },
    smtps: endpoint('127.0.0.1', 465),
    pop3: { ...endpoint('127.0.0.2', 110), security: 'starttls' },
    pop3s: endpoint('127.0.0.1', 995),
    imap: { ...endpoint('127.0.0.2', 143), security: 'starttls' },
    imaps: endpoint('127.0.0.1', 993),
  },
  accounts: {
    primary: { role: 'primary', user: 'alice', address: 'alice@lab.test', passwordEnv: 'P1' },
    // Another role on the same mailbox: the claims are the mailbox's, not the role's.
    alias: { role: 'alias', user: 'alice', address: 'alice.alias@lab.test', passwordEnv: 'P1' },
    secondary: { role: 'secondary', user: 'bob', address: 'bob@lab.test', passwordEnv: 'P2' },
  },
  timeouts: { ...DEFAULT_TIMEOUTS },
  capabilitiesRequired: {},
};

const shipped = async (): Promise<Map<string, Scenario>> => {
  const loaded = await loadScenarios([SUITES]);
  return new Map(loaded.value!.map((s) => [s.id, s]));
};
const claimsOf = (s: Scenario) => scenarioClaims(s, lab);

/** A scenario from YAML text, with two IMAP devices on `account` and these steps. */
function scenario(id: string, steps: string, account = 'primary'): Scenario {
  const text = [
    `name: ${id}`,
    'sessions:',
    `  laptop: { protocol: imap, endpoint: imaps, account: ${account} }`,
    `  phone: { protocol: imap, endpoint: imaps, account: ${account} }`,
    `  mailbox: { protocol: pop3, endpoint: pop3s, account: ${account} }`,
    `  client: { protocol: smtp, endpoint: submission, account: ${account} }`,
    'vars: { box: somewhere }',
    'steps:',
    steps,
    'cleanup:',
    '  - { action: imap.cleanup, session: laptop }',
  ].join('\n');
  return { ...loadScenarioSource(text, `/virtual/${id}.yaml`, { root: '/virtual', actions: actionSignatures }), id };
}

describe('which scenarios may overlap', () => {
  it('every action of the registry is classified (a new one would otherwise take its whole account)', () => {
    expect(Object.keys(actions).filter((name) => !CLASSIFIED_ACTIONS.has(name))).toEqual([]);
  });

  it('two scenarios on the same account INBOX never overlap: POP3 sessions, deliveries, INBOX named by IMAP, cleanups', async () => {
    const s = await shipped();
    const inboxUsers = ['pop3/rset', 'pop3/stls', 'smtp/submission', 'imap/idle-push', 'imap/flag-sync', 'smtp/utf8-address', 'imap/draft-sync'];
    for (const a of inboxUsers) {
      expect(claimsOf(s.get(a)!).claims, a).toContainEqual({ account: 'alice', scope: 'inbox' });
      for (const b of inboxUsers) if (a !== b) expect(claimsConflict(claimsOf(s.get(a)!), claimsOf(s.get(b)!)), `${a} vs ${b}`).toBe(true);
    }
  });

  it('a delivery claims the INBOX only when DATA is sent: RCPT-only checks (relay, unknown user, size) claim nothing', async () => {
    const s = await shipped();
    for (const id of ['smtp/no-open-relay', 'smtp/unknown-recipient', 'smtp/size-limit', 'smtp/submission-requires-auth', 'imap/starttls']) {
      expect(claimsOf(s.get(id)!).claims, id).toEqual([]);
      expect(claimsConflict(claimsOf(s.get(id)!), claimsOf(s.get('pop3/rset')!)), id).toBe(false);
    }
    const rcptThenData = scenario(
      'rcpt-data',
      ['  - { action: smtp.rcpt, session: client, with: { to: "${accounts.secondary.address}" } }', '  - { action: smtp.data, session: client }'].join('\n'),
      'secondary',
    );
    expect(claimsOf(rcptThenData).claims).toContainEqual({ account: 'bob', scope: 'inbox' });
    expect(claimsOf(rcptThenData).claims.filter((c) => c.account !== 'bob')).toEqual([]);
  });

  it('distinct folders overlap; the same folder, or one inside the other, does not', () => {
    // The folder claims of the steps (every scenario that creates folders also runs imap.cleanup, whose claim on the
    // run's whole tree is looked at below).
    const folders = (sc: Scenario) => ({ ...claimsOf(sc), claims: claimsOf(sc).claims.filter((c) => c.scope === 'folder') });
    const a = scenario(
      'a',
      '  - { action: imap.create, session: laptop, with: { folder: projects/a } }\n  - { action: imap.append, session: laptop, with: { mailbox: projects/a, account: primary } }',
    );
    const b = scenario('b', '  - { action: imap.create, session: laptop, with: { folder: other } }');
    const sameAsA = scenario('a2', '  - { action: imap.count, session: phone, with: { mailbox: projects/a } }');
    const parentOfA = scenario('p', '  - { action: imap.delete, session: laptop, with: { folder: projects } }');
    const siblingOfA = scenario('s', '  - { action: imap.create, session: laptop, with: { folder: projects/b } }');
    expect(folders(a).claims).toEqual([{ account: 'alice', scope: 'folder', path: 'projects/a' }]);
    expect(claimsConflict(folders(a), folders(b))).toBe(false);
    expect(claimsConflict(folders(a), folders(siblingOfA))).toBe(false);
    expect(claimsConflict(folders(a), folders(sameAsA))).toBe(true);
    expect(claimsConflict(folders(a), folders(parentOfA))).toBe(true);
    // The same folder name of another mailbox is another folder.
    const bobsA = scenario('bob-a', '  - { action: imap.create, session: laptop, with: { folder: projects/a } }', 'secondary');
    expect(claimsConflict(folders(a), folders(bobsA))).toBe(false);
    // Two roles on one mailbox are one account.
    const aliasA = scenario('alias-a', '  - { action: imap.create, session: laptop, with: { folder: projects/a } }', 'alias');
    expect(claimsConflict(folders(a), folders(aliasA))).toBe(true);
    // imap.cleanup deletes the run's root and whatever LIST shows under it, and sweeps INBOX: it holds the run's
    // tree and the INBOX, so whole scenarios that clean up IMAP folders of one account stay apart.
    expect(claimsOf(a).claims).toEqual(
      expect.arrayContaining([
        { account: 'alice', scope: 'tree' },
        { account: 'alice', scope: 'inbox' },
      ]),
    );
    expect(claimsConflict(claimsOf(a), claimsOf(b))).toBe(true);
    expect(claimsConflict(claimsOf(a), claimsOf(bobsA))).toBe(false);
  });

  it("smtp.pipeline without `to` delivers to its session's own account: that INBOX, not every account", async () => {
    const pipelining = claimsOf((await shipped()).get('smtp/pipelining')!);
    expect(pipelining.claims).toContainEqual({ account: 'alice', scope: 'inbox' });
    expect(pipelining.claims.filter((c) => c.account !== 'alice' || c.scope === 'account')).toEqual([]);
    const onBob = scenario('pipe-bob', '  - { action: smtp.pipeline, session: client }', 'secondary');
    expect(claimsOf(onBob).claims).toContainEqual({ account: 'bob', scope: 'inbox' });
    expect(claimsOf(onBob).claims.filter((c) => c.account !== 'bob')).toEqual([]);
    expect(claimsConflict(pipelining, claimsOf(onBob))).toBe(false);
    // A recipient list given is read as for smtp.send.
    const toBob = scenario('pipe-to-bob', '  - { action: smtp.pipeline, session: client, with: { to: ["bob@lab.test"] } }');
    expect(claimsOf(toBob).claims).toContainEqual({ account: 'bob', scope: 'inbox' });
  });

  it('what cannot be read statically takes the whole account: a mailbox through ${…}, `with` as one interpolation, an unknown recipient', () => {
    const folder = scenario('f', '  - { action: imap.create, session: laptop, with: { folder: mine } }');
    const viaVar = scenario('v', '  - { action: imap.count, session: laptop, with: { mailbox: "${vars.box}" } }');
    const wholeWith = scenario('w', '  - { action: imap.count, session: laptop, with: "${vars.box}" }');
    const bobOnly = scenario('bob', '  - { action: imap.create, session: laptop, with: { folder: x } }', 'secondary');
    for (const unknown of [viaVar, wholeWith]) {
      expect(claimsOf(unknown).claims).toContainEqual({ account: 'alice', scope: 'account' });
      expect(claimsConflict(claimsOf(unknown), claimsOf(folder))).toBe(true);
      expect(claimsConflict(claimsOf(unknown), claimsOf(bobOnly))).toBe(false);
    }
    // A recipient that is no account's address may be an alias of any: every INBOX.
    const stranger = scenario('to-stranger', '  - { action: smtp.send, with: { account: primary, to: ["someone@lab.test"] } }');
    expect(claimsOf(stranger).claims).toEqual(
      expect.arrayContaining([
        { account: 'alice', scope: 'inbox' },
        { account: 'bob', scope: 'inbox' },
      ]),
    );
    const computed = scenario('to-computed', '  - { action: smtp.send, with: { account: primary, to: ["${vars.box}@lab.test"] } }');
    expect(claimsOf(computed).claims).toEqual(
      expect.arrayContaining([
        { account: 'alice', scope: 'account' },
        { account: 'bob', scope: 'account' },
      ]),
    );
  });

  it('peak connections per host: the sessions the steps use, a raw companion, and the most one step opens besides', async () => {
    const s = await shipped();
    // laptop and phone on imaps (127.0.0.1), the raw connection beside the phone, nothing else in the steps.
    expect(claimsOf(s.get('imap/noop-reports-changes')!).connections.get('127.0.0.1')).toBe(3);
    // pop3/stls: a plain probe and the upgraded connection, on the plain port's host.
    expect(claimsOf(s.get('pop3/stls')!).connections.get('127.0.0.2')).toBe(2);
  });
});

/** A fake run: each scenario holds until released, so the test decides who ends when. */
function harness(claims: readonly ScenarioClaims[], concurrency: number, maxPerHost = Number.POSITIVE_INFINITY) {
  const running = new Set<number>();
  const overlaps: Array<[number, number]> = [];
  const releases = new Map<number, () => void>();
  const started: number[] = [];
  let startedChanged: () => void = () => undefined;
  const done = runScheduled(
    claims,
    { concurrency, maxPerHost, signal: new AbortController().signal },
    (index) =>
      new Promise<void>((resolve) => {
        for (const other of running) overlaps.push([other, index]);
        running.add(index);
        started.push(index);
        releases.set(index, () => {
          running.delete(index);
          resolve();
        });
        startedChanged();
      }),
    async () => undefined,
  );
  const startedCount = (n: number) =>
    new Promise<void>((resolve) => {
      const check = () => (started.length >= n ? resolve() : (startedChanged = check));
      check();
    });
  return { overlaps, releases, started, running, done, startedCount };
}

const claim = (c: ScenarioClaims['claims'], connections: Record<string, number> = {}): ScenarioClaims => ({
  claims: c,
  connections: new Map(Object.entries(connections)),
});
const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('the schedule', () => {
  it('never overlaps conflicting scenarios, overlaps the others, and lets later ones pass a blocked one', async () => {
    const inbox = claim([{ account: 'alice', scope: 'inbox' }]);
    const plan = [inbox, inbox, claim([{ account: 'alice', scope: 'folder', path: 'x' }]), claim([])];
    const h = harness(plan, 4);
    await h.startedCount(3);
    await flush();
    // 0 runs; 1 waits for the INBOX; 2 and 3 go past it.
    expect(h.started).toEqual([0, 2, 3]);
    h.releases.get(2)!();
    h.releases.get(3)!();
    await flush();
    expect(h.started).toEqual([0, 2, 3]);
    h.releases.get(0)!();
    await h.startedCount(4);
    expect(h.started).toEqual([0, 2, 3, 1]);
    h.releases.get(1)!();
    await h.done;
    expect(h.overlaps.some(([a, b]) => (a === 0 && b === 1) || (a === 1 && b === 0))).toBe(false);
    expect(h.overlaps).toEqual(
      expect.arrayContaining([
        [0, 2],
        [0, 3],
        [2, 3],
      ]),
    );
  });

  it('admits a scenario only when its peak connections fit what is left of the host budget; one needing more than all runs alone', async () => {
    const plan = [claim([], { h: 3 }), claim([], { h: 2 }), claim([], { h: 1 }), claim([], { h: Number.POSITIVE_INFINITY })];
    const h = harness(plan, 4, 4);
    await h.startedCount(1);
    await flush();
    // 3 + 2 > 4: scenario 1 waits, 2 (3 + 1 = 4) goes past it.
    expect(h.started).toEqual([0, 2]);
    h.releases.get(0)!();
    await h.startedCount(3);
    await flush();
    expect(h.started).toEqual([0, 2, 1]);
    h.releases.get(1)!();
    h.releases.get(2)!();
    await h.startedCount(4);
    // The one that needs the whole budget started with nothing else on the host.
    expect(h.overlaps.filter(([a, b]) => a === 3 || b === 3)).toEqual([]);
    h.releases.get(3)!();
    await h.done;
  });

  it('concurrency 1 runs one at a time in plan order, whatever the claims', async () => {
    const plan = [claim([]), claim([]), claim([])];
    const h = harness(plan, 1);
    for (const i of [0, 1, 2]) {
      await h.startedCount(i + 1);
      await flush();
      expect(h.started).toEqual([0, 1, 2].slice(0, i + 1));
      h.releases.get(i)!();
    }
    await h.done;
    expect(h.overlaps).toEqual([]);
  });
});

describe('runAll with scenarios at once', () => {
  const nowhere: RunTarget = { ...lab, endpoints: {} };
  const run = (scenarios: readonly Scenario[], concurrency: number, reporter: Reporter) =>
    runAll({
      runId: 'r1',
      target: nowhere,
      scenarios,
      passwords: {},
      redactor: new Redactor([]),
      reporter,
      signal: new AbortController().signal,
      messageDir: '/nonexistent',
      makeResolver: () => (tree) => tree,
      version: '0.0.0-test',
      concurrency,
    });

  it('keeps results and onScenarioEnd in plan order when a later scenario ends first', async () => {
    const s = await shipped();
    // Four that claim nothing, so all four start at once; each is skipped (no endpoints) without connecting.
    const plan = ['smtp/no-open-relay', 'smtp/size-limit', 'smtp/unknown-recipient', 'imap/starttls'].map((id) => s.get(id)!);
    const events: string[] = [];
    let releaseFirst: () => void = () => undefined;
    const firstHeld = new Promise<void>((resolve) => (releaseFirst = resolve));
    const result = await run(plan, 4, {
      name: 'order',
      onScenarioStart: async (info) => {
        events.push(`start ${info.index}`);
        // The first scenario is held until the last one has started: the others end before it.
        if (info.index === 3) releaseFirst();
        if (info.index === 0) await firstHeld;
      },
      onScenarioEnd: (r) => {
        events.push(`end ${r.id}`);
      },
    });
    expect(events.slice(0, 4)).toEqual(['start 0', 'start 1', 'start 2', 'start 3']);
    expect(events.slice(4)).toEqual(plan.map((p) => `end ${p.id}`));
    expect(result.scenarios.map((r) => r.id)).toEqual(plan.map((p) => p.id));
  });

  it('at concurrency 1 the events are those of a serial run: start, end, start, end…', async () => {
    const plan = [...(await shipped()).values()].filter((p) => p.id.startsWith('pop3/'));
    const events: string[] = [];
    await run(plan, 1, {
      name: 'serial',
      onScenarioStart: (info) => {
        events.push(`start ${info.id}`);
      },
      onScenarioEnd: (r) => {
        events.push(`end ${r.id}`);
      },
    });
    expect(events).toEqual(plan.flatMap((p) => [`start ${p.id}`, `end ${p.id}`]));
  });
});
