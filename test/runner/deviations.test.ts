import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { actionSignatures } from '../../src/actions/registry.js';
import type { KnownDeviation } from '../../src/core/checks.js';
import { judgeDeviations } from '../../src/runner/deviations.js';
import type { CheckResult, ScenarioResult, StepResult } from '../../src/runner/results.js';
import { scenarioVerdict } from '../../src/runner/verdict.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import type { Scenario } from '../../src/scenario/model.js';

/**
 * Known deviations judged over the step results of the shipped imap/uid-stability, as a
 * server without [UIDNEXT] in SELECT (Courier) makes them: which checks a profile excuses,
 * which still fail, and what the verdict becomes.
 */
let scenario: Scenario;
beforeAll(async () => {
  scenario = await loadScenarioFile(path.resolve('suites/imap/uid-stability.yaml'), { root: path.resolve('suites'), actions: actionSignatures });
});

const ID = 'imap/uid-stability';
const deviation = (check: string): KnownDeviation => ({ check: `${ID}#${check}`, reason: 'Courier sends UIDNEXT only in STATUS', rfc: 'RFC 9051 §6.3.2' });

const pass = (id?: string): CheckResult => ({ description: id ?? 'accepted', passed: true, expected: 'x', actual: 'x', ...(id ? { id } : {}) });
const absent = (id: string): CheckResult => ({ description: id, passed: false, expected: 'present', actual: '(absent)', id });
const notJudged = (id: string, item: string): CheckResult => ({
  description: id,
  passed: false,
  expected: 'x',
  actual: `not judged: the server did not send ${item}`,
  id,
  notJudged: item,
});
const wrong = (id: string): CheckResult => ({ description: id, passed: false, expected: 'true', actual: 'false', id });

function stepResult(i: number, state: 'passed' | 'failed', checks: CheckResult[], missing?: string[]): StepResult {
  const step = scenario.steps[i]!;
  return {
    name: step.name,
    action: step.action,
    source: step.source,
    durationMs: 1,
    transcript: [],
    state,
    checks,
    ...(missing ? { missing } : {}),
  } as StepResult;
}

/** The first five steps as a server without [UIDNEXT] answers them; the scenario goes on after each missing item. */
function courierSteps(): StepResult[] {
  return [
    stepResult(0, 'passed', [pass()]),
    stepResult(1, 'failed', [pass(), absent('uidnext-in-select'), pass('uidvalidity-in-select')], ['uidnext']),
    stepResult(2, 'passed', [pass()]),
    stepResult(
      3,
      'failed',
      [pass(), pass('laptop-finds-its-uid-found'), notJudged('laptop-finds-its-uid-uid', 'captures.s1.uidnext')],
      ['captures.s1.uidnext'],
    ),
    stepResult(4, 'failed', [pass(), absent('uidnext-in-phone-select'), pass('uidvalidity-same-on-phone'), notJudged('phone-sees-x', 'uidnext')], ['uidnext']),
  ];
}

function verdictOf(steps: StepResult[], profile: KnownDeviation[]): ScenarioResult {
  const judged = judgeDeviations(scenario, steps, profile);
  const common = {
    id: ID,
    name: scenario.name,
    file: scenario.file,
    line: 1,
    tags: [],
    rfc: [],
    durationMs: 1,
    startedAt: 0,
    steps: judged.steps,
    cleanup: [],
    properties: {},
    capabilities: {},
    leftovers: [],
    ...(judged.deviations.length > 0 ? { deviations: judged.deviations } : {}),
  };
  return scenarioVerdict(common, judged.steps, []);
}

describe('known deviations', () => {
  it('without a profile the missing UIDNEXT fails the scenario at its first check, as before', () => {
    const r = verdictOf(courierSteps(), []);
    expect(r.state).toBe('failed');
    if (r.state !== 'failed') return;
    expect(r.failure.check).toBe(`${ID}#uidnext-in-select`);
    expect(r.deviations).toBeUndefined();
  });

  it('a listed absence is a known deviation; the checks it left unjudged follow it; a later unlisted failure still fails, by name', () => {
    const r = verdictOf(courierSteps(), [deviation('uidnext-in-select')]);
    expect(r.state).toBe('failed');
    if (r.state !== 'failed') return;
    // The laptop's own "uid at_least captures.s1.uidnext" follows from the listed deviation; the phone's SELECT is another check.
    expect(r.failure.check).toBe(`${ID}#uidnext-in-phone-select`);
    expect(r.failure.step).toBe('phone sees the same UIDVALIDITY and a UIDNEXT past the new message');
    expect(r.deviations).toEqual([
      expect.objectContaining({
        check: `${ID}#uidnext-in-select`,
        status: 'known',
        reason: 'Courier sends UIDNEXT only in STATUS',
        rfc: 'RFC 9051 §6.3.2',
        notJudged: 1,
      }),
    ]);
    const find = r.steps[3]!;
    expect(find.checks.find((c) => c.id === 'laptop-finds-its-uid-uid')?.deviation).toBe(`${ID}#uidnext-in-select`);
  });

  it('with every missing UIDNEXT listed the scenario passes, listing each deviation with its reason and clause', () => {
    const r = verdictOf(courierSteps(), [deviation('uidnext-in-select'), deviation('uidnext-in-phone-select')]);
    expect(r.state).toBe('passed');
    expect(r.deviations?.map((d) => [d.check, d.status, d.notJudged])).toEqual([
      [`${ID}#uidnext-in-select`, 'known', 1],
      [`${ID}#uidnext-in-phone-select`, 'known', 1],
    ]);
  });

  it('a listed check that passes is a fixed deviation, and the verdict is the run’s own', () => {
    const steps = [stepResult(0, 'passed', [pass()]), stepResult(1, 'passed', [pass(), pass('uidnext-in-select'), pass('uidvalidity-in-select')])];
    const r = verdictOf(steps, [deviation('uidnext-in-select'), deviation('uidnext-in-reselect')]);
    expect(r.state).toBe('passed');
    // uidnext-in-reselect never ran: it is neither known nor fixed.
    expect(r.deviations).toEqual([expect.objectContaining({ check: `${ID}#uidnext-in-select`, status: 'fixed' })]);
  });

  it('only a failed check can be a deviation: an errored step stays errored and lists none', () => {
    const errored = { ...stepResult(1, 'passed', []), state: 'errored', problem: { code: 'ETIMEOUT', message: 'no reply' } } as StepResult;
    const r = verdictOf([stepResult(0, 'passed', [pass()]), errored], [deviation('uidnext-in-select')]);
    expect(r.state).toBe('errored');
    expect(r.deviations).toBeUndefined();
  });

  it('a listed failure that is not a missing item stops the scenario as any failure does, and says the rest was not judged', () => {
    const steps = [stepResult(0, 'passed', [pass()]), stepResult(1, 'failed', [pass(), pass('uidnext-in-select'), wrong('uidvalidity-in-select')])];
    const r = verdictOf(steps, [deviation('uidvalidity-in-select')]);
    expect(r.state).toBe('passed');
    expect(r.deviations).toEqual([expect.objectContaining({ check: `${ID}#uidvalidity-in-select`, status: 'known', stepsNotRun: scenario.steps.length - 2 })]);
  });

  it('an unlisted failure in the same step as a listed one fails the scenario, naming only the unlisted check', () => {
    const steps = [stepResult(0, 'passed', [pass()]), stepResult(1, 'failed', [pass(), absent('uidnext-in-select'), wrong('uidvalidity-in-select')])];
    const r = verdictOf(steps, [deviation('uidnext-in-select')]);
    expect(r.state).toBe('failed');
    if (r.state !== 'failed') return;
    expect(r.failure.checks.map((c) => c.check)).toEqual([`${ID}#uidvalidity-in-select`]);
    expect(r.deviations?.map((d) => d.status)).toEqual(['known']);
  });
});
