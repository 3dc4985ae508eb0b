import { isDeepStrictEqual } from 'node:util';

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

/** Numbers and numeric strings compare as numbers: YAML and protocols disagree on which a UID is. */
export function looselyEqual(a: unknown, b: unknown): boolean {
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  if (typeof a === 'number' && typeof b === 'string' && b.trim() !== '') return a === Number(b);
  if (typeof a === 'string' && typeof b === 'number' && a.trim() !== '') return Number(a) === b;
  return isDeepStrictEqual(a, b);
}

const MAX_SHOWN = 240;

/** A short, human rendering of a value for "expected / actual" lines. */
export function describeValue(value: unknown): string {
  if (value === undefined) return '(nothing)';
  if (Buffer.isBuffer(value)) return `<${value.length} octets>`;
  if (typeof value === 'string') return truncate(JSON.stringify(value));
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  try {
    return truncate(JSON.stringify(value, (_k, v: unknown) => (isBufferJson(v) ? `<${(v as { data: unknown[] }).data.length} octets>` : v)));
  } catch {
    return String(value);
  }
}

function isBufferJson(v: unknown): boolean {
  return typeof v === 'object' && v !== null && (v as { type?: unknown }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data);
}

function truncate(text: string): string {
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}… (${text.length} chars)` : text;
}
