import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildSampleRun, CANARY_PASSWORD, sampleRedactor } from '../support/sample-results.js';
import { DEFAULT_THRESHOLD, DiffCapture, DiffInputError, diffReports, parseJsonReport, parseThreshold, type DiffReport } from '../../src/reporters/diff.js';
import { renderDiff } from '../../src/reporters/diff-render.js';
import { baselineGate, diffExitCode } from '../../src/cli/commands/report.js';

/**
 * Golden tests of `report diff` over two recorded runs: `mailprobe run
 * suites/pop3 suites/smtp --reporter json=FILE` through the built CLI against
 * the fake host (startFakeHostWithTarget, test/support/cli.ts), once as it is
 * (fixtures/reports/baseline.json) and once with the Pop3Faults `ignoreRset`
 * and `noStlsCapa` set (current.json). Re-recording changes the run ids and
 * times in the golden files (test/unit/golden/report-diff.*). The fake host's
 * implicit-TLS sessions never list STLS, so no capability changed on the wire
 * between the two; `upgraded()` below edits a copy of the current run by hand
 * to add a capability change, a slower delivery, and one scenario removed and
 * one added, as a real upgrade would.
 */
const REPORTS = join(import.meta.dirname, '..', '..', 'fixtures', 'reports');
const text = (name: string) => readFileSync(join(REPORTS, name), 'utf8');
const baseline = parseJsonReport(text('baseline.json'));
const current = parseJsonReport(text('current.json'));

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function upgraded(): DiffReport {
  const copy = JSON.parse(text('current.json')) as { scenarios: Array<Mutable<DiffReport['scenarios'][number]>> };
  const relay = copy.scenarios.find((s) => s.id === 'smtp/no-open-relay')!;
  // EHLO after the upgrade: PIPELINING gone, CHUNKING new.
  relay.capabilities = { ...relay.capabilities, mx: ['8BITMIME', 'SMTPUTF8', 'AUTH', 'STARTTLS', 'CHUNKING'] };
  const quit = copy.scenarios.find((s) => s.id === 'pop3/commit-at-quit')!;
  // Baseline 16 ms; 900 ms is beyond both +50% and +200 ms.
  quit.properties = { ...quit.properties, delivery_ms: '900' };
  copy.scenarios = copy.scenarios.filter((s) => s.id !== 'smtp/pipelining');
  copy.scenarios.push({ ...quit, id: 'pop3/new-in-this-version', properties: { ...quit.properties } });
  return parseJsonReport(JSON.stringify(copy));
}

describe('report diff of two recorded runs', () => {
  it('finds the two scenarios that newly fail, and gates', () => {
    const diff = diffReports(baseline, current);
    expect(diff.states).toEqual([
      { id: 'pop3/rset', kind: 'newly-failing', from: 'passed', to: 'failed' },
      { id: 'pop3/stls', kind: 'newly-failing', from: 'passed', to: 'failed' },
    ]);
    expect(diff.capabilities).toEqual([]);
    expect(diff.latency).toEqual([]);
    expect(diff.added).toEqual([]);
    expect(diff.removed).toEqual([]);
    expect(diff.regressed).toBe(true);
    expect(diffExitCode(diff.regressed)).toBe(1);
  });

  it('lists checks whose actual value changed, but not a value that differs only by the run id', () => {
    const diff = diffReports(baseline, current);
    const stls = diff.checks.find((c) => c.id === 'pop3/stls' && c.check === 'CAPA on the plain port lists STLS');
    expect(stls).toMatchObject({ baseline: 'true', current: 'false' });
    // The unknown recipient's address holds each run's id; the refusal is otherwise the same.
    expect(diff.checks.filter((c) => c.id === 'smtp/unknown-recipient')).toEqual([]);
  });

  it('in reverse, improvements only: newly passing, exit 0', () => {
    const diff = diffReports(current, baseline);
    expect(diff.states.map((s) => [s.id, s.kind])).toEqual([
      ['pop3/rset', 'newly-passing'],
      ['pop3/stls', 'newly-passing'],
    ]);
    expect(diff.regressed).toBe(false);
    expect(diffExitCode(diff.regressed)).toBe(0);
  });

  it('a run against itself: nothing changed, no regression', () => {
    const diff = diffReports(baseline, baseline);
    expect([diff.states, diff.capabilities, diff.latency, diff.checks, diff.added, diff.removed]).toEqual([[], [], [], [], [], []]);
    expect(diff.regressed).toBe(false);
  });

  it('finds a capability gone and one new per session, a slower delivery, and scenarios added and removed', () => {
    const diff = diffReports(baseline, upgraded());
    expect(diff.capabilities).toEqual([{ id: 'smtp/no-open-relay', session: 'mx', protocol: 'smtp', gone: ['PIPELINING'], added: ['CHUNKING'] }]);
    expect(diff.latency).toEqual([{ id: 'pop3/commit-at-quit', measure: 'delivery_ms', baselineMs: 16, currentMs: 900 }]);
    expect(diff.added).toEqual(['pop3/new-in-this-version']);
    expect(diff.removed).toEqual(['smtp/pipelining']);
    // Added and removed scenarios are no state change.
    expect(diff.states.map((s) => s.id)).toEqual(['pop3/rset', 'pop3/stls']);
    expect(diff.regressed).toBe(true);
  });

  it('a capability gone gates by itself, a new one does not', () => {
    const relayOnly = (r: DiffReport): DiffReport => ({ ...r, scenarios: r.scenarios.filter((s) => s.id === 'smtp/no-open-relay') });
    const after = relayOnly(upgraded());
    expect(diffReports(relayOnly(baseline), after).regressed).toBe(true);
    const onlyNew = {
      ...after,
      scenarios: after.scenarios.map((s) => ({ ...s, capabilities: { mx: [...baseline.scenarios.find((b) => b.id === s.id)!.capabilities.mx!, 'CHUNKING'] } })),
    };
    const diff = diffReports(relayOnly(baseline), onlyNew);
    expect(diff.capabilities).toEqual([{ id: 'smtp/no-open-relay', session: 'mx', protocol: 'smtp', gone: [], added: ['CHUNKING'] }]);
    expect(diff.regressed).toBe(false);
  });

  it('renders the upgraded diff as a console table, Markdown and JSON (golden files)', async () => {
    const diff = diffReports(baseline, upgraded());
    await expect(renderDiff(diff, 'console')).toMatchFileSnapshot('golden/report-diff.console.txt');
    await expect(renderDiff(diff, 'markdown')).toMatchFileSnapshot('golden/report-diff.md');
    await expect(renderDiff(diff, 'json')).toMatchFileSnapshot('golden/report-diff.json');
    expect(JSON.parse(renderDiff(diff, 'json'))).toMatchObject({ diffVersion: 1, regressed: true, removed: ['smtp/pipelining'] });
  });
});

describe('latency threshold', () => {
  const one = (durationMs: number, delivery?: number): DiffReport => ({
    schemaVersion: 1,
    runId: `r${durationMs}`,
    scenarios: [
      {
        id: 'x',
        name: 'x',
        state: 'passed',
        durationMs,
        steps: [],
        capabilities: {},
        properties: delivery === undefined ? {} : { delivery_ms: String(delivery), idle_push_latency_ms: String(delivery) },
      },
    ],
  });

  it('needs both the percentage and the milliseconds (default +50% and +200 ms)', () => {
    expect(DEFAULT_THRESHOLD).toEqual({ percent: 50, ms: 200 });
    // +200%, but only +6 ms: no regression.
    expect(diffReports(one(3), one(9)).latency).toEqual([]);
    // +300 ms, but only +1.5%: no regression.
    expect(diffReports(one(20_000), one(20_300)).latency).toEqual([]);
    // +300 ms and +300%: regression, for the scenario time and for delivery and IDLE push alike.
    expect(diffReports(one(100, 100), one(400, 400)).latency.map((l) => l.measure)).toEqual(['duration', 'delivery_ms', 'idle_push_latency_ms']);
    // Faster is no regression.
    expect(diffReports(one(400, 400), one(100, 100)).latency).toEqual([]);
    expect(diffReports(one(100), one(400), { percent: 500, ms: 200 }).latency).toEqual([]);
  });

  it('does not compare times of a scenario that did not pass in both runs', () => {
    const failed = { ...one(5000), scenarios: one(5000).scenarios.map((s) => ({ ...s, state: 'failed' as const })) };
    expect(diffReports(one(100), failed).latency).toEqual([]);
  });

  it('parses PERCENT%, MILLISECONDSms or both', () => {
    expect(parseThreshold('100%')).toEqual({ percent: 100, ms: 200 });
    expect(parseThreshold('500ms')).toEqual({ percent: 50, ms: 500 });
    expect(parseThreshold('25%,1000ms')).toEqual({ percent: 25, ms: 1000 });
    for (const bad of ['', 'abc', '50', '-5%', '50%,', '1s']) expect(() => parseThreshold(bad), bad).toThrow(/bad threshold/);
  });
});

describe('reading a JSON report', () => {
  const fails = (t: string) => {
    try {
      parseJsonReport(t);
    } catch (err) {
      expect(err).toBeInstanceOf(DiffInputError);
      return err as DiffInputError;
    }
    throw new Error('no error');
  };

  it('refuses text that is not JSON, saying where', () => {
    const err = fails('{\n  "schemaVersion": 1,\n  oops\n}');
    expect(err.message).toMatch(/^not JSON: /);
    expect([err.line, err.col]).toEqual([3, 3]);
  });

  it('refuses JSON without a schemaVersion, or of another one', () => {
    expect(fails('{"scenarios": []}').message).toMatch(/no schemaVersion/);
    expect(fails('{"schemaVersion": 2, "runId": "x", "scenarios": []}').message).toBe(
      'unsupported report schemaVersion 2; this mailprobe reads schemaVersion 1',
    );
    expect(fails('[1, 2]').message).toMatch(/top level is not an object/);
  });

  it('refuses a report of the right version but the wrong shape, naming the field', () => {
    expect(fails('{"schemaVersion": 1, "runId": "x", "scenarios": [{"id": 3}]}').message).toMatch(/^not a mailprobe JSON report: scenarios\.0\.id: /);
  });
});

describe('run --baseline exit code', () => {
  it("is the worse of the run's own code and the gate, a regression counting as failed", () => {
    expect(baselineGate(0, false)).toBe(0);
    expect(baselineGate(0, true)).toBe(1);
    expect(baselineGate(1, false)).toBe(1);
    expect(baselineGate(3, true)).toBe(1);
    expect(baselineGate(3, false)).toBe(3);
    expect(baselineGate(4, false)).toBe(4);
    expect(baselineGate(4, true)).toBe(1);
    expect(baselineGate(2, true)).toBe(2);
    expect(baselineGate(130, true)).toBe(130);
  });
});

describe('run --baseline capture', () => {
  it('diffs the run as its JSON report holds it: redacted, so a password a server echoed in a check value is not shown', () => {
    const run = buildSampleRun();
    const echoed = structuredClone(run) as unknown as { scenarios: Array<{ steps: Array<{ checks: Array<{ actual: string }> }> }> };
    const check = echoed.scenarios.flatMap((s) => s.steps).flatMap((s) => s.checks)[0]!;
    check.actual = `+OK Logged in as alice (${CANARY_PASSWORD})`;
    const before = new DiffCapture(sampleRedactor());
    before.onRunEnd(run);
    const after = new DiffCapture(sampleRedactor());
    after.onRunEnd(echoed as unknown as typeof run);
    const diff = diffReports(before.report!, after.report!);
    expect(diff.checks.length, 'the echoed value is a changed check').toBe(1);
    for (const format of ['console', 'markdown', 'json'] as const) expect(renderDiff(diff, format)).not.toContain(CANARY_PASSWORD);
    expect(JSON.stringify(after.report)).not.toContain(CANARY_PASSWORD);
  });
});
