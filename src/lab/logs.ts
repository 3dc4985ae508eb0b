import { readFile } from 'node:fs/promises';

/**
 * The last lines of a daemon's log, for error messages: Postfix prints its
 * start errors only to a tty, so in CI the reason lives only in the log file.
 */
export async function tailFile(path: string, lines = 25): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return `(no log at ${path})`;
  }
  const all = text.split('\n');
  if (all.at(-1) === '') all.pop();
  if (all.length === 0) return `(${path} is empty)`;
  return all
    .slice(-lines)
    .map((l) => `  | ${l}`)
    .join('\n');
}

/** Format "what failed" plus the log tails that explain it. */
export async function withLogTails(message: string, files: readonly string[]): Promise<string> {
  const parts = [message];
  for (const file of files) {
    parts.push(`last lines of ${file}:\n${await tailFile(file)}`);
  }
  return parts.join('\n');
}
