/**
 * Masking of secret values in code frames.
 *
 * Why: a diagnostic's code frame prints lines of the user's file back to the
 * terminal and to CI logs. Passwords must never appear in any output, and a
 * user who (wrongly) writes a password into a target or scenario file would
 * otherwise get it printed right there, next to the error telling them not to.
 * So every frame line goes through redactSecrets: the value of any key that
 * names a secret is replaced with `[redacted]`, the key itself stays visible so
 * the user still sees where the problem is. This is a line scanner, not a YAML
 * parser: it must also work on files that do not parse, and when unsure it
 * masks too much rather than too little.
 */

export const REDACTED = '[redacted]';

/** What `password_env` must look like: an environment variable name by convention. */
export const ENV_VAR_NAME_RE = /^[A-Z_][A-Z0-9_]*$/;

const SECRET_KEY_RE = /^(?:[A-Za-z0-9_-]*[_-])?(?:password|passwd|passphrase|pass|pwd|secret|token|api[_-]?key)$/i;
const CAMEL_SECRET_KEY_RE = /[a-z0-9](?:Password|Passwd|Passphrase|Pass|Pwd|Secret|Token|ApiKey)$/;

/** `password`, `smtp_password`, `Token`, `api_key`, `authToken`…; not `password_env` (a variable name). */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY_RE.test(key) || CAMEL_SECRET_KEY_RE.test(key);
}

/** One source line as a frame may show it, and where an original 1-based column moved to. */
export interface RedactedLine {
  readonly text: string;
  col(original: number): number;
}

interface Span {
  readonly start: number;
  readonly end: number;
}

/** Where a secret value continues past its key's line. */
type Carry = { readonly kind: 'indent'; readonly keyCol: number } | { readonly kind: 'quote'; readonly quote: string } | undefined;

/** Every line of `source` with secret values replaced by `[redacted]` (see the comment at the top). */
export function redactSecrets(source: string): RedactedLine[] {
  let carry: Carry;
  return source.split(/\r?\n/).map((line) => {
    const spans: Span[] = [];
    let from = 0;
    const lineEnd = line.trimEnd().length;
    const first = line.length - line.trimStart().length;
    if (carry?.kind === 'quote') {
      const close = closingQuote(line, 0, carry.quote);
      if (close < 0) {
        if (first < lineEnd) spans.push({ start: first, end: lineEnd });
        return apply(line, spans);
      }
      spans.push({ start: first, end: close + 1 });
      carry = undefined;
      from = close + 1;
    } else if (carry?.kind === 'indent') {
      if (first >= lineEnd) return apply(line, spans);
      if (first > carry.keyCol) {
        spans.push({ start: first, end: lineEnd });
        return apply(line, spans);
      }
      carry = undefined;
    }
    carry = scanLine(line, from, spans);
    return apply(line, spans);
  });
}

/** Finds keys on one line and records the spans of secret values; returns what continues on the next line. */
function scanLine(line: string, from: number, spans: Span[]): Carry {
  let depth = 0;
  let i = from;
  const end = line.length;
  const isFlowStop = (ch: string | undefined) => ch === ',' || ch === '[' || ch === ']' || ch === '{' || ch === '}';
  while (i < end) {
    const c = line[i]!;
    if (c === ' ' || c === '\t' || c === ',') {
      i++;
      continue;
    }
    if (c === '#' && (i === 0 || /\s/.test(line[i - 1]!))) return undefined;
    if (c === '{' || c === '[') {
      depth++;
      i++;
      continue;
    }
    if (c === '}' || c === ']') {
      depth = Math.max(0, depth - 1);
      i++;
      continue;
    }
    if (c === '-' && (i + 1 === end || /\s/.test(line[i + 1]!))) {
      i++;
      continue;
    }
    // A token: quoted or plain. It is a key when a ':' follows.
    const keyCol = i;
    let name: string;
    let j: number;
    if (c === '"' || c === "'") {
      const close = closingQuote(line, i + 1, c);
      if (close < 0) return undefined;
      name = line.slice(i + 1, close);
      j = close + 1;
      while (j < end && (line[j] === ' ' || line[j] === '\t')) j++;
      if (line[j] !== ':') {
        i = j;
        continue;
      }
    } else {
      j = i;
      while (j < end) {
        const ch = line[j]!;
        if (ch === ':' && (j + 1 === end || /\s/.test(line[j + 1]!) || (depth > 0 && isFlowStop(line[j + 1])))) break;
        if (ch === '#' && /\s/.test(line[j - 1] ?? ' ')) break;
        if (depth > 0 && isFlowStop(ch)) break;
        j++;
      }
      if (line[j] !== ':') {
        i = j;
        continue;
      }
      name = line.slice(i, j).trimEnd();
    }
    // Past the ':' to the value.
    let v = j + 1;
    while (v < end && (line[v] === ' ' || line[v] === '\t')) v++;
    const envName = name === 'password_env';
    if (!envName && !isSecretKey(name)) {
      i = v;
      continue;
    }
    const vc = line[v];
    if (vc === undefined || (vc === '#' && v > j + 1)) return envName ? undefined : { kind: 'indent', keyCol };
    if (vc === '|' || vc === '>') return envName ? undefined : { kind: 'indent', keyCol };
    let e: number;
    let carry: Carry;
    let value: string;
    if (vc === '"' || vc === "'") {
      const close = closingQuote(line, v + 1, vc);
      e = close < 0 ? line.trimEnd().length : close + 1;
      carry = close < 0 ? { kind: 'quote', quote: vc } : undefined;
      value = close < 0 ? '' : line.slice(v + 1, close);
    } else if (depth === 0 && vc !== '{' && vc !== '[') {
      // Block style: the rest of the line (a trailing comment may be part of what the user meant).
      e = line.trimEnd().length;
      carry = undefined;
      value = line.slice(v, e).replace(/\s+#.*$/, '');
    } else {
      e = flowValueEnd(line, v);
      carry = e === line.trimEnd().length && depth === 0 ? { kind: 'indent', keyCol } : undefined;
      value = line.slice(v, e);
    }
    if (envName && carry === undefined && ENV_VAR_NAME_RE.test(value)) {
      i = e;
      continue;
    }
    spans.push({ start: v, end: e });
    if (carry !== undefined) return carry;
    i = e;
  }
  return undefined;
}

/** End of a plain or bracketed value inside a flow collection: the ', ' or closing bracket after it. */
function flowValueEnd(line: string, v: number): number {
  let nest = 0;
  let k = v;
  for (; k < line.length; k++) {
    const ch = line[k]!;
    if (ch === '"' || ch === "'") {
      const close = closingQuote(line, k + 1, ch);
      if (close < 0) return line.trimEnd().length;
      k = close;
    } else if (ch === '{' || ch === '[') nest++;
    else if (ch === '}' || ch === ']') {
      if (nest === 0) break;
      nest--;
      if (nest === 0 && k > v && (line[v] === '{' || line[v] === '[')) return k + 1;
    } else if (nest === 0 && ch === ',' && (k + 1 === line.length || /\s/.test(line[k + 1]!))) break;
    else if (nest === 0 && ch === '#' && /\s/.test(line[k - 1] ?? '')) break;
  }
  let e = k;
  while (e > v && /\s/.test(line[e - 1]!)) e--;
  return e;
}

/** Index of the quote closing a string that started before `from` ('' and \" are escapes), or -1. */
function closingQuote(line: string, from: number, quote: string): number {
  for (let k = from; k < line.length; k++) {
    const ch = line[k];
    if (quote === '"' && ch === '\\') k++;
    else if (ch === quote) {
      if (quote === "'" && line[k + 1] === "'") k++;
      else return k;
    }
  }
  return -1;
}

function apply(line: string, spans: readonly Span[]): RedactedLine {
  if (spans.length === 0) return { text: line, col: (c) => c };
  let text = '';
  let at = 0;
  for (const s of spans) {
    text += line.slice(at, s.start) + REDACTED;
    at = s.end;
  }
  text += line.slice(at);
  return {
    text,
    col(original) {
      const x = original - 1;
      let shift = 0;
      for (const s of spans) {
        if (x < s.start) break;
        if (x < s.end) return s.start + shift + 1;
        shift += REDACTED.length - (s.end - s.start);
      }
      return x + shift + 1;
    },
  };
}
