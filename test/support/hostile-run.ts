import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { stringify } from 'yaml';
import { startFakeMailHost, type FakeMailHost } from '../../fixtures/servers/fake-mail-host.js';
import { filesUnder, REPO_ROOT, startCli, tempDir, type CliResult } from './cli.js';
import { startHostileServer, type HostileProtocol, type HostileServer, type TlsMode } from './hostile-server.js';
import type { Behaviour } from './hostile-wire.js';
import { testCerts } from './test-certs.js';

/**
 * Runs one hostile-server case through the built CLI, with every reporter, and
 * returns what a user would have: exit code, time, stdout/stderr, the reports
 * and the saved files. The test asserts on it; this module judges nothing.
 */

export const USER = 'alice';
/**
 * The canary: 7 characters (short passwords leak as base64 at most alignments),
 * with `"` and `\` (which IMAP quotes), and nothing a report would print by chance.
 */
export const CANARY = 'Cq"7\\z!';
export const PASSWORD_ENV = 'HOSTILE_PRIMARY_PASSWORD';

/** Short phase timeouts so that the whole corpus is quick (ms). */
export const TIMEOUTS = { dns: 1500, tcp: 1500, tls: 1500, greeting: 1500, command: 1500, delivery: 1500, push: 1500 } as const;
/** A run still going after this is hung: it is killed and reported so. Far above every bound a case asserts. */
export const HANG_KILL_MS = 25_000;

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
const imapQuoted = (s: string): string => s.replace(/[\\"]/g, (c) => `\\${c}`);

/** Every form the canary travels in, or could be written in: plain, quoted, escaped, and every token mailprobe sends. */
export const SECRET_FORMS: Readonly<Record<string, string>> = Object.freeze({
  plain: CANARY,
  'IMAP-quoted / JSON-escaped': imapQuoted(CANARY),
  'XML-escaped': CANARY.replace(/"/g, '&quot;'),
  'IMAP-quoted, then JSON-escaped': JSON.stringify(imapQuoted(CANARY)).slice(1, -1),
  'IMAP-quoted, then XML-escaped': imapQuoted(CANARY).replace(/"/g, '&quot;'),
  'AUTH PLAIN \\0user\\0pass': b64(`\0${USER}\0${CANARY}`),
  'AUTH PLAIN user\\0user\\0pass': b64(`${USER}\0${USER}\0${CANARY}`),
  'AUTH PLAIN unpadded': b64(`\0${USER}\0${CANARY}`).replace(/=+$/, ''),
  'AUTH LOGIN password': b64(CANARY),
  'AUTH LOGIN password unpadded': b64(CANARY).replace(/=+$/, ''),
});

export type ScenarioName = 'pop3' | 'imap-flow' | 'imap-raw' | 'imap-starttls' | 'smtp';
export const SCENARIO_DIR = join(REPO_ROOT, 'test', 'hostile', 'scenarios');

export interface CaseSetup {
  readonly protocol: HostileProtocol;
  readonly tls: TlsMode;
  readonly scenario: ScenarioName;
  readonly faults: Readonly<Record<string, Behaviour>>;
  readonly onlyClient?: (firstTag: string) => boolean;
  readonly onlyConnection?: number;
  readonly stallTlsHandshake?: boolean;
  /** Phase timeouts over TIMEOUTS (ms). */
  readonly timeouts?: Partial<Record<keyof typeof TIMEOUTS, number>>;
}

export interface Observed {
  readonly result: CliResult;
  readonly elapsedMs: number;
  readonly hung: boolean;
  readonly json: Record<string, unknown> | undefined;
  /** Report name → its text ('' when not written). */
  readonly reports: Readonly<Record<string, string>>;
  /** Out-dir file (relative) → its bytes as latin1. */
  readonly outFiles: Readonly<Record<string, string>>;
  readonly server: HostileServer;
}

const REPORTS = { json: 'report.json', junit: 'junit.xml', 'junit-strict': 'junit-strict.xml', tap: 'report.tap' } as const;

/** The endpoint the scenarios use, whatever its security: the target file says which. */
function endpointName(protocol: HostileProtocol): string {
  return protocol === 'smtp' ? 'submission' : protocol;
}

let benignPop3: Promise<FakeMailHost> | undefined;
/** SMTP scenarios clean up through POP3: a faithful one, shared by every SMTP case of a file. */
function benignPop3Host(): Promise<FakeMailHost> {
  benignPop3 ??= startFakeMailHost({ accounts: { [USER]: { password: CANARY, address: `${USER}@hostile.test` } } });
  return benignPop3;
}
/** After a file's cases: close the shared faithful maildrop and remove the test certificates. */
export async function finishHostileRuns(): Promise<void> {
  const host = benignPop3;
  benignPop3 = undefined;
  await (await host)?.close();
  await (await testCerts()).cleanup();
}

/**
 * At most this many CLI runs at once: each case's server lives in this process
 * and must answer within the corpus's 1.5 s timeouts, which a 2-core machine
 * running many CLIs (and huge transfers) at once would starve.
 */
const MAX_PARALLEL_RUNS = 4;
let running = 0;
const queued: Array<() => void> = [];

async function inSlot<T>(work: () => Promise<T>): Promise<T> {
  if (running >= MAX_PARALLEL_RUNS) await new Promise<void>((go) => queued.push(go));
  else running++;
  try {
    return await work();
  } finally {
    // Hand the slot straight to the next waiter, or give it back.
    const next = queued.shift();
    if (next) next();
    else running--;
  }
}

export function runHostileCase(setup: CaseSetup): Promise<Observed> {
  return inSlot(() => runOne(setup));
}

async function runOne(setup: CaseSetup): Promise<Observed> {
  const certs = await testCerts();
  const maildrop = setup.protocol === 'smtp' ? await benignPop3Host() : undefined;
  const dir = await tempDir('hostile');
  let runId: string | undefined;
  let stderrNow = (): string => '';
  const server = await startHostileServer({
    protocol: setup.protocol,
    tls: setup.tls,
    keys: certs.localhost,
    faults: setup.faults,
    ...(setup.onlyClient ? { onlyClient: setup.onlyClient } : {}),
    ...(setup.onlyConnection !== undefined ? { onlyConnection: setup.onlyConnection } : {}),
    ...(setup.stallTlsHandshake ? { stallTlsHandshake: true } : {}),
    // The console header names the run ("run 20261201t…-abc123 ·"): the maildrop's one message carries it.
    runId: () => (runId ??= /\brun (\S+) ·/.exec(stderrNow())?.[1]),
    // What the hostile SMTP server accepts lands in the faithful maildrop, where cleanup finds and removes it.
    ...(maildrop ? { deliver: (raw: string) => void maildrop.deliver(USER, raw) } : {}),
  });
  try {
    const caFile = join(dir, 'ca.pem');
    await writeFile(caFile, certs.ca);
    const endpoints: Record<string, { port: number; security: string }> = {
      [endpointName(setup.protocol)]: { port: server.port, security: setup.tls },
    };
    if (maildrop) endpoints.pop3 = { port: maildrop.pop3Port, security: 'none' };
    const targetFile = join(dir, 'target.yaml');
    await writeFile(
      targetFile,
      stringify({
        name: `hostile ${setup.protocol}`,
        host: '127.0.0.1',
        tls: { verify: true, ca_file: caFile, servername: 'localhost' },
        endpoints,
        accounts: { primary: { user: USER, address: `${USER}@hostile.test`, password_env: PASSWORD_ENV } },
        timeouts: { ...TIMEOUTS, ...setup.timeouts },
      }),
    );
    const outDir = join(dir, 'out');
    const reportFiles = Object.fromEntries(Object.entries(REPORTS).map(([name, file]) => [name, join(dir, file)]));
    const started = Date.now();
    const run = startCli(
      [
        'run',
        join(SCENARIO_DIR, `${setup.scenario}.yaml`),
        '--target',
        targetFile,
        '--out-dir',
        outDir,
        '--reporter',
        'console',
        ...Object.entries(reportFiles).flatMap(([name, file]) => ['--reporter', `${name}=${file}`]),
      ],
      { env: { [PASSWORD_ENV]: CANARY } },
    );
    stderrNow = run.stderrSoFar;
    let hung = false;
    const killer = setTimeout(() => {
      hung = true;
      run.child.kill('SIGKILL');
    }, HANG_KILL_MS);
    const result = await run.done.finally(() => clearTimeout(killer));
    const elapsedMs = Date.now() - started;
    const reports: Record<string, string> = {};
    for (const [name, file] of Object.entries(reportFiles)) reports[name] = existsSync(file) ? await readFile(file, 'latin1') : '';
    let json: Record<string, unknown> | undefined;
    try {
      json = reports.json ? (JSON.parse(await readFile(reportFiles.json!, 'utf8')) as Record<string, unknown>) : undefined;
    } catch {
      json = undefined;
    }
    const outFiles: Record<string, string> = {};
    if (existsSync(outDir)) for (const f of await filesUnder(outDir)) outFiles[relative(outDir, f)] = await readFile(f, 'latin1');
    return { result, elapsedMs, hung, json, reports, outFiles, server };
  } finally {
    await server.close();
    // Everything the run wrote has been read into memory: the folder (reports of up to tens of MB) can go.
    await rm(dir, { recursive: true, force: true });
  }
}

/** Where each secret form was found: [] when nowhere. */
export function secretSightings(observed: Observed): string[] {
  const places: Record<string, string> = {
    stdout: observed.result.stdout,
    stderr: observed.result.stderr,
    ...Object.fromEntries(Object.entries(observed.reports).map(([k, v]) => [`${k} report`, v])),
    ...Object.fromEntries(Object.entries(observed.outFiles).map(([k, v]) => [`out-dir ${k}`, v])),
  };
  const found: string[] = [];
  for (const [where, text] of Object.entries(places)) {
    for (const [form, value] of Object.entries(SECRET_FORMS)) if (text.includes(value)) found.push(`${form} in ${where}`);
  }
  return found;
}

/** The first scenario of the JSON report (each run has exactly one). */
export function firstScenario(json: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  const list = json?.scenarios;
  return Array.isArray(list) ? (list[0] as Record<string, unknown>) : undefined;
}

/** A short line for the observed-outcome table. */
export function summarise(name: string, o: Observed): Record<string, unknown> {
  const sc = firstScenario(o.json);
  const error = sc?.error as { code?: string; message?: string } | undefined;
  return {
    case: name,
    exit: o.result.code,
    signal: o.result.signal,
    hung: o.hung,
    verdict: sc?.state,
    ms: o.elapsedMs,
    peakBufferedBytes: o.json?.peakBufferedBytes,
    error: error ? `${error.code}: ${(error.message ?? '').slice(0, 160)}` : undefined,
    leaks: secretSightings(o),
  };
}
