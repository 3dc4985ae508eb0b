import type { SmtpReply } from './reply.js';

/**
 * What one EHLO reply advertised (RFC 5321 §4.1.1.1: "ehlo-line = ehlo-keyword
 * *( SP ehlo-param )", the first line being the server's name). The keywords a
 * conformance run judges are lifted out by name; every keyword stays in
 * `keywords`, in the server's order, so nothing advertised is lost.
 */
export interface SmtpExtensions {
  /** Every keyword, upper case, in the order advertised. */
  readonly keywords: readonly string[];
  /** Each keyword's parameters as sent. */
  readonly params: ReadonlyMap<string, readonly string[]>;
  /** SASL mechanisms of the AUTH line, upper case ("AUTH=PLAIN", an old form, is read too). RFC 4954 §3. */
  readonly auth: readonly string[];
  /**
   * SIZE (RFC 1870): undefined when not advertised; `limit` is the fixed
   * maximum in octets when the server gave one (0 means "no fixed maximum",
   * RFC 1870 §3), absent when SIZE came without a number.
   */
  readonly size: { readonly limit?: number } | undefined;
  readonly starttls: boolean;
  /** RFC 2920 */
  readonly pipelining: boolean;
  /** RFC 6152 */
  readonly eightBitMime: boolean;
  /** RFC 6531 */
  readonly smtpUtf8: boolean;
  /** RFC 2034 (codes of RFC 3463) */
  readonly enhancedStatusCodes: boolean;
  /** RFC 3461 */
  readonly dsn: boolean;
  /** RFC 3030 */
  readonly chunking: boolean;
  /** RFC 8689 */
  readonly requireTls: boolean;
}

export const NO_EXTENSIONS: SmtpExtensions = parseExtensions({ code: 250, lines: [], raw: '' });

export function parseExtensions(reply: SmtpReply): SmtpExtensions {
  const params = new Map<string, string[]>();
  for (const line of reply.lines.slice(1)) {
    const words = line
      .trim()
      .split(/[\s=]+/)
      .filter((w) => w !== '');
    const keyword = words[0]?.toUpperCase();
    // A repeated keyword: the first line counts, as most clients read it.
    if (keyword !== undefined && !params.has(keyword)) params.set(keyword, words.slice(1));
  }
  const has = (keyword: string): boolean => params.has(keyword);
  const sizeParam = params.get('SIZE')?.[0];
  const size = !has('SIZE') ? undefined : sizeParam !== undefined && /^\d{1,20}$/.test(sizeParam) ? { limit: Number(sizeParam) } : {};
  return {
    keywords: [...params.keys()],
    params,
    auth: (params.get('AUTH') ?? []).map((m) => m.toUpperCase()),
    size,
    starttls: has('STARTTLS'),
    pipelining: has('PIPELINING'),
    eightBitMime: has('8BITMIME'),
    smtpUtf8: has('SMTPUTF8'),
    enhancedStatusCodes: has('ENHANCEDSTATUSCODES'),
    dsn: has('DSN'),
    chunking: has('CHUNKING'),
    requireTls: has('REQUIRETLS'),
  };
}

/**
 * The RFC 3463 status code at the start of a reply's first line
 * ("class.subject.detail", class 2, 4 or 5, each part 1-3 digits), when its
 * class agrees with the reply code's first digit; RFC 2034 puts it there
 * when the server advertised ENHANCEDSTATUSCODES.
 */
export function enhancedStatusCode(reply: SmtpReply): string | undefined {
  const match = /^([245])\.(\d{1,3})\.(\d{1,3})(?=\s|$)/.exec(reply.lines[0] ?? '');
  if (match === null || match[1] !== String(reply.code)[0]) return undefined;
  return `${match[1]}.${match[2]}.${match[3]}`;
}
