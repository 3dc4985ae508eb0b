import { renderTargetFile } from '../../fixtures/servers/target-file.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startFakeMailHost, type FakeMailHost, type FakeMailHostOptions } from '../../fixtures/servers/fake-mail-host.js';
import { makeTestCertificate } from '../../fixtures/servers/test-cert.js';

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');
/** The built CLI: these tests check what a user runs, so `npm run build` must have run first. */
export const CLI = join(REPO_ROOT, 'dist', 'cli', 'main.js');
export const POP3_SUITE = join(REPO_ROOT, 'suites', 'pop3');

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliRun {
  readonly child: ChildProcess;
  /** Everything the child wrote to stderr so far (live). */
  stderrSoFar(): string;
  readonly done: Promise<CliResult>;
}

/**
 * Spawns `node dist/cli/main.js …` asynchronously. Async on purpose: the fake
 * servers live in this process, and a spawnSync would block their event loop
 * so the child could never be answered.
 */
export function startCli(args: readonly string[], options: { env?: Record<string, string>; cwd?: string } = {}): CliRun {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` before these tests`);
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    // NO_COLOR/no FORCE_COLOR: plain text, so assertions read what a CI log shows.
    env: { ...withoutColor(process.env), NO_COLOR: '1', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const done = new Promise<CliResult>((resolvePromise, reject) => {
    child.once('error', reject);
    // 'close' (not 'exit') so that every byte of stdout/stderr has been read.
    child.once('close', (code, signal) => resolvePromise({ code, signal, stdout, stderr }));
  });
  return { child, stderrSoFar: () => stderr, done };
}

export function runCli(args: readonly string[], options: { env?: Record<string, string>; cwd?: string } = {}): Promise<CliResult> {
  return startCli(args, options).done;
}

function withoutColor(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && k !== 'FORCE_COLOR') out[k] = v;
  return out;
}

/** For assertion messages: what the CLI said, so a wrong exit code explains itself. */
export function describeRun(r: CliResult): string {
  return `exit ${r.code} (signal ${r.signal})\n--- stderr ---\n${r.stderr}\n--- stdout ---\n${r.stdout.slice(0, 4000)}`;
}

export function tempDir(label: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `mailprobe-cli-${label}-`));
}

/** A fake host with TLS (the shipped suite uses pop3s), and a target file for it. */
export async function startFakeHostWithTarget(
  options: Omit<FakeMailHostOptions, 'tls'>,
): Promise<{ host: FakeMailHost; targetFile: string; dir: string; env: Record<string, string> }> {
  const dir = await tempDir('fake');
  const cert = await makeTestCertificate(dir);
  const host = await startFakeMailHost({ ...options, tls: { key: cert.key, cert: cert.cert } });
  const targetFile = join(dir, 'target.yaml');
  await host.writeTarget(targetFile, { caFile: cert.caFile });
  return { host, targetFile, dir, env: host.passwordEnv() };
}

/** A TCP listener on 127.0.0.1 that only counts connections: proof that "nothing was connected to". */
export async function startCountingServer(): Promise<{ port: number; connections(): number; close(): Promise<void> }> {
  let count = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    count++;
    sockets.add(socket);
    socket.on('error', () => {});
    socket.destroy();
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('counting server has no port');
  return {
    port: address.port,
    connections: () => count,
    close: () =>
      new Promise<void>((ok) => {
        for (const s of sockets) s.destroy();
        server.close(() => ok());
      }),
  };
}

/** A port on 127.0.0.1 that was just bound and released, so connecting to it is refused. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  await new Promise<void>((ok) => server.close(() => ok()));
  return address.port;
}

/** Polls (no blind sleep) until `check` holds; fails with `what` after `attempts` tries. */
export async function waitUntil(check: () => boolean, what: string, attempts = 600, everyMs = 50): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting until ${what}`);
}

/** Every regular file under `dir`, recursively, as absolute paths. */
export async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(p)));
    else if ((await stat(p)).isFile()) out.push(p);
  }
  return out;
}

export async function readText(file: string): Promise<string> {
  return readFile(file, 'utf8');
}

/**
 * A target file whose every endpoint is `port` on 127.0.0.1 (a counting
 * server's): the set-up of the tests that prove a run connected to nothing.
 */
export async function writeCountingTarget(
  file: string,
  port: number,
  accounts: readonly { readonly user: string; readonly address: string }[] = [{ user: 'alice', address: 'alice@fake.test' }],
): Promise<string> {
  await writeFile(file, renderTargetFile({ host: '127.0.0.1', smtpPort: port, pop3Port: port, pop3sPort: port, starttls: false, accounts: [...accounts] }));
  return file;
}
