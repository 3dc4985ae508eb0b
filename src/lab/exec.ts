import { spawn } from 'node:child_process';
import { open } from 'node:fs/promises';

export interface ExecResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Run a short-lived command and collect its output. Only for commands that
 * exit on their own (openssl, dpkg-query, useradd); never for daemons, which
 * would keep the pipes open (see runToFile).
 */
export function run(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number; cwd?: string } = {},
): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: options.env ?? process.env,
      ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      ...(options.timeoutMs !== undefined ? { timeout: options.timeoutMs, killSignal: 'SIGKILL' as const } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    if (child.stdin) {
      // A command that exits without reading its input must not crash us with EPIPE.
      child.stdin.on('error', () => {});
      child.stdin.end(options.input);
    }
  });
}

/**
 * Run a command whose stdout/stderr go to a file, never to a pipe: Dovecot's
 * master and Postfix's postfix-script daemonise, and the daemon keeps the
 * caller's stderr open, so waiting on a pipe would hang forever (LAB-NOTES 7).
 * Resolves with the exit code of the command itself.
 */
export async function runToFile(command: string, args: readonly string[], logFile: string, options: { env?: NodeJS.ProcessEnv } = {}): Promise<number | null> {
  const handle = await open(logFile, 'a', 0o600);
  try {
    return await new Promise<number | null>((resolve, reject) => {
      const child = spawn(command, args, {
        env: options.env ?? process.env,
        stdio: ['ignore', handle.fd, handle.fd],
      });
      child.on('error', reject);
      child.on('exit', (code) => resolve(code));
    });
  } finally {
    await handle.close();
  }
}
