/**
 * The `${scope.path ± N}` template language, applied to string leaves of the
 * parsed YAML tree only (never to raw YAML text, so a value can never change
 * the structure of a scenario).
 *
 *   ${captures.before.count - 1}   reference with integer arithmetic
 *   $${literal}                    escape: yields the text `${literal}`
 *
 * Path segments are identifiers or list indexes; hyphens are not allowed in
 * names so that `count-1` reads as arithmetic, not as a name.
 */
export interface Reference {
  readonly scope: string;
  /** Segments after the scope; digit-only segments are list indexes. */
  readonly segments: readonly string[];
  /** Integer to add after lookup (negative for `-`), if any. */
  readonly add?: number;
  /** The text between `${` and `}`, for messages. */
  readonly expr: string;
}

export type TemplatePart = { readonly kind: 'text'; readonly text: string } | { readonly kind: 'ref'; readonly ref: Reference };

export class TemplateSyntaxError extends Error {
  readonly code = 'EINTERP_SYNTAX';
  constructor(message: string) {
    super(message);
    this.name = 'TemplateSyntaxError';
  }
}

const EXPR = /^\s*([A-Za-z_][A-Za-z0-9_]*(?:\.(?:[A-Za-z_][A-Za-z0-9_]*|\d+))*)\s*(?:([+-])\s*(\d+))?\s*$/;

/** Splits a string into literal text and references. Throws TemplateSyntaxError. */
export function parseTemplate(s: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let text = '';
  let i = 0;
  while (i < s.length) {
    if (s.startsWith('$${', i)) {
      text += '${';
      i += 3;
      continue;
    }
    if (s.startsWith('${', i)) {
      const end = s.indexOf('}', i + 2);
      if (end < 0) throw new TemplateSyntaxError(`unterminated '\${' (close it with '}', or write '$\${' for a literal '\${')`);
      const expr = s.slice(i + 2, end);
      if (text !== '') parts.push({ kind: 'text', text });
      text = '';
      parts.push({ kind: 'ref', ref: parseExpression(expr) });
      i = end + 1;
      continue;
    }
    text += s[i];
    i++;
  }
  if (text !== '') parts.push({ kind: 'text', text });
  return parts;
}

function parseExpression(expr: string): Reference {
  const m = EXPR.exec(expr);
  if (!m || m[1] === undefined) {
    throw new TemplateSyntaxError(`invalid expression '\${${expr}}': expected \${scope.name}, optionally followed by '+ N' or '- N'`);
  }
  const [scope = '', ...segments] = m[1].split('.');
  const ref: Reference = { scope, segments, expr: expr.trim() };
  if (m[2] !== undefined && m[3] !== undefined) {
    const n = Number(m[3]);
    return { ...ref, add: m[2] === '-' ? -n : n };
  }
  return ref;
}

/** True when the string holds at least one `${…}` that is not escaped as `$${`. */
export function hasInterpolation(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    if (s.startsWith('$${', i)) {
      i += 2;
      continue;
    }
    if (s.startsWith('${', i)) return true;
  }
  return false;
}

/** `scope.a.b` as written, for messages. */
export function referenceName(ref: Reference, depth = ref.segments.length): string {
  return [ref.scope, ...ref.segments.slice(0, depth)].join('.');
}
