/**
 * The load run's outputs: a console table, and a JSON report of the scenario
 * report's schema (src/reporters/json.ts, schemaVersion 1) so that
 * `mailprobe report diff` compares two load runs: each command is a scenario
 * `load/imap/FETCH` whose properties p50_ms, p95_ms, p99_ms the diff reads as
 * latencies, and whose state is failed/errored/inconclusive when any of its
 * commands were.
 *
 *   mailprobe load: imap 127.0.0.1:10143, 10 persistent clients, 20.0 s, mix FETCH=40,…
 *   command    count  errors   p50 ms   p95 ms   p99 ms
 *   FETCH      81234       0    0.410    0.930    1.610
 *   …
 *   total     203456 commands in 20.0 s: 10172.8 commands/s, 12.1 logins/s
 */
import { perSecond, type LoadResult } from './result.js';
import type { CommandSummary } from './stats.js';

const JSON_SCHEMA_VERSION = 1;

type Verdict = 'passed' | 'failed' | 'errored' | 'inconclusive';

function verdictOf(c: CommandSummary): Verdict {
  if (c.failed > 0) return 'failed';
  if (c.errored > 0) return 'errored';
  if (c.inconclusive > 0) return 'inconclusive';
  return 'passed';
}

const fixed = (n: number) => (Number.isFinite(n) ? n.toFixed(3) : '-');

function clientsText(s: LoadResult['settings']): string {
  if (s.protocol === 'pop3') return 'clients, one POP3 session per cycle';
  if (s.reconnect) return `reconnecting clients (${s.sessionCommands} mix commands per session)`;
  return (s.pipeline ?? 1) > 1 ? `persistent clients, pipeline ${s.pipeline}` : 'persistent clients';
}

export function renderLoadConsole(result: LoadResult): string {
  const s = result.settings;
  const lines = [
    `mailprobe load: ${s.protocol} ${s.endpoint}, ${s.clients} ${clientsText(s)}, ` +
      `${(s.durationMs / 1000).toFixed(1)} s, ${s.protocol === 'pop3' ? 'cycle' : 'mix'} ${s.mix}, accounts ${s.accounts.join(',')}`,
    `  connection budget: at most ${s.maxConnectionsPerHost} open to the host, ${s.connectRate} new per second; run ${result.runId}`,
  ];
  if (result.setupError !== undefined) lines.push(`  could not run: ${result.setupError}`);
  const header = ['command', 'count', 'errors', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms'];
  const rows = result.commands.map((c) => [
    c.command,
    String(c.count),
    String(c.failed + c.errored + c.inconclusive),
    fixed(c.p50Ms),
    fixed(c.p95Ms),
    fixed(c.p99Ms),
    fixed(c.maxMs),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ');
  lines.push(line(header), ...rows.map(line));
  const secs = (result.measuredMs / 1000).toFixed(1);
  lines.push(
    `total ${result.totalCommands} commands in ${secs} s: ${perSecond(result.totalCommands, result.measuredMs)} commands/s, ` +
      `${result.logins} logins, ${perSecond(result.logins, result.measuredMs)} logins/s`,
  );
  const e = result.firstError;
  if (e !== undefined) {
    lines.push(`first error (${e.outcome}) on ${e.command}: ${e.message}`);
    for (const t of e.transcript) lines.push(`  ${t.direction === 'client' ? 'C:' : t.direction === 'server' ? 'S:' : '--'} ${t.text}`);
  }
  if (result.interrupted) lines.push('interrupted: the clients stopped early; cleanup ran');
  if (result.leftovers.length > 0) lines.push(`cleanup could not remove: ${result.leftovers.join(', ')}`);
  return `${lines.join('\n')}\n`;
}

/** The JSON report; every number a property string, as scenario properties are. */
export function renderLoadJson(result: LoadResult, mailprobeVersion: string, target: { name: string; host: string; file: string; insecure: boolean }): string {
  const s = result.settings;
  const scenarios = result.commands.map((c) => {
    const state = verdictOf(c);
    const base = {
      id: `load/${s.protocol}/${c.command}`,
      name: `load ${s.protocol} ${c.command}`,
      file: '(load)',
      state,
      durationMs: result.measuredMs,
      steps: [],
      capabilities: {},
      properties: {
        count: String(c.count),
        failed: String(c.failed),
        errored: String(c.errored),
        inconclusive: String(c.inconclusive),
        per_second: String(perSecond(c.count, result.measuredMs)),
        ...(Number.isFinite(c.p50Ms) ? { p50_ms: String(c.p50Ms), p95_ms: String(c.p95Ms), p99_ms: String(c.p99Ms), max_ms: String(c.maxMs) } : {}),
      },
    };
    if (state === 'passed') return base;
    const why = `${c.failed} failed, ${c.errored} errored, ${c.inconclusive} inconclusive of ${c.count + c.failed + c.errored + c.inconclusive}`;
    if (state === 'failed') return { ...base, failure: { message: why } };
    if (state === 'errored') return { ...base, error: { message: why } };
    return { ...base, reason: why, transcript: [] };
  });
  const counts = { total: scenarios.length, passed: 0, failed: 0, errored: 0, skipped: 0, inconclusive: 0 };
  for (const sc of scenarios) counts[sc.state]++;
  const report = {
    schemaVersion: JSON_SCHEMA_VERSION,
    runId: result.runId,
    counts,
    startedAt: result.startedAt,
    durationMs: result.measuredMs,
    target,
    scenarios,
    interrupted: result.interrupted,
    cleanupStopped: false,
    mailprobeVersion,
    peakBufferedBytes: 0,
    load: {
      settings: s,
      totalCommands: result.totalCommands,
      commandsPerSecond: perSecond(result.totalCommands, result.measuredMs),
      logins: result.logins,
      loginsPerSecond: perSecond(result.logins, result.measuredMs),
      leftovers: result.leftovers,
      ...(result.setupError !== undefined ? { setupError: result.setupError } : {}),
      ...(result.firstError !== undefined ? { firstError: result.firstError } : {}),
    },
  };
  return `${JSON.stringify(report, null, 2)}\n`;
}

/** Exit code as for `run`: 130 interrupted, 1 wrong answers, 3 could not run, 4 only temporary refusals, else 0. */
export function loadExitCode(result: LoadResult): number {
  if (result.interrupted) return 130;
  if (result.setupError !== undefined) return 3;
  if (result.commands.some((c) => c.failed > 0)) return 1;
  if (result.commands.some((c) => c.errored > 0) || result.leftovers.length > 0) return 3;
  if (result.commands.some((c) => c.inconclusive > 0)) return 4;
  return 0;
}
