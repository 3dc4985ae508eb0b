import type { z } from 'zod';
import { didYouMean } from '../core/did-you-mean.js';
import type { Diagnostic } from '../core/diagnostics.js';
import type { DataPath, PositionMap } from './yaml-doc.js';

type Issue = z.core.$ZodIssue;

/** How to turn zod issues for one validated value into positioned, human diagnostics. */
export interface IssueContext {
  /** The value that was validated. */
  readonly data: unknown;
  /** The schema it was validated with (used to suggest keys). */
  readonly schema: z.ZodType;
  readonly positions: PositionMap;
  /** Where `data` sits in the document. */
  readonly basePath?: DataPath;
  /** Issues at paths for which this returns true are dropped (e.g. interpolated leaves). */
  readonly ignore?: (path: DataPath) => boolean;
  /** A better message for a particular unknown key, e.g. `password` in a target account. */
  readonly unknownKeyHint?: (path: DataPath, key: string) => string | undefined;
}

export function issuesToDiagnostics(issues: readonly Issue[], ctx: IssueContext): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const issue of issues) describe(issue, [], ctx, out);
  // Zod can report the same problem twice through unions; keep one of each.
  const seen = new Set<string>();
  return out.filter((d) => {
    const key = `${d.pos.line}:${d.pos.col}:${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function describe(issue: Issue, prefix: DataPath, ctx: IssueContext, out: Diagnostic[]): void {
  const path: DataPath = [...prefix, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))];
  if (ctx.ignore?.(path)) return;
  const base = ctx.basePath ?? [];
  const value = valueAt(ctx.data, path);
  const at = (p: DataPath) => ctx.positions.posOf([...base, ...p]);
  const push = (p: DataPath, message: string) => out.push({ pos: at(p), message });

  switch (issue.code) {
    case 'invalid_type': {
      if (path.length > 0 && isMissing(ctx.data, path)) {
        const parent = path.slice(0, -1);
        out.push({ pos: at(parent), message: `missing required key '${String(path[path.length - 1])}'` });
        return;
      }
      if (issue.expected === 'int' && typeof value === 'number') {
        push(path, `expected a whole number, got ${value}`);
        return;
      }
      push(path, `expected ${typeName(issue.expected)}, got ${describeValue(value)}`);
      return;
    }
    case 'unrecognized_keys': {
      const known = knownKeysAt(ctx.schema, path);
      const present = isPlainObject(value) ? new Set(Object.keys(value)) : new Set<string>();
      const candidates = known.filter((k) => !present.has(k));
      for (const key of issue.keys) {
        const hint = ctx.unknownKeyHint?.(path, key);
        out.push({
          pos: ctx.positions.keyPosOf([...base, ...path, key]),
          message: hint ?? `unknown key '${key}'${didYouMean(key, candidates)}`,
        });
      }
      return;
    }
    case 'invalid_value': {
      const options = issue.values.map((v) => `'${String(v)}'`);
      const list = options.length === 1 ? options[0] : `one of ${options.join(', ')}`;
      const suggestion = typeof value === 'string' ? didYouMean(value, issue.values.map(String)) : '';
      push(path, `expected ${list}, got ${showValue(value)}${suggestion}`);
      return;
    }
    case 'invalid_union': {
      if (isCustom(issue.message)) {
        push(path, issue.message);
        return;
      }
      if ('note' in issue && issue.note === 'No matching discriminator') {
        push(path, `unknown ${String(issue.discriminator ?? 'variant')} ${showValue(value)}`);
        return;
      }
      const branch = bestBranch(issue.errors);
      if (branch === undefined) {
        const expected = [
          ...new Set(
            issue.errors.flatMap((b) =>
              b.filter((i) => i.code === 'invalid_type' && i.path.length === 0).map((i) => typeName((i as { expected: string }).expected)),
            ),
          ),
        ];
        push(path, `expected ${expected.length > 0 ? expected.join(' or ') : 'a different value'}, got ${describeValue(value)}`);
        return;
      }
      for (const inner of branch) describe(inner, path, ctx, out);
      return;
    }
    case 'too_small': {
      if (isCustom(issue.message)) {
        push(path, issue.message);
        return;
      }
      const n = Number(issue.minimum);
      if (issue.origin === 'array' || issue.origin === 'set') push(path, n <= 1 ? 'must not be empty' : `must have at least ${n} items`);
      else if (issue.origin === 'string') push(path, n <= 1 ? 'must not be empty' : `must be at least ${n} characters long`);
      else push(path, `must be ${issue.inclusive ? 'at least' : 'greater than'} ${n}, got ${showValue(value)}`);
      return;
    }
    case 'too_big': {
      if (isCustom(issue.message)) {
        push(path, issue.message);
        return;
      }
      const n = Number(issue.maximum);
      if (issue.origin === 'array' || issue.origin === 'set') push(path, `must have at most ${n} items`);
      else if (issue.origin === 'string') push(path, `must be at most ${n} characters long`);
      else push(path, `must be ${issue.inclusive ? 'at most' : 'less than'} ${n}, got ${showValue(value)}`);
      return;
    }
    case 'not_multiple_of':
      push(path, `must be a multiple of ${String(issue.divisor)}`);
      return;
    case 'invalid_format':
      push(path, isCustom(issue.message) ? issue.message : `expected a valid ${issue.format}, got ${describeValue(value)}`);
      return;
    case 'invalid_key':
    case 'invalid_element':
      for (const inner of issue.issues) describe(inner, path, ctx, out);
      return;
    default:
      // 'custom' (a refine's own message) and any kind zod adds later.
      push(path, isCustom(issue.message) ? issue.message : `invalid value: ${issue.message}`);
  }
}

/** Zod's default messages start with a capital; ours are lowercase sentences. */
function isCustom(message: string): boolean {
  return !/^(Invalid|Too (small|big)|Unrecognized|Expected|Unexpected)/.test(message);
}

/**
 * Picks the union branch most likely meant: one whose type matched (no
 * invalid_type at its root), with the fewest issues.
 */
function bestBranch(branches: readonly (readonly Issue[])[]): readonly Issue[] | undefined {
  const typed = branches.filter((b) => !b.some((i) => i.path.length === 0 && (i.code === 'invalid_type' || i.code === 'invalid_value')));
  if (typed.length === 0) return undefined;
  return typed.reduce((a, b) => (b.length < a.length ? b : a));
}

export function valueAt(data: unknown, path: DataPath): unknown {
  let cur: unknown = data;
  for (const seg of path) {
    if (Array.isArray(cur) && typeof seg === 'number') cur = cur[seg];
    else if (isPlainObject(cur)) cur = cur[String(seg)];
    else return undefined;
  }
  return cur;
}

function isMissing(data: unknown, path: DataPath): boolean {
  const parent = valueAt(data, path.slice(0, -1));
  const key = path[path.length - 1];
  return isPlainObject(parent) && !Object.hasOwn(parent, String(key));
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v) && !(v instanceof Date);
}

const TYPE_NAMES: Record<string, string> = {
  object: 'a map',
  record: 'a map',
  map: 'a map',
  array: 'a list',
  tuple: 'a list',
  set: 'a list',
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  bigint: 'a whole number',
  boolean: 'true or false',
  null: 'null',
  date: 'a date',
};

export function typeName(expected: string): string {
  return TYPE_NAMES[expected] ?? `a ${expected}`;
}

/** How a value looks in a message: short, and never the whole value for maps and lists. */
export function describeValue(v: unknown): string {
  if (v === undefined || v === null) return 'nothing';
  if (typeof v === 'string') return 'a string';
  if (typeof v === 'number') return 'a number';
  if (typeof v === 'boolean') return `${v}`;
  if (Array.isArray(v)) return 'a list';
  if (Buffer.isBuffer(v)) return 'binary data';
  if (typeof v === 'object') return 'a map';
  return typeof v;
}

/** A short scalar shown as written (quoted strings), anything bigger by its kind. */
export function showValue(v: unknown): string {
  if (typeof v === 'string' && v.length <= 40) return `'${v}'`;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return describeValue(v);
}

/** The keys an object schema accepts at `path`, looking through optional/default/union wrappers. */
export function knownKeysAt(schema: z.ZodType, path: DataPath): string[] {
  const keys = new Set<string>();
  for (const node of schemasAt(schema, path)) for (const k of objectKeys(node)) keys.add(k);
  return [...keys];
}

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  valueType?: z.ZodType;
  innerType?: z.ZodType;
  in?: z.ZodType;
  options?: z.ZodType[];
  left?: z.ZodType;
  right?: z.ZodType;
  getter?: () => z.ZodType;
}

function defOf(s: z.ZodType): Def {
  return (s as unknown as { _zod: { def: Def } })._zod.def;
}

/** Wrappers that do not change the shape of the data. */
function unwrap(s: z.ZodType, depth = 0): z.ZodType[] {
  if (depth > 20) return [s];
  const d = defOf(s);
  if (d.innerType && ['optional', 'nullable', 'default', 'prefault', 'readonly', 'catch', 'nonoptional', 'exact_optional'].includes(d.type))
    return unwrap(d.innerType, depth + 1);
  if (d.type === 'pipe' && d.in) return unwrap(d.in, depth + 1);
  if (d.type === 'lazy' && d.getter) return unwrap(d.getter(), depth + 1);
  if (d.type === 'union' && d.options) return d.options.flatMap((o) => unwrap(o, depth + 1));
  if (d.type === 'intersection' && d.left && d.right) return [...unwrap(d.left, depth + 1), ...unwrap(d.right, depth + 1)];
  return [s];
}

function schemasAt(schema: z.ZodType, path: DataPath): z.ZodType[] {
  let current = unwrap(schema);
  for (const seg of path) {
    const next: z.ZodType[] = [];
    for (const s of current) {
      const d = defOf(s);
      if (d.type === 'object' && d.shape && typeof seg === 'string' && d.shape[seg]) next.push(d.shape[seg]);
      else if (d.type === 'array' && d.element && typeof seg === 'number') next.push(d.element);
      else if (d.type === 'record' && d.valueType) next.push(d.valueType);
    }
    current = next.flatMap((s) => unwrap(s));
  }
  return current;
}

function objectKeys(s: z.ZodType): string[] {
  const d = defOf(s);
  return d.type === 'object' && d.shape ? Object.keys(d.shape) : [];
}
