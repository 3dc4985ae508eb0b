import { describe, expect, it } from 'vitest';
import type { ActionContext } from '../../src/actions/context.js';
import { InterpolationError } from '../../src/interpolate/index.js';
import { ImapReplyError } from '../../src/protocols/imap/errors.js';
import { Pop3ReplyError } from '../../src/protocols/pop3/errors.js';
import { RequirementFailure, SkipScenario } from '../../src/protocols/outcomes.js';
import { judgeStep, runStep, type StepEnvironment } from '../../src/runner/run-step.js';
import type { Expectation, Scenario, Step } from '../../src/scenario/model.js';
import { TransportError } from '../../src/transport/errors.js';
import { Redactor } from '../../src/transport/redact.js';
import { Transcript } from '../../src/transport/transcript.js';

/**
 * Step judging without a server: actions from the real registry run against
 * a context whose sessions are stand-ins that answer or throw as each row says.
 */
const at = (line: number) => ({ file: 'suites/x.yaml', line, col: 5 });

function expectation(that: string, matcher: string, value: unknown, extra: Partial<Expectation> = {}): Expectation {
  return {
    id: `s-${that}`,
    that,
    matcher: matcher as Expectation['matcher'],
    value,
    source: at(20),
    path: ['steps', 0, 'expect', 0, matcher],
    ...extra,
  } as Expectation;
}

function step(action: string, options: { with?: unknown; expect?: Expectation[]; capture?: Record<string, string> } = {}): Step {
  return {
    index: 0,
    name: 'the step',
    action,
    session: 'laptop',
    with: options.with ?? {},
    capture: options.capture ?? {},
    expect: options.expect ?? [],
    source: at(10),
    path: ['steps', 0],
  };
}

// An unrelated first clause: the implicit check must never cite it.
const SCENARIO = { id: 'x', name: 'x', rfc: ['RFC 2177 §3'] } as unknown as Scenario;

function env(context: Partial<ActionContext>, captures: Record<string, unknown> = {}, resolve?: StepEnvironment['resolve']): StepEnvironment {
  return {
    scenario: SCENARIO,
    transcript: new Transcript(),
    redactor: new Redactor([]),
    resolve: resolve ?? ((tree) => tree),
    captures,
    context: () => context as ActionContext,
  };
}

/** A POP3 session whose STAT answers with `stat()`. */
const pop3 = (stat: () => Promise<unknown>) =>
  ({ session: async (kind: string) => (kind === 'pop3' ? { client: { stat } } : undefined) }) as unknown as Partial<ActionContext>;
/** An IMAP session whose every command answers with `call()`. */
const imap = (call: () => Promise<unknown>) =>
  ({
    session: async (kind: string) =>
      kind === 'imap' ? { session: { noop: call, drain: () => ({ exists: [], expunge: [], flags: [] }), selected: undefined } } : undefined,
  }) as unknown as Partial<ActionContext>;

describe('runStep: what a thrown error becomes', () => {
  const cases: Array<[string, unknown, string, Record<string, unknown>]> = [
    ['a temporary -ERR [SYS/TEMP]', new Pop3ReplyError('STAT', 'try later', 'SYS/TEMP'), 'inconclusive', {}],
    ['a missing capability', new SkipScenario('no UIDL'), 'skipped', { reason: 'no UIDL' }],
    [
      'a transport timeout',
      new TransportError('ETIMEOUT', 'command', 'no reply'),
      'errored',
      { problem: { code: 'ETIMEOUT', message: 'no reply', phase: 'command' } },
    ],
    [
      'a required capability missing',
      new RequirementFailure({ description: 'UIDL announced', passed: false, expected: 'UIDL', actual: 'TOP', rfc: 'RFC 2449 §5' }),
      'failed',
      {},
    ],
    ['an unknown library error', Object.assign(new Error('boom'), { code: 'EWEIRD' }), 'errored', { problem: { code: 'EWEIRD', message: 'boom' } }],
  ];
  it.each(cases)('%s → %s', async (_what, error, state, fields) => {
    const result = await runStep(step('pop3.stat'), env(pop3(async () => Promise.reject(error))));
    expect(result.state).toBe(state);
    expect(result).toMatchObject(fields);
  });

  it('an unknown action is errored, not failed', async () => {
    const result = await runStep(step('pop3.nope'), env({}));
    expect(result).toMatchObject({ state: 'errored', problem: { code: 'EUNKNOWN_ACTION' } });
  });

  it('parameters that are invalid after interpolation are errored with their path', async () => {
    const result = await runStep(step('pop3.list', { with: { msg: -1 } }), env({}));
    expect(result).toMatchObject({ state: 'errored', problem: { code: 'EINVALID_PARAMS' } });
    expect(result.state === 'errored' && result.problem.message).toContain('with.msg');
  });

  it('an undefined variable in an expectation is errored with its position', async () => {
    const resolve: StepEnvironment['resolve'] = (tree, path) => {
      if (path.includes('expect')) throw new InterpolationError('EUNDEFINED_VAR', "undefined variable 'x'", at(21), path);
      return tree;
    };
    const result = await runStep(
      step('pop3.stat', { expect: [expectation('count', 'equals', '${x}')] }),
      env(
        pop3(async () => ({ count: 1, size: 2 })),
        {},
        resolve,
      ),
    );
    expect(result).toMatchObject({ state: 'errored', problem: { code: 'EUNDEFINED_VAR' } });
    expect(result.state === 'errored' && result.problem.message).toContain('suites/x.yaml:21:5');
  });

  it('an unknown matcher is errored', async () => {
    const result = await runStep(step('pop3.stat', { expect: [expectation('count', 'roughly', 1)] }), env(pop3(async () => ({ count: 1, size: 2 }))));
    expect(result).toMatchObject({ state: 'errored', problem: { code: 'EUNKNOWN_MATCHER' } });
  });
});

describe('runStep: the implicit reply check', () => {
  it('a POP3 refusal cites the refused command’s clause, not the scenario’s first', async () => {
    const result = await runStep(step('pop3.stat'), env(pop3(async () => Promise.reject(new Pop3ReplyError('STAT', 'mailbox locked', undefined)))));
    expect(result.state).toBe('failed');
    const [check] = result.checks;
    expect(check).toMatchObject({ passed: false, actual: '-ERR mailbox locked', description: 'the server accepts pop3.stat' });
    expect(check!.rfc).toMatch(/^RFC 1939 §5\b/);
    expect(check!.rfc).not.toContain('2177');
  });

  it('an IMAP refusal cites the clause of its command', async () => {
    const result = await runStep(step('imap.noop'), env(imap(async () => Promise.reject(new ImapReplyError('NOOP', 'NO', 'not now please')))));
    expect(result.state).toBe('failed');
    expect(result.checks[0]!.rfc).toMatch(/^RFC 9051 §6\.1\.2\b/);
  });

  it('a passing step carries no clause for the implicit check', async () => {
    const result = await runStep(step('pop3.stat'), env(pop3(async () => ({ count: 1, size: 2 }))));
    expect(result.state).toBe('passed');
    expect(result.checks).toHaveLength(1);
    expect(result.checks[0]).toMatchObject({ passed: true, actual: 'a positive reply' });
    expect(result.checks[0]!.rfc).toBeUndefined();
  });

  it('a refusal the scenario expects is judged by its expectations only', async () => {
    const expectations = [expectation('ok', 'equals', false), expectation('error.text', 'contains', 'locked', { rfc: 'RFC 1939 §5' })];
    const result = await runStep(
      step('pop3.stat', { expect: expectations }),
      env(pop3(async () => Promise.reject(new Pop3ReplyError('STAT', 'locked', undefined)))),
    );
    expect(result.state).toBe('passed');
    expect(result.checks.map((c) => c.passed)).toEqual([true, true]);
  });
});

describe('judgeStep', () => {
  const identity: StepEnvironment['resolve'] = (tree) => tree;
  const table: Array<[string, string, string | undefined]> = [
    ['pop3.retr', 'RETR 3', 'RFC 1939 §5'],
    ['pop3.top', 'TOP 3 0', 'RFC 1939 §7'],
    ['pop3.quit', 'QUIT', 'RFC 1939 §6'],
    ['pop3.capa', 'CAPA', 'RFC 2449 §5'],
    ['pop3.stls', 'STLS', 'RFC 2595 §4'],
    ['imap.select', 'SELECT mailprobe-1/a', 'RFC 9051 §6.3.2'],
    ['imap.select', 'EXAMINE INBOX', 'RFC 9051 §6.3.3'],
    ['imap.create', 'CREATE mailprobe-1/a', 'RFC 9051 §6.3.4'],
    ['imap.delete', 'DELETE mailprobe-1/a', 'RFC 9051 §6.3.5'],
    ['imap.rename', 'RENAME a b', 'RFC 9051 §6.3.6'],
    ['imap.subscribe', 'UNSUBSCRIBE a', 'RFC 9051 §6.3.8'],
    ['imap.append', 'APPEND INBOX', 'RFC 9051 §6.3.12'],
    ['imap.flags', 'UID STORE 4 +FLAGS', 'RFC 9051 §6.4.6'],
    ['imap.move', 'UID MOVE 4 Archive', 'RFC 6851 §3'],
    ['imap.raw-select', 'A003 SELECT INBOX', 'RFC 9051 §6.3.2'],
    ['imap.cleanup', 'UID EXPUNGE 1:4', 'RFC 4315 §2.1'],
    ['imap.idle-start', 'IDLE', 'RFC 2177 §3'],
    ['smtp.send', 'MAIL FROM', 'RFC 5321 §4.1.1.2'],
    ['smtp.send', 'RCPT TO', 'RFC 5321 §4.1.1.3'],
    ['smtp.send', 'DATA', 'RFC 5321 §4.1.1.4'],
    ['smtp.send', 'STARTTLS', 'RFC 3207 §4'],
    ['smtp.send', 'AUTH PLAIN', 'RFC 4954 §4'],
    ['smtp.send', 'CONN', 'RFC 5321 §3.1'],
    ['pop3.retr', 'XYZZY', undefined],
  ];
  it.each(table)('%s refused at %s cites %s', (action, command, clause) => {
    const protocol = action.split('.')[0];
    const [check] = judgeStep(step(action), { ok: false, error: { reply: 'no', text: 'no', command, protocol } }, identity);
    expect(check!.passed).toBe(false);
    if (clause === undefined) expect(check!.rfc).toBeUndefined();
    else expect(check!.rfc?.startsWith(clause) && /[^\d.]|$/.test(check!.rfc.slice(clause.length, clause.length + 1))).toBe(true);
  });

  it('a matcher name with several underscores reads as words', () => {
    const [, check] = judgeStep(step('pop3.retr', { expect: [expectation('raw', 'delivered_copy_of', 'x')] }), { ok: true, raw: Buffer.from('x') }, identity);
    expect(check!.description).toBe('raw delivered copy of "x"');
  });

  it('an expectation’s own because, clause and position are kept', () => {
    const exp = expectation('count', 'equals', 2, { because: 'both messages are there', rfc: 'RFC 1939 §5' });
    const [, check] = judgeStep(step('pop3.stat', { expect: [exp] }), { ok: true, count: 1 }, identity);
    expect(check).toMatchObject({ description: 'both messages are there', passed: false, expected: '2', actual: '1', rfc: 'RFC 1939 §5', source: at(20) });
  });

  it('every expectation is judged, not only up to the first failure', () => {
    const checks = judgeStep(
      step('pop3.stat', { expect: [expectation('count', 'equals', 2), expectation('size', 'greater_than', 10), expectation('count', 'at_least', 1)] }),
      { ok: true, count: 1, size: 5 },
      identity,
    );
    expect(checks.map((c) => c.passed)).toEqual([true, false, false, true]);
  });

  it('captures are stored only when every check passed', async () => {
    const captures: Record<string, unknown> = {};
    const passing = step('pop3.stat', { capture: { s: 'size' }, expect: [expectation('count', 'equals', 1)] });
    await runStep(
      passing,
      env(
        pop3(async () => ({ count: 1, size: 7 })),
        captures,
      ),
    );
    expect(captures).toEqual({ s: 7 });
    const failing = step('pop3.stat', { capture: { t: 'size' }, expect: [expectation('count', 'equals', 2)] });
    const result = await runStep(
      failing,
      env(
        pop3(async () => ({ count: 1, size: 8 })),
        captures,
      ),
    );
    expect(result.state).toBe('failed');
    expect(captures).toEqual({ s: 7 });
  });
});
