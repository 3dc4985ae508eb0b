import { chmod, type FileHandle, lstat, mkdir, open, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Files mailprobe writes that hold users' mail: reports (transcripts, server
 * replies) and saved message copies. They are 0600 in folders made 0700 by
 * default, and the mode is set explicitly after creating, because the mode
 * given to open() and mkdir() is masked by the umask (0644 under the common
 * 022, 0666 under 000). `--report-mode 0640` opens them to a CI reader's group.
 *
 * Folders are created one level at a time, not with mkdir's `recursive`:
 * under /proc, Node's recursive mkdir gets ENOENT for the child and EEXIST
 * for its parent and retries forever on a worker thread (90% CPU), and as
 * reports are written after an interrupt too, a SIGTERM then waited on it
 * forever. Walking the levels ourselves makes such a path an error at once.
 */

/** An output file or folder that could not be created or written; the message names the path and the system's reason. */
export class OutputFileError extends Error {
  override readonly name = 'OutputFileError';
  readonly code = 'EOUTPUT';
}

export interface OutputModes {
  readonly file: number;
  readonly dir: number;
}

export const PRIVATE_MODES: OutputModes = Object.freeze({ file: 0o600, dir: 0o700 });

let current: OutputModes = PRIVATE_MODES;

/**
 * Sets the modes this process writes output with: once, by the CLI, from
 * --report-mode. A process-wide setting like the umask it overrides, so that
 * reporters and the actions that save copies share one policy.
 */
export function setOutputModes(modes: OutputModes): void {
  current = modes;
}

/**
 * `--report-mode` text → modes. The owner must be able to read and write;
 * group and others may at most read, and nothing is executable. A folder gets
 * the search bit wherever its files are readable (0640 → 0750).
 * Throws with a reason for anything else.
 */
export function parseOutputMode(text: string): OutputModes {
  if (!/^0?[0-7]{3}$/.test(text)) throw new Error(`"${text}" is not an octal file mode such as 0600 or 0640`);
  const file = parseInt(text, 8);
  if ((file & 0o600) !== 0o600) throw new Error(`${text} would not let the owner read and write the file; use 0600 or 0640`);
  if ((file & ~0o644) !== 0) throw new Error(`${text} gives more than read access to group or others, or makes files executable; use 0600 or 0640`);
  const dir = file | ((file & 0o444) >> 2);
  return { file, dir };
}

/** Creates `path` and any missing parents, each new folder with `mode` exactly; existing folders are left as they are. */
export async function makeFolders(path: string, mode: number = current.dir): Promise<void> {
  const missing: string[] = [];
  for (let at = path; ; at = dirname(at)) {
    const found = await stat(at).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw folderError(at, err);
    });
    if (found !== undefined) {
      if (!found.isDirectory()) throw new OutputFileError(`cannot create folder ${path}: ${at} exists and is not a folder`);
      break;
    }
    missing.unshift(at);
    if (dirname(at) === at) break;
  }
  for (const folder of missing) {
    try {
      await mkdir(folder, { mode });
    } catch (err) {
      // Made meanwhile by someone else is fine; anything else (ENOENT under /proc, EACCES, EROFS) is final.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || !(await lstat(folder)).isDirectory()) throw folderError(folder, err as NodeJS.ErrnoException);
      continue;
    }
    await chmod(folder, mode);
  }
}

/** Writes `data` to `path` (parents created) with the output file mode, whatever the umask or an older file's mode. */
export async function writePrivateFile(path: string, data: string | Uint8Array, modes: OutputModes = current): Promise<void> {
  await makeFolders(dirname(path), modes.dir);
  let handle;
  try {
    handle = await open(path, 'w', modes.file);
  } catch (err) {
    throw new OutputFileError(`cannot write ${path}: ${errnoText(err as NodeJS.ErrnoException)}`);
  }
  try {
    // Before the content goes in: an existing file keeps its old mode through open().
    await handle.chmod(modes.file);
    await handle.writeFile(data);
  } catch (err) {
    throw new OutputFileError(`cannot write ${path}: ${errnoText(err as NodeJS.ErrnoException)}`);
  } finally {
    await handle.close();
  }
}

/**
 * A file written piece by piece (a message saved as it is read): created like
 * writePrivateFile's, with the output file mode, parents made. The caller closes it.
 */
export async function openPrivateFile(path: string, modes: OutputModes = current): Promise<FileHandle> {
  await makeFolders(dirname(path), modes.dir);
  let handle: FileHandle;
  try {
    handle = await open(path, 'w', modes.file);
  } catch (err) {
    throw new OutputFileError(`cannot write ${path}: ${errnoText(err as NodeJS.ErrnoException)}`);
  }
  try {
    await handle.chmod(modes.file);
  } catch (err) {
    await handle.close();
    throw new OutputFileError(`cannot write ${path}: ${errnoText(err as NodeJS.ErrnoException)}`);
  }
  return handle;
}

function folderError(folder: string, err: NodeJS.ErrnoException): Error {
  return new OutputFileError(`cannot create folder ${folder}: ${errnoText(err)}`);
}

function errnoText(err: NodeJS.ErrnoException): string {
  return err.code ?? err.message;
}
