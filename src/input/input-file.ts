import { constants } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';

/**
 * Reading a file the user named (scenario, target, env, CA) without trusting
 * it. A path can name a FIFO that never ends, /dev/zero, a 4 GB log or a
 * Latin-1 file; none of them may hang the run, eat memory or block signals.
 * So: stat once, first, and refuse anything that is not a regular file (a
 * device is never even opened); open with O_NONBLOCK, so that whatever is
 * swapped in after the stat cannot block the open or a read; read
 * asynchronously into a buffer of the stated size, grown only while bytes keep
 * coming and never past limit + 1 (a file that grows after the stat, or
 * /dev/zero swapped in, is still caught as too large); decode UTF-8 strictly.
 */

/**
 * Size limits, far above any real file and far below what hurts. The largest
 * shipped scenario is about 5 KiB and the largest real target under 2 KiB; a
 * CA bundle (Mozilla's whole root store) is about 220 KiB.
 */
export const INPUT_LIMITS = {
  /** 1 MiB: a scenario two hundred times the largest shipped one still fits; YAML parsing is linear in it. */
  scenario: 1024 * 1024,
  /** 256 KiB: a target lists a handful of endpoints and accounts. */
  target: 256 * 1024,
  /** 64 KiB: KEY=value lines for a few passwords. */
  env: 64 * 1024,
  /** 1 MiB: room for a full public root store, several times over. */
  ca: 1024 * 1024,
  /** 64 MiB: a JSON report of the whole shipped suite, transcripts and all, is about 1.3 MiB. */
  report: 64 * 1024 * 1024,
} as const;

export type InputKind = keyof typeof INPUT_LIMITS;

const KIND_NAME: Record<InputKind, string> = { scenario: 'scenario file', target: 'target file', env: 'env file', ca: 'CA file', report: 'JSON report' };
const A_KIND: Record<InputKind, string> = {
  scenario: 'a scenario file',
  target: 'a target file',
  env: 'an env file',
  ca: 'a CA file',
  report: 'a JSON report',
};
/** Env and target files may hold (misplaced) passwords: their messages never quote a byte of the content. */
const MAY_HOLD_SECRETS: ReadonlySet<InputKind> = new Set(['env', 'target']);

export type InputFileProblem = 'ENOENT' | 'EACCES' | 'ELOOP' | 'ENOTREG' | 'ETOOBIG' | 'EENCODING' | 'EREAD';

/** A file that cannot be used as input; `line`/`col` point at the first bad byte for encoding problems. */
export class InputFileError extends Error {
  constructor(
    readonly problem: InputFileProblem,
    message: string,
    readonly line = 1,
    readonly col = 1,
  ) {
    super(message);
    this.name = 'InputFileError';
  }
}

/** "a FIFO (named pipe)", "a folder", …: what the path is, for the refusal. */
function whatItIs(info: Stats): string {
  if (info.isDirectory()) return 'a folder';
  if (info.isFIFO()) return 'a FIFO (named pipe)';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  if (info.isSocket()) return 'a socket';
  return 'not a regular file';
}

function kib(n: number): string {
  return n >= 1024 * 1024 && n % (1024 * 1024) === 0 ? `${n / (1024 * 1024)} MiB` : `${Math.round(n / 1024)} KiB`;
}

function refuseType(kind: InputKind, info: Stats): InputFileError {
  return new InputFileError('ENOTREG', `is ${whatItIs(info)}, not a regular file; ${A_KIND[kind]} must be a regular file`);
}

function tooBig(kind: InputKind, size: number | undefined): InputFileError {
  const limit = INPUT_LIMITS[kind];
  const was = size === undefined ? 'more than that' : `${size} bytes`;
  return new InputFileError('ETOOBIG', `${KIND_NAME[kind]} too large: the limit is ${kib(limit)} (${limit} bytes), this one is ${was}`);
}

function fromErrno(err: unknown, kind: InputKind): InputFileError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return new InputFileError('ENOENT', `${KIND_NAME[kind]} not found`);
  if (code === 'EACCES' || code === 'EPERM') return new InputFileError('EACCES', `cannot read ${KIND_NAME[kind]}: permission denied`);
  if (code === 'ELOOP') return new InputFileError('ELOOP', `cannot read ${KIND_NAME[kind]}: symbolic link loop (too many levels of symbolic links)`);
  if (code === 'EISDIR') return new InputFileError('ENOTREG', `is a folder, not a regular file; ${A_KIND[kind]} must be a regular file`);
  return new InputFileError('EREAD', `cannot read ${KIND_NAME[kind]}: ${code ?? (err as Error).message}`);
}

/**
 * What a user-named path is, links followed: its Stats when it is a regular
 * file (or, with `folders`, a folder); else an InputFileError saying what it
 * is (ENOTREG) or why it cannot be looked at (ENOENT, ELOOP, EACCES). The one
 * file-type check for readers and for the scenario discovery that walks folders.
 */
export async function inputStat(file: string, kind: InputKind, options: { readonly folders?: boolean } = {}): Promise<Stats> {
  let info: Stats;
  try {
    info = await stat(file);
  } catch (err) {
    throw fromErrno(err, kind);
  }
  if (!info.isFile() && !(options.folders === true && info.isDirectory())) throw refuseType(kind, info);
  return info;
}

/** The bytes of a user-named input file, refusing what is not a regular file within the limit. */
export async function readInputBytes(file: string, kind: InputKind): Promise<Buffer> {
  const limit = INPUT_LIMITS[kind];
  const info = await inputStat(file, kind);
  if (info.size > limit) throw tooBig(kind, info.size);

  let handle;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    throw fromErrno(err, kind);
  }
  try {
    // What the stat said, plus one byte to notice a file that grew since; grown further only while it keeps
    // coming, never past limit + 1.
    let buf = Buffer.alloc(info.size + 1);
    let filled = 0;
    for (;;) {
      if (filled === buf.length) {
        if (buf.length > limit) break;
        const grown = Buffer.alloc(Math.min(buf.length * 2, limit + 1));
        buf.copy(grown, 0, 0, filled);
        buf = grown;
      }
      const { bytesRead } = await handle.read(buf, filled, buf.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    if (filled > limit) throw tooBig(kind, undefined);
    return buf.subarray(0, filled);
  } catch (err) {
    if (err instanceof InputFileError) throw err;
    throw fromErrno(err, kind);
  } finally {
    await handle.close();
  }
}

/**
 * A user-named input file as text. These files are UTF-8 (YAML 1.2 allows
 * UTF-16/32 too, but nobody writes those and a Latin-1 file read as UTF-8
 * would silently change its strings); a leading UTF-8 byte order mark is
 * accepted and dropped, since editors on Windows add one.
 */
export async function readInputText(file: string, kind: InputKind): Promise<string> {
  return decodeInputText(await readInputBytes(file, kind), kind);
}

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

export function decodeInputText(bytes: Uint8Array, kind: InputKind): string {
  let text: string;
  try {
    text = fatalUtf8.decode(bytes);
  } catch {
    const offset = firstInvalidUtf8(bytes);
    // Everything before the bad byte is valid UTF-8: decode it to count lines and columns as the YAML positions do.
    const before = new TextDecoder('utf-8').decode(bytes.subarray(0, offset));
    const lineStart = before.lastIndexOf('\n') + 1;
    const line = before.split('\n').length;
    const col = before.length - lineStart + 1;
    const byte = bytes[offset] ?? 0;
    const utf16 = offset === 0 && bytes.length >= 2 && ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff));
    const shown = MAY_HOLD_SECRETS.has(kind) ? 'the byte here' : `byte 0x${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    const hint = utf16
      ? 'it starts with a UTF-16 byte order mark; save it as UTF-8'
      : `${shown} does not start a valid UTF-8 sequence (is it Latin-1? convert it with iconv -f latin1 -t utf-8)`;
    throw new InputFileError('EENCODING', `not UTF-8: ${A_KIND[kind]} must be UTF-8 text; ${hint}`, line, col);
  }
  if (kind !== 'ca') refuseUnprintable(text, kind);
  return text;
}

/**
 * YAML 1.2 §5.1 (c-printable) allows tab, line feed, carriage return and the
 * printable characters only; yaml itself lets a raw NUL or ESC through into
 * strings, where it would reach headers and terminals. Env files hold the
 * same kind of values and get the same rule.
 */
function refuseUnprintable(text: string, kind: InputKind): void {
  const bad = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u0084\u0086-\u009F\uFFFE\uFFFF]/.exec(text);
  if (bad === null) return;
  const before = text.slice(0, bad.index);
  const line = before.split('\n').length;
  const col = bad.index - (before.lastIndexOf('\n') + 1) + 1;
  const code = MAY_HOLD_SECRETS.has(kind) ? 'a control character' : `control character U+${bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
  const how =
    kind === 'env'
      ? 'env values are plain text'
      : 'YAML allows only printable characters, tab and line ends; write it as an escape such as "\\x1B" inside double quotes';
  throw new InputFileError('EENCODING', `${code} is not allowed in ${A_KIND[kind]}: ${how}`, line, col);
}

/** Byte offset of the first byte that is not part of a well-formed UTF-8 sequence (RFC 3629 §4: no overlongs, no surrogates, ≤ U+10FFFF). */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    let n: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) n = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      if (c === 0xe0) lo = 0xa0;
      if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      if (c === 0xf0) lo = 0x90;
      if (c === 0xf4) hi = 0x8f;
    } else return i;
    for (let k = 1; k <= n; k++) {
      const d = b[i + k];
      if (d === undefined) return i;
      const min = k === 1 ? lo : 0x80;
      const max = k === 1 ? hi : 0xbf;
      if (d < min || d > max) return i;
    }
    i += n + 1;
  }
  return b.length;
}
