/**
 * The MTA-STS policy file (RFC 8461 §3.2, the "version", "mode", "max_age" and
 * "mx" fields IANA registers there), fetched from
 * https://mta-sts.<domain>/.well-known/mta-sts.txt, and the check that every
 * MX host is covered by one of its mx patterns.
 *
 * Read as senders read it: key/value lines split on LF or CRLF, "key: value",
 * keys case-sensitive; unknown keys ignored (§3.2: "possibly containing
 * additional key/value pairs not specified in this document, in which case
 * unknown fields SHALL be ignored"); every mx on its own line (§3.2: "each MX
 * MUST have its own "mx:" key"); the first of any other repeated field kept.
 * What makes a policy invalid:
 * version other than STSv1, a mode other than enforce/testing/none, a max_age
 * that is not 1–10 digits up to 31557600 seconds (one year), and no mx line
 * in a mode other than none.
 */

export type MtaStsMode = 'enforce' | 'testing' | 'none';

export interface MtaStsPolicy {
  readonly version: 'STSv1';
  readonly mode: MtaStsMode;
  /** Lower-case, no trailing dot; a wildcard keeps its "*." prefix. */
  readonly mx: readonly string[];
  readonly maxAge: number;
}

export type MtaStsParse = { readonly ok: true; readonly policy: MtaStsPolicy } | { readonly ok: false; readonly problems: readonly string[] };

const MAX_AGE_LIMIT = 31_557_600;
const MODES: readonly string[] = ['enforce', 'testing', 'none'];
/** A name, or "*." and a name: the wildcard may only be the whole leftmost label. */
const MX_PATTERN = /^(\*\.)?([a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)+$/;

export function parseMtaStsPolicy(text: string): MtaStsParse {
  const fields = new Map<string, string>();
  const mx: string[] = [];
  const problems: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.length === 0) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) {
      problems.push(`line "${clip(line)}" is not "key: value"`);
      continue;
    }
    const key = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (key === 'mx') {
      const pattern = value.toLowerCase().replace(/\.$/, '');
      if (MX_PATTERN.test(pattern)) mx.push(pattern);
      else problems.push(`mx "${clip(value)}" is not a host name or a "*." pattern`);
    } else if (!fields.has(key)) fields.set(key, value);
  }
  const version = fields.get('version');
  if (version !== 'STSv1') problems.push(version === undefined ? 'no "version: STSv1" line' : `version "${clip(version)}" is not STSv1`);
  const mode = fields.get('mode');
  if (mode === undefined || !MODES.includes(mode))
    problems.push(mode === undefined ? 'no "mode" line' : `mode "${clip(mode)}" is not enforce, testing or none`);
  const maxAgeText = fields.get('max_age');
  const maxAge = maxAgeText !== undefined && /^\d{1,10}$/.test(maxAgeText) ? Number(maxAgeText) : Number.NaN;
  if (!(maxAge <= MAX_AGE_LIMIT)) {
    problems.push(maxAgeText === undefined ? 'no "max_age" line' : `max_age "${clip(maxAgeText)}" is not a number of seconds up to ${MAX_AGE_LIMIT}`);
  }
  if (mx.length === 0 && mode !== 'none') problems.push('no valid "mx" line');
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, policy: { version: 'STSv1', mode: mode as MtaStsMode, mx, maxAge } };
}

/**
 * Whether MX host `host` matches `pattern`: equal names, or "*.rest" matching a
 * name of exactly one more label in front of "rest" (so *.example.test covers
 * mx1.example.test, but neither example.test nor a.mx1.example.test).
 */
export function mxMatchesPattern(host: string, pattern: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, '');
  const wanted = pattern.toLowerCase().replace(/\.$/, '');
  if (!wanted.startsWith('*.')) return name === wanted;
  const dot = name.indexOf('.');
  return dot > 0 && name.slice(dot + 1) === wanted.slice(2);
}

export function mxCovered(host: string, policy: MtaStsPolicy): boolean {
  return policy.mx.some((pattern) => mxMatchesPattern(host, pattern));
}

function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
