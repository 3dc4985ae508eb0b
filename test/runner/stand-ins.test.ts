import { describe, expect, it } from 'vitest';
import { actionSignatures } from '../../src/actions/registry.js';
import type { RunTarget } from '../../src/actions/run-target.js';
import { LoadError } from '../../src/core/diagnostics.js';
import { claimsConflict, scenarioClaims } from '../../src/runner/claims.js';
import { runScheduled, type ScheduleEntry } from '../../src/runner/schedule.js';
import { targetViews } from '../../src/runner/stand-ins.js';
import { loadScenarioSource } from '../../src/scenario/index.js';
import type { Scenario } from '../../src/scenario/model.js';
import { loadTargetSource } from '../../src/target/load.js';
import { DEFAULT_TIMEOUTS } from '../../src/target/model.js';
import { missingSecrets } from '../../src/target/secrets.js';

/**
 * Stand-ins (`stand_ins:` of a target account): mailboxes that may take a role
 * when scenarios run at once. Which views of the target a scenario is offered,
 * that the schedule takes the first that fits (so a serial run never takes a
 * stand-in), and how a target file declares them.
 */
const endpoint = { host: '127.0.0.1', port: 995, security: 'tls' as const, tls: { verify: true } };
const mailbox = (role: string, user: string, env: string) => ({ role, user, address: `${user}@lab.test`, passwordEnv: env });
const target: RunTarget = {
  name: 'lab',
  host: '127.0.0.1',
  file: '(test)',
  endpoints: { pop3s: endpoint, submission: { ...endpoint, port: 587, security: 'starttls' } },
  accounts: {
    primary: { ...mailbox('primary', 'alice', 'P1'), standIns: [mailbox('primary', 'dave', 'P1B'), mailbox('primary', 'bob', 'P2')] },
    secondary: mailbox('secondary', 'bob', 'P2'),
  },
  timeouts: { ...DEFAULT_TIMEOUTS },
  capabilitiesRequired: {},
};

function scenario(id: string, roles: string[]): Scenario {
  const text = [
    `name: ${id}`,
    'sessions:',
    ...roles.map((role, i) => `  s${i}: { protocol: pop3, endpoint: pop3s, account: ${role} }`),
    'steps:',
    ...roles.map((role) => `  - { action: smtp.send, with: { account: ${role}, to: ["\${accounts.${role}.address}"] } }`),
    'cleanup:',
    ...roles.map((_role, i) => `  - { action: pop3.cleanup, session: s${i} }`),
  ].join('\n');
  return { ...loadScenarioSource(text, `/virtual/${id}.yaml`, { root: '/virtual', actions: actionSignatures }), id };
}

describe('the views a scenario may run with', () => {
  it("the target's own accounts first, then each stand-in; the view's accounts, and what it says, are the stand-in's", () => {
    const views = targetViews(scenario('one', ['primary']), target);
    expect(views.map((v) => v.target.accounts.primary?.user)).toEqual(['alice', 'dave', 'bob']);
    expect(views.map((v) => v.standIns)).toEqual([{}, { primary: 'dave' }, { primary: 'bob' }]);
    // The rest of the pool stays reachable, for what asks for every mailbox (an alias's claims).
    expect(views[1]?.target.accounts.primary?.standIns?.map((s) => s.user)).toEqual(['alice', 'bob']);
    expect(views[1]?.target.accounts.primary?.passwordEnv).toBe('P1B');
    // Each view's claims are on its own mailbox, so two of them never conflict with each other.
    const [own, dave] = views.map((v) => scenarioClaims(scenario('one', ['primary']), v.target));
    expect(claimsConflict(own!, own!)).toBe(true);
    expect(claimsConflict(own!, dave!)).toBe(false);
  });

  it('never puts one mailbox in two roles of a scenario: bob may stand in for primary only where secondary is not used', () => {
    const both = targetViews(scenario('two', ['primary', 'secondary']), target);
    expect(both.map((v) => [v.target.accounts.primary?.user, v.target.accounts.secondary?.user])).toEqual([
      ['alice', 'bob'],
      ['dave', 'bob'],
    ]);
  });

  it('a scenario on roles without stand-ins has one view: the target itself', () => {
    const views = targetViews(scenario('sec', ['secondary']), target);
    expect(views).toHaveLength(1);
    expect(views[0]?.target).toBe(target);
  });
});

describe('the schedule with several ways to run a scenario', () => {
  it('takes the first way that fits: the second scenario on the INBOX runs at once on the stand-in, the third waits', async () => {
    const s = scenario('one', ['primary']);
    const ways = targetViews(s, { ...target, accounts: { primary: { ...target.accounts.primary!, standIns: [mailbox('primary', 'dave', 'P1B')] } } }).map((v) =>
      scenarioClaims(s, v.target),
    );
    const entries: ScheduleEntry[] = [];
    const releases: Array<() => void> = [];
    const done = runScheduled(
      [ways, ways, ways],
      { concurrency: 4, maxPerHost: Number.POSITIVE_INFINITY, signal: new AbortController().signal },
      (_index, entry) =>
        new Promise<void>((resolve) => {
          entries.push(entry);
          releases.push(resolve);
        }),
      async () => undefined,
    );
    await new Promise((r) => setImmediate(r));
    expect(entries.map((e) => [e.index, e.option])).toEqual([
      [0, 0],
      [1, 1],
    ]);
    releases[0]!();
    await new Promise((r) => setImmediate(r));
    // The account's own INBOX is free again: the third takes it, not the busy stand-in.
    expect(entries.map((e) => [e.index, e.option])).toEqual([
      [0, 0],
      [1, 1],
      [2, 0],
    ]);
    for (const release of releases.slice(1)) release();
    await done;
  });

  it('at concurrency 1 every scenario takes the first way: a serial run never uses a stand-in', async () => {
    const s = scenario('one', ['primary']);
    const ways = targetViews(s, target).map((v) => scenarioClaims(s, v.target));
    const options: number[] = [];
    await runScheduled(
      [ways, ways, ways],
      { concurrency: 1, maxPerHost: 4, signal: new AbortController().signal },
      async (_i, entry) => {
        options.push(entry.option);
      },
      async () => undefined,
    );
    expect(options).toEqual([0, 0, 0]);
  });
});

describe('stand_ins in a target file', () => {
  const file = (standIns: string) =>
    [
      'name: t',
      'host: 127.0.0.1',
      'tls: { verify: false }',
      'endpoints: { pop3s: { port: 995, security: tls } }',
      'accounts:',
      '  primary: { user: alice, address: alice@x.test, password_env: P1,',
      `    stand_ins: [${standIns}] }`,
      '',
    ].join('\n');

  it('are read with the role of their account, at their place in the file', () => {
    const t = loadTargetSource(file('{ user: dave, address: dave@x.test, password_env: P1B }'), 't.yaml', '/');
    expect(t.accounts.primary?.standIns?.map((s) => [s.role, s.user, s.address, s.passwordEnv, s.source.line])).toEqual([
      ['primary', 'dave', 'dave@x.test', 'P1B', 7],
    ]);
  });

  it('a mailbox listed twice, or the account itself, is refused at its line and column', () => {
    const err = (() => {
      try {
        loadTargetSource(file('{ user: alice, address: a2@x.test, password_env: P1B }'), 't.yaml', '/');
      } catch (e) {
        return e;
      }
    })() as LoadError;
    expect(err).toBeInstanceOf(LoadError);
    expect(err.diagnostics.map((d) => `${d.pos.line}:${d.pos.col}: ${d.message}`)).toEqual([
      "7:17: stand-in 'alice' of account 'primary' is already that account or one of its stand-ins; list each mailbox once",
    ]);
  });

  it("a stand-in's password is needed only when scenarios run at once, and is then asked for at its password_env", () => {
    const t = loadTargetSource(file('{ user: dave, address: dave@x.test, password_env: P1B }'), 't.yaml', '/');
    expect(missingSecrets(t, ['primary'], { P1: 'x' })).toEqual([]);
    expect(missingSecrets(t, ['primary'], { P1: 'x' }, { standIns: true }).map((d) => `${d.pos.line}:${d.pos.col}: ${d.message}`)).toEqual([
      "7:67: the password for stand-in 'dave' of account 'primary' is read from environment variable P1B, which is not set (did you mean 'P1'?); export it, or put it in a --secrets-file",
    ]);
  });
});
