import { isDeepStrictEqual } from 'node:util';
import { truncate } from '../core/text.js';

/** Reads `a.b.0.c` out of a step's output; "$" is the whole output. */
export function readPath(root: unknown, path: string): unknown {
  if (path === '$' || path === '') return root;
  let current: unknown = root;
  for (const key of path.split('.')) {
    if (current === null || current === undefined) return undefined;
    if (Array.isArray(current)) {
      current = /^\d+$/.test(key) ? current[Number(key)] : key === 'length' ? current.length : undefined;
    } else if (typeof current === 'object') {
      current = (current as Record<string, unknown>)[key];
    } else {
      return undefined;
    }
  }
  return current;
}

/** A value read as a number: integers exactly (bigint), anything else as a double. */
type Numeric = { readonly integer: bigint } | { readonly real: number };

const INTEGER = /^\s*[+-]?\d+\s*$/;

/**
 * Numbers, bigints and numeric strings as numbers; undefined for anything else.
 * Integers stay exact: an RFC 7162 mod-sequence is up to 2^63-1, and Number()
 * would make 9223372036854775806 and …807 equal.
 */
export function numericValue(value: unknown): Numeric | undefined {
  if (typeof value === 'bigint') return { integer: value };
  if (typeof value === 'number') {
    if (Number.isInteger(value)) return { integer: BigInt(value) };
    return Number.isFinite(value) ? { real: value } : undefined;
  }
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  if (INTEGER.test(value)) return { integer: BigInt(value.trim()) };
  const real = Number(value);
  return Number.isFinite(real) ? { real } : undefined;
}

/** -1, 0 or 1 as `a` is below, equal to or above `b`; undefined unless both are numbers. */
export function compareNumeric(a: unknown, b: unknown): -1 | 0 | 1 | undefined {
  const x = numericValue(a);
  const y = numericValue(b);
  if (x === undefined || y === undefined) return undefined;
  if ('integer' in x && 'integer' in y) return x.integer < y.integer ? -1 : x.integer > y.integer ? 1 : 0;
  const p = 'integer' in x ? Number(x.integer) : x.real;
  const q = 'integer' in y ? Number(y.integer) : y.real;
  return p < q ? -1 : p > q ? 1 : 0;
}

/** Numbers and numeric strings compare as numbers: YAML and protocols disagree on which a UID is. */
export function looselyEqual(a: unknown, b: unknown): boolean {
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  const numberish = (v: unknown) => typeof v === 'number' || typeof v === 'bigint';
  if ((numberish(a) && (numberish(b) || typeof b === 'string')) || (typeof a === 'string' && numberish(b))) {
    return compareNumeric(a, b) === 0;
  }
  return isDeepStrictEqual(a, b);
}

const MAX_SHOWN = 240;

/** A short, human rendering of a value for "expected / actual" lines. */
export function describeValue(value: unknown): string {
  if (value === undefined) return '(nothing)';
  if (Buffer.isBuffer(value)) return `<${value.length} octets>`;
  if (typeof value === 'string') return truncate(JSON.stringify(value), MAX_SHOWN, { showLength: true });
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean' || value === null) return String(value);
  try {
    return truncate(
      JSON.stringify(value, (_k, v: unknown) =>
        isBufferJson(v) ? `<${(v as { data: unknown[] }).data.length} octets>` : typeof v === 'bigint' ? String(v) : v,
      ),
      MAX_SHOWN,
      { showLength: true },
    );
  } catch {
    return String(value);
  }
}

function isBufferJson(v: unknown): boolean {
  return typeof v === 'object' && v !== null && (v as { type?: unknown }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data);
}
