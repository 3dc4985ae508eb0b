import pc from 'picocolors';
import { describe, expect, it } from 'vitest';
import { renderConsoleScenario } from '../../src/reporters/console.js';
import { renderJUnit } from '../../src/reporters/junit.js';
import { redactRun } from '../../src/reporters/redact-result.js';
import { renderTap } from '../../src/reporters/tap.js';
import { buildSampleRun, sampleRedactor } from '../support/sample-results.js';

/**
 * A step with two failed checks: every format names both, not only the first
 * (JSON has carried them in failure.checks; the others dropped all but one).
 */
const run = redactRun(buildSampleRun(), sampleRedactor());
const failed = run.scenarios.find((s) => s.state === 'failed')!;
const SECOND = 'no octets of the deleted message are sent';

describe('every failed check of a step reaches every report', () => {
  it('the sample has a step with two failed checks', () => {
    expect(failed.state === 'failed' && failed.failure.checks.map((c) => c.message)).toEqual([
      'RETR of a message marked deleted must fail, but the server sent it',
      SECOND,
    ]);
  });

  it('console', () => {
    const text = renderConsoleScenario(failed, pc.createColors(false), process.cwd());
    expect(text).toContain(SECOND);
    expect(text).toContain('also failed (2 of 2)');
    expect(text).toContain('suites/pop3/dele-marks-deleted.yaml:23:9');
  });

  it('JUnit: the failure body and message', () => {
    const xml = renderJUnit(run, { strict: false, cwd: process.cwd() });
    expect(xml).toContain(SECOND);
    expect(xml).toMatch(/<failure message="[^"]*\(and 1 more failed check\)"/);
  });

  it('TAP: the YAML block lists it under also', () => {
    const tap = renderTap(run, { cwd: process.cwd() });
    expect(tap).toContain(`message: ${SECOND}`);
    expect(tap).toMatch(/\n {2}also:\n/);
  });
});
