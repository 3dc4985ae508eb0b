import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import { readFileSync } from 'node:fs';

/**
 * Everything the CLI takes from the process, read in one place. Commands get
 * this object; nothing below src/cli reads process.env, argv or the terminal.
 */
export interface CliContext {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
  /** Colour only for a terminal, and never when NO_COLOR is set. */
  readonly color: boolean;
  /** Root of the installed package: where the shipped suites and schemas live. */
  readonly packageRoot: string;
  readonly version: string;
  readonly isRoot: boolean;
}

export function contextFromProcess(): CliContext {
  const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const pkg = JSON.parse(readFileSync(resolve(packageRoot, 'package.json'), 'utf8')) as { version: string };
  const env = process.env;
  return {
    env,
    cwd: process.cwd(),
    stdout: process.stdout,
    stderr: process.stderr,
    color: (Boolean(process.stderr.isTTY) && env.NO_COLOR === undefined) || env.FORCE_COLOR !== undefined,
    packageRoot,
    version: pkg.version,
    isRoot: typeof process.getuid === 'function' && process.getuid() === 0,
  };
}
