import { describe, expect, it } from 'vitest';
import type { CheckResult, StepResult } from '../../src/runner/results.js';
import { scenarioVerdict } from '../../src/runner/verdict.js';
import type { TranscriptEntry } from '../../src/transport/transcript.js';

/** The scenario's verdict from its steps: that of the first step that did not pass. */
const at = (line: number) => ({ file: 's.yaml', line, col: 3 });
const entry = (text: string): TranscriptEntry => ({ at: 0, direction: 'server', session: 'laptop', text });
const COMMON = {
  id: 'pop3/x',
  name: 'x',
  file: 's.yaml',
  line: 1,
  tags: [],
  rfc: ['RFC 2177 §3'],
  durationMs: 5,
  startedAt: 0,
  steps: [],
  cleanup: [],
  properties: {},
  capabilities: {},
  leftovers: [],
} as const;

const pass = (name: string): StepResult => ({
  name,
  action: 'pop3.stat',
  source: at(2),
  durationMs: 1,
  checks: [],
  transcript: [entry(`${name} ok`)],
  state: 'passed',
});
const check = (description: string, passed: boolean, extra: Partial<CheckResult> = {}): CheckResult => ({
  description,
  passed,
  expected: 'e',
  actual: 'a',
  ...extra,
});

describe('scenarioVerdict', () => {
  it('all steps passed → passed', () => {
    expect(scenarioVerdict(COMMON, [pass('a'), pass('b')], []).state).toBe('passed');
  });

  it('no steps → passed', () => {
    expect(scenarioVerdict(COMMON, [], []).state).toBe('passed');
  });

  it('a failed step → failed, with its first failed check on top and every failed check listed', () => {
    const failed: StepResult = {
      ...pass('retr'),
      state: 'failed',
      source: at(7),
      checks: [
        check('accepted', true),
        check('first broken', false, { rfc: 'RFC 1939 §6', source: at(9) }),
        check('fine', true),
        check('second broken', false),
      ],
    };
    const result = scenarioVerdict(COMMON, [pass('a'), failed, pass('after')], []);
    expect(result.state).toBe('failed');
    if (result.state !== 'failed') return;
    expect(result.failure).toMatchObject({ step: 'retr', message: 'first broken', rfc: 'RFC 1939 §6', source: at(9), transcript: failed.transcript });
    expect(result.failure.checks.map((c) => c.message)).toEqual(['first broken', 'second broken']);
    // A check without its own position takes the step's; one without a clause carries none.
    expect(result.failure.checks[1]).toEqual({ message: 'second broken', source: at(7), expected: 'e', actual: 'a' });
  });

  it('the first step that did not pass decides, not the worst', () => {
    const skipped: StepResult = { ...pass('s'), state: 'skipped', reason: 'no MOVE' };
    const errored: StepResult = { ...pass('e'), state: 'errored', problem: { code: 'ETIMEOUT', message: 'slow' } };
    expect(scenarioVerdict(COMMON, [skipped, errored], [])).toMatchObject({ state: 'skipped', reason: 'no MOVE' });
  });

  it('an errored step → errored, with its transcript, or the scenario’s last lines when it has none', () => {
    const errored: StepResult = { ...pass('connect'), state: 'errored', problem: { code: 'ECONNREFUSED', message: 'refused', phase: 'tcp' }, transcript: [] };
    const whole = Array.from({ length: 40 }, (_, i) => entry(`line ${i}`));
    const result = scenarioVerdict(COMMON, [errored], whole);
    expect(result).toMatchObject({ state: 'errored', error: { code: 'ECONNREFUSED', phase: 'tcp', step: 'connect', source: at(2) } });
    expect(result.state === 'errored' && result.error.transcript).toEqual(whole.slice(-30));
  });

  it('an inconclusive step → inconclusive, naming the step', () => {
    const later: StepResult = { ...pass('dele'), state: 'inconclusive', reason: 'the server refused for now: [IN-USE]' };
    expect(scenarioVerdict(COMMON, [later], [])).toMatchObject({ state: 'inconclusive', reason: 'dele: the server refused for now: [IN-USE]' });
  });

  it('a failed step with no failed check is a bug, not a silent pass', () => {
    expect(() => scenarioVerdict(COMMON, [{ ...pass('x'), state: 'failed', checks: [check('ok', true)] }], [])).toThrow(/without a failed check/);
  });
});
