import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { ReporterContext } from './reporter.js';

/**
 * Where a file reporter's text goes: its file (parent folders created, path
 * relative to ctx.cwd), or ctx.stdout when no file was given. Awaits the
 * stream's callback so the CLI does not exit with output still buffered.
 */
export async function writeReport(ctx: ReporterContext, content: string): Promise<void> {
  if (ctx.outFile !== undefined) {
    const path = resolve(ctx.cwd, ctx.outFile);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, content, 'utf8');
    return;
  }
  await new Promise<void>((done, fail) => {
    ctx.stdout.write(content, (err) => (err ? fail(err) : done()));
  });
}
