import { resolve } from 'node:path';
import { writePrivateFile } from '../transport/private-files.js';
import type { ReporterContext } from '../runner/reporter.js';

/**
 * Where a file reporter's text goes: its file (parent folders created, path
 * relative to ctx.cwd; a private file, see transport/private-files.ts, since a
 * report holds server replies and transcripts), or ctx.stdout when no file was given. Awaits the
 * stream's callback so the CLI does not exit with output still buffered.
 */
export async function writeReport(ctx: ReporterContext, content: string): Promise<void> {
  if (ctx.outFile !== undefined) {
    const path = resolve(ctx.cwd, ctx.outFile);
    await writePrivateFile(path, content);
    return;
  }
  await new Promise<void>((done, fail) => {
    ctx.stdout.write(content, (err) => (err ? fail(err) : done()));
  });
}
