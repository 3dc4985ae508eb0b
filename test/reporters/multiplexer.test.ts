import { describe, expect, it } from 'vitest';
import { ReporterMultiplexer } from '../../src/runner/reporter-multiplexer.js';
import type { Reporter } from '../../src/runner/reporter.js';
import type { RunResult, ScenarioResult } from '../../src/runner/results.js';
import { buildSampleRun, CANARY_PASSWORD, sampleRedactor } from '../support/sample-results.js';
import { Capture } from './support.js';

class Recorder implements Reporter {
  readonly events: string[] = [];
  constructor(readonly name: string) {}
  onScenarioEnd(result: ScenarioResult): void {
    this.events.push(`end:${result.id}`);
  }
  async onRunEnd(result: RunResult): Promise<void> {
    await new Promise((done) => setTimeout(done, 5));
    this.events.push(`run:${result.scenarios.length}`);
  }
}

async function drive(mux: ReporterMultiplexer, run: RunResult): Promise<void> {
  for (const scenario of run.scenarios) await mux.onScenarioEnd(scenario);
  await mux.onRunEnd(run);
}

describe('ReporterMultiplexer', () => {
  it('passes every event to every reporter, in order', async () => {
    const run = buildSampleRun();
    const a = new Recorder('a');
    const b = new Recorder('b');
    const stderr = new Capture();
    const mux = new ReporterMultiplexer([a, b], { stderr });
    await drive(mux, run);
    const expected = [...run.scenarios.map((s) => `end:${s.id}`), 'run:5'];
    expect(a.events).toEqual(expected);
    expect(b.events).toEqual(expected);
    expect(mux.crashed).toBe(false);
    expect(stderr.text).toBe('');
  });

  it('isolates a reporter that throws: the others finish, the crash is reported at the end', async () => {
    const run = buildSampleRun();
    const before = new Recorder('before');
    const after = new Recorder('after');
    let calls = 0;
    const broken: Reporter = {
      name: 'broken',
      onScenarioEnd() {
        calls++;
        if (calls === 2) throw new Error(`cannot render (${CANARY_PASSWORD})`);
      },
      onRunEnd() {
        calls += 100; // must not be reached: a crashed reporter gets no further events
      },
    };
    const stderr = new Capture();
    const mux = new ReporterMultiplexer([before, broken, after], { stderr, redactor: sampleRedactor() });
    await drive(mux, run);
    expect(before.events).toHaveLength(6);
    expect(after.events).toHaveLength(6);
    expect(calls).toBe(2);
    expect(mux.crashed).toBe(true);
    expect(mux.crashes).toHaveLength(1);
    expect(mux.crashes[0]).toMatchObject({ reporter: 'broken', hook: 'onScenarioEnd' });
    expect(stderr.text).toBe('mailprobe: reporter "broken" crashed in onScenarioEnd: cannot render ([redacted]); its output is missing or incomplete\n');
  });

  it('catches a rejected promise as well as a synchronous throw', async () => {
    const good = new Recorder('good');
    const rejecting: Reporter = {
      name: 'rejecting',
      async onRunEnd() {
        throw new Error('disk full');
      },
    };
    const stderr = new Capture();
    const mux = new ReporterMultiplexer([rejecting, good], { stderr });
    await drive(mux, buildSampleRun());
    expect(good.events.at(-1)).toBe('run:5');
    expect(mux.crashes.map((c) => `${c.reporter}/${c.hook}`)).toEqual(['rejecting/onRunEnd']);
    expect(stderr.text).toContain('reporter "rejecting" crashed in onRunEnd: disk full');
  });
});
