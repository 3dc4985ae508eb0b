import { open, readFile, unlink } from 'node:fs/promises';
import { LabError } from './errors.js';
import { isAlive, sleep } from './procs.js';

/**
 * One `up`/`down` at a time per state directory: two concurrent `up`s would
 * pick different ports and start two Dovecots on one base_dir. A lock left by
 * a dead process is taken over.
 */
export async function withLock<T>(lockFile: string, fn: () => Promise<T>, waitMs = 120_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    try {
      const handle = await open(lockFile, 'wx', 0o644);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number.parseInt(await readFile(lockFile, 'utf8').catch(() => ''), 10);
      if (!Number.isInteger(holder) || (holder !== process.pid && !(await isAlive(holder)))) {
        await unlink(lockFile).catch(() => {});
        continue;
      }
      if (Date.now() - started > waitMs) {
        throw new LabError('ELAB_BUSY', `another mailprobe lab command (pid ${holder}) holds ${lockFile}`);
      }
      await sleep(200);
    }
  }
  try {
    return await fn();
  } finally {
    await unlink(lockFile).catch(() => {});
  }
}
