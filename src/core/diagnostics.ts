import { formatPos } from './source.js';
import type { SourcePos } from './source.js';

/** One problem in a user's file, with a reason written for people. */
export interface Diagnostic {
  readonly pos: SourcePos;
  readonly message: string;
}

export type LoadErrorCode = 'EYAML_SYNTAX' | 'ESCENARIO_INVALID' | 'ETARGET_INVALID' | 'EPATH_NOT_FOUND' | 'EENV_FILE' | 'EFILE_READ' | 'EFILE_ENCODING';

/**
 * A file could not be loaded. Carries every diagnostic found, not just the
 * first, so `mailprobe validate` can list them all in one pass.
 */
export class LoadError extends Error {
  readonly code: LoadErrorCode;
  readonly diagnostics: readonly Diagnostic[];

  constructor(code: LoadErrorCode, diagnostics: readonly Diagnostic[]) {
    const sorted = [...diagnostics].sort(compareDiagnostics);
    const first = sorted[0];
    const head = first === undefined ? code : `${formatPos(first.pos)}: ${first.message}`;
    const more = sorted.length > 1 ? ` (and ${sorted.length - 1} more)` : '';
    super(head + more);
    this.name = 'LoadError';
    this.code = code;
    this.diagnostics = sorted;
  }
}

export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  if (a.pos.file !== b.pos.file) return a.pos.file < b.pos.file ? -1 : 1;
  return a.pos.line - b.pos.line || a.pos.col - b.pos.col || (a.message < b.message ? -1 : a.message > b.message ? 1 : 0);
}
