import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../src/cli/commands/load.js';
import { DEFAULT_MIX_TEXT, MixError, parseMix, picker } from '../../src/load/mix.js';
import { loadExitCode, renderLoadConsole, renderLoadJson } from '../../src/load/render.js';
import type { LoadResult } from '../../src/load/result.js';
import { CommandStats, percentile, summarise } from '../../src/load/stats.js';
import { diffReports, parseJsonReport } from '../../src/reporters/diff.js';

describe('load mix', () => {
  it('parses weights case-insensitively and drops zero weights', () => {
    expect(parseMix('fetch=40, STORE=20,noop=0')).toEqual([
      { command: 'FETCH', weight: 40 },
      { command: 'STORE', weight: 20 },
    ]);
    expect(parseMix(DEFAULT_MIX_TEXT).map((e) => e.command)).toEqual(['FETCH', 'STORE', 'APPEND', 'SELECT', 'EXPUNGE']);
  });

  it.each([
    ['', /empty/],
    ['FETCH', /not COMMAND=WEIGHT/],
    ['FETCH=-1', /not COMMAND=WEIGHT/],
    ['FETCH=1.5', /not COMMAND=WEIGHT/],
    ['FECTH=10', /unknown command 'FECTH'/],
    ['LOGIN=5', /LOGIN has no weight/],
    ['FETCH=1,fetch=2', /given twice/],
    ['FETCH=0,STORE=0', /every weight is 0/],
  ])('refuses %j with a one-line reason', (text, reason) => {
    let thrown: unknown;
    try {
      parseMix(text);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(MixError);
    expect((thrown as Error).message).toMatch(reason);
    expect((thrown as Error).message).not.toContain('\n');
  });

  it('picks by weight', () => {
    // A fixed sequence of draws across [0, 1): weights 3:1 must split 75:25.
    let i = 0;
    const pick = picker(parseMix('FETCH=3,STORE=1'), () => (i++ % 100) / 100);
    const seen = Array.from({ length: 100 }, () => pick());
    expect(seen.filter((c) => c === 'FETCH')).toHaveLength(75);
    expect(seen.filter((c) => c === 'STORE')).toHaveLength(25);
  });
});

describe('load percentiles', () => {
  it('nearest rank', () => {
    const values = Float64Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 95)).toBe(95);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });

  it('counts errors apart from latencies, and sorts numerically', () => {
    const stats = new CommandStats();
    for (const ms of [10, 2, 300, 4, 5000]) stats.record('ok', ms);
    stats.record('failed', 0);
    stats.record('errored', 0);
    stats.record('inconclusive', 0);
    for (let i = 0; i < 2000; i++) stats.record('ok', 1); // past the first growth of the sample buffer
    const s = summarise('FETCH', stats);
    expect(s).toMatchObject({ command: 'FETCH', count: 2005, failed: 1, errored: 1, inconclusive: 1, p50Ms: 1, maxMs: 5000 });
    expect(s.p99Ms).toBe(1);
  });

  it('parses durations', () => {
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('5')).toBe(5000);
    expect(() => parseDuration('soon')).toThrow(/not a duration/);
    expect(() => parseDuration('10ms')).toThrow(/from 100ms/);
  });
});

function result(p95: number, extra: Partial<LoadResult> = {}): LoadResult {
  const summary = { failed: 0, errored: 0, inconclusive: 0, p50Ms: 0.5, p95Ms: p95, p99Ms: p95 * 2, maxMs: 9 };
  return {
    runId: 'r1',
    startedAt: 0,
    measuredMs: 20_000,
    settings: {
      protocol: 'imap',
      clients: 10,
      durationMs: 20_000,
      mix: 'FETCH=1',
      reconnect: false,
      sessionCommands: 6,
      accounts: ['primary'],
      maxConnectionsPerHost: 10,
      connectRate: 500,
      endpoint: '127.0.0.1:143',
    },
    commands: [
      { command: 'LOGIN', count: 10, ...summary },
      { command: 'FETCH', count: 1000, ...summary },
    ],
    totalCommands: 1010,
    logins: 10,
    interrupted: false,
    leftovers: [],
    ...extra,
  };
}

const TARGET = { name: 'lab', host: '127.0.0.1', file: '(lab)', insecure: false };

describe('load JSON report', () => {
  it('is a report `report diff` reads, one scenario per command with p50/p95/p99 in ms', () => {
    const report = parseJsonReport(renderLoadJson(result(2), '0.0.0', TARGET));
    expect(report.scenarios.map((s) => s.id)).toEqual(['load/imap/LOGIN', 'load/imap/FETCH']);
    const fetch = report.scenarios[1]!;
    expect(fetch.state).toBe('passed');
    expect(fetch.properties).toMatchObject({ count: '1000', p50_ms: '0.5', p95_ms: '2', p99_ms: '4', per_second: '50' });
    expect((report as unknown as { load: { commandsPerSecond: number; loginsPerSecond: number } }).load).toMatchObject({
      commandsPerSecond: 50.5,
      loginsPerSecond: 0.5,
    });
  });

  it('a doubled p95 is a latency regression; the same p95 is none', () => {
    const before = parseJsonReport(renderLoadJson(result(2), '0.0.0', TARGET));
    const after = parseJsonReport(renderLoadJson(result(4), '0.0.0', TARGET));
    const threshold = { percent: 50, ms: 1 };
    const diff = diffReports(before, after, threshold);
    expect(diff.regressed).toBe(true);
    expect(diff.latency.map((l) => `${l.id} ${l.measure}`)).toEqual(expect.arrayContaining(['load/imap/FETCH p95_ms']));
    expect(diffReports(before, before, threshold).regressed).toBe(false);
  });

  it('commands that failed make a failed scenario and exit 1; errored exit 3; only temporary refusals exit 4', () => {
    const failing = result(2);
    const withFailure = { ...failing, commands: [{ ...failing.commands[1]!, failed: 1 }] };
    expect(parseJsonReport(renderLoadJson(withFailure, '0', TARGET)).scenarios[0]!.state).toBe('failed');
    expect(loadExitCode(withFailure)).toBe(1);
    expect(loadExitCode({ ...failing, commands: [{ ...failing.commands[1]!, errored: 1 }] })).toBe(3);
    expect(loadExitCode({ ...failing, commands: [{ ...failing.commands[1]!, inconclusive: 1 }] })).toBe(4);
    expect(loadExitCode({ ...failing, setupError: 'connect ECONNREFUSED' })).toBe(3);
    expect(loadExitCode({ ...failing, leftovers: ['alice:mailprobe-r1-load-1'] })).toBe(3);
    expect(loadExitCode({ ...failing, interrupted: true })).toBe(130);
    expect(loadExitCode(failing)).toBe(0);
  });

  it('the console table names every command, and the totals', () => {
    const text = renderLoadConsole(result(2));
    expect(text).toMatch(/^FETCH\s+1000\s+0\s+0\.500\s+2\.000\s+4\.000/m);
    expect(text).toContain('total 1010 commands in 20.0 s: 50.5 commands/s, 10 logins, 0.5 logins/s');
  });
});
