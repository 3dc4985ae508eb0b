import { closest, didYouMean } from '../core/did-you-mean.js';
import type { SourcePos } from '../core/source.js';
import { SCOPE_NAMES } from './scopes.js';
import type { Scopes } from './scopes.js';
import { parseTemplate, referenceName, TemplateSyntaxError } from './template.js';
import type { Reference } from './template.js';

export type DataPath = readonly (string | number)[];

export type InterpolationErrorCode = 'EUNDEFINED_VAR' | 'EINTERP_SYNTAX' | 'EINTERP_TYPE';

/** A template could not be rendered; `pos` is the string leaf that holds it. */
export class InterpolationError extends Error {
  readonly code: InterpolationErrorCode;
  readonly pos: SourcePos;
  readonly path: DataPath;

  constructor(code: InterpolationErrorCode, message: string, pos: SourcePos, path: DataPath) {
    super(message);
    this.name = 'InterpolationError';
    this.code = code;
    this.pos = pos;
    this.path = path;
  }
}

/**
 * Renders every string leaf of `tree`, returning a new tree (the input is not
 * changed). A string that is exactly one `${…}` yields the value itself with
 * its type (number, Buffer, map…); otherwise values are spliced into the text.
 * `posOf(path)` gives the position of the leaf at `[...basePath, ...path]`.
 */
export function interpolate(tree: unknown, scopes: Scopes, posOf: (path: DataPath) => SourcePos, basePath: DataPath = [], lookup: Lookup = evaluate): unknown {
  const walk = (node: unknown, path: DataPath): unknown => {
    if (typeof node === 'string') return renderString(node, scopes, () => posOf(path), path, lookup);
    if (Array.isArray(node)) return node.map((item, i) => walk(item, [...path, i]));
    if (isPlainObject(node)) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(node)) out[k] = walk(v, [...path, k]);
      return out;
    }
    return node;
  };
  return walk(tree, basePath);
}

/**
 * How one reference gets its value: `evaluate` for a run; a dry run passes
 * its own, which leaves what is only known while running as written.
 */
export type Lookup = (ref: Reference, scopes: Scopes, pos: () => SourcePos, path: DataPath) => unknown;

/** Renders one string. Exposed for callers that hold a single value (e.g. a matcher's operand). */
export function renderString(s: string, scopes: Scopes, pos: () => SourcePos, path: DataPath = [], lookup: Lookup = evaluate): unknown {
  let parts;
  try {
    parts = parseTemplate(s);
  } catch (err) {
    if (err instanceof TemplateSyntaxError) throw new InterpolationError('EINTERP_SYNTAX', err.message, pos(), path);
    throw err;
  }
  const only = parts[0];
  if (parts.length === 1 && only?.kind === 'ref') return lookup(only.ref, scopes, pos, path);
  let out = '';
  for (const part of parts) {
    if (part.kind === 'text') {
      out += part.text;
      continue;
    }
    const value = lookup(part.ref, scopes, pos, path);
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
      out += String(value);
    } else {
      throw new InterpolationError(
        'EINTERP_TYPE',
        `'\${${part.ref.expr}}' is ${kind(value)} and cannot be put inside text; use it alone as the whole value to pass it as is`,
        pos(),
        path,
      );
    }
  }
  return out;
}

/** Looks a reference up in the scopes and applies its arithmetic. */
export function evaluate(ref: Reference, scopes: Scopes, pos: () => SourcePos, path: DataPath = []): unknown {
  if (!(SCOPE_NAMES as readonly string[]).includes(ref.scope)) {
    throw new InterpolationError('EUNDEFINED_VAR', `unknown scope '${ref.scope}' in '\${${ref.expr}}'${didYouMean(ref.scope, SCOPE_NAMES)}`, pos(), path);
  }
  let cur: unknown = scopes[ref.scope as keyof Scopes];
  for (let i = 0; i < ref.segments.length; i++) {
    const seg = ref.segments[i] ?? '';
    const next = child(cur, seg);
    if (next === undefined) {
      const name = referenceName(ref, i + 1);
      const candidates = isPlainObject(cur) ? Object.keys(cur) : [];
      const hit = closest(seg, candidates);
      const suggestion = hit === undefined ? '' : ` (did you mean '${referenceName(ref, i)}.${hit}'?)`;
      throw new InterpolationError('EUNDEFINED_VAR', `undefined variable '${name}'${suggestion}`, pos(), path);
    }
    cur = next;
  }
  if (ref.add === undefined) return cur;
  const n = typeof cur === 'number' ? cur : typeof cur === 'string' && /^-?\d+$/.test(cur.trim()) ? Number(cur.trim()) : undefined;
  if (n === undefined || !Number.isInteger(n)) {
    throw new InterpolationError(
      'EINTERP_TYPE',
      `'${referenceName(ref)}' is ${kind(cur)}, not a whole number, so '${ref.add < 0 ? '-' : '+'} ${Math.abs(ref.add)}' cannot apply`,
      pos(),
      path,
    );
  }
  return n + ref.add;
}

function child(node: unknown, seg: string): unknown {
  if (Array.isArray(node)) return /^\d+$/.test(seg) ? node[Number(seg)] : undefined;
  if (isPlainObject(node) && Object.hasOwn(node, seg)) return node[seg];
  return undefined;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v) && !(v instanceof Date);
}

function kind(v: unknown): string {
  if (v === null || v === undefined) return 'empty';
  if (Buffer.isBuffer(v)) return 'binary data';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  if (typeof v === 'string') return 'a string';
  return `a ${typeof v}`;
}
