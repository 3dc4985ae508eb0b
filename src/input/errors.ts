import { InputFileError, readInputText } from './input-file.js';
import type { InputKind } from './input-file.js';
import { redactSecrets } from './redact.js';
import { LoadError } from '../core/diagnostics.js';
import type { Diagnostic } from '../core/diagnostics.js';
import { formatPos } from '../core/source.js';

/**
 * The text of a user-named input file, or a LoadError at `file:line:col`
 * saying why it cannot be used (missing, not a regular file, too large, not
 * UTF-8). Every loader of user files reads through here.
 */
export async function readInputOrThrow(file: string, kind: InputKind): Promise<string> {
  try {
    return await readInputText(file, kind);
  } catch (err) {
    if (!(err instanceof InputFileError)) throw err;
    throw new LoadError(err.problem === 'EENCODING' ? 'EFILE_ENCODING' : 'EFILE_READ', [{ pos: { file, line: err.line, col: err.col }, message: err.message }]);
  }
}

/**
 * `file:line:col: reason`, followed by the offending line and a caret when
 * the source text is given (vitest-style code frame, one line of context).
 * Frame lines go through redactSecrets: a password written into the file is
 * shown as `[redacted]`, never echoed.
 */
export function formatDiagnostic(d: Diagnostic, source?: string): string {
  const head = `${formatPos(d.pos)}: ${d.message}`;
  if (source === undefined) return head;
  const lines = redactedLinesOf(source);
  const shown = lines[d.pos.line - 1];
  if (shown === undefined) return head;
  const text = shown.text;
  const gutter = String(d.pos.line);
  const pad = ' '.repeat(gutter.length);
  const frame: string[] = [];
  const before = lines[d.pos.line - 2]?.text;
  if (before !== undefined && before.trim() !== '') frame.push(`  ${String(d.pos.line - 1).padStart(gutter.length)} | ${clip(before, 0).text}`);
  const at = Math.max(0, shown.col(d.pos.col) - 1);
  const window = clip(text, at);
  frame.push(`> ${gutter} | ${window.text}`);
  // Tabs keep their width in the caret line so the caret lands under the column.
  const lead = window.text.slice(0, window.caret).replace(/[^\t]/g, ' ');
  frame.push(`  ${pad} | ${lead}^`);
  return `${head}\n${frame.join('\n')}`;
}

/**
 * A file with many problems is framed many times; redacting its whole text
 * once per problem made a 1 MiB file with a thousand errors take 40 s.
 */
let lastRedacted: { source: string; lines: ReturnType<typeof redactSecrets> } | undefined;
function redactedLinesOf(source: string): ReturnType<typeof redactSecrets> {
  if (lastRedacted?.source !== source) lastRedacted = { source, lines: redactSecrets(source) };
  return lastRedacted.lines;
}

/**
 * At most FRAME_WIDTH characters of a line, around `at`: a hostile file's
 * one-megabyte line must not be printed whole, once per diagnostic.
 */
const FRAME_WIDTH = 160;
function clip(line: string, at: number): { text: string; caret: number } {
  if (line.length <= FRAME_WIDTH) return { text: line, caret: at };
  const start = Math.max(0, Math.min(at - FRAME_WIDTH / 2, line.length - FRAME_WIDTH));
  const end = start + FRAME_WIDTH;
  const head = start > 0 ? '…' : '';
  return { text: `${head}${line.slice(start, end)}${end < line.length ? '…' : ''}`, caret: at - start + head.length };
}
