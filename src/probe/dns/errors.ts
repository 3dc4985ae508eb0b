/**
 * Why a DNS lookup could not be made. An empty answer (no such name, no
 * record of that type) is not an error: the client returns []. Everything
 * here means the question went unanswered, so "absent" must never be
 * concluded from it.
 */
export type DnsFailureKind = 'servfail' | 'refused' | 'timeout' | 'unreachable' | 'bad-response' | 'aborted' | 'other';

export class DnsLookupError extends Error {
  readonly kind: DnsFailureKind;
  /** The name and record type that were asked for. */
  readonly query: { readonly name: string; readonly type: string };

  constructor(kind: DnsFailureKind, query: { readonly name: string; readonly type: string }, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DnsLookupError';
    this.kind = kind;
    this.query = query;
  }
}

export function isDnsLookupError(error: unknown): error is DnsLookupError {
  return error instanceof DnsLookupError;
}

/** Node's resolver error codes (c-ares) that mean "the answer is empty", not "the lookup failed". */
export const EMPTY_ANSWER_CODES: ReadonlySet<string> = new Set(['ENODATA', 'ENOTFOUND']);

/** A c-ares error code as one of our kinds. */
export function kindOfResolverCode(code: string | undefined): DnsFailureKind {
  switch (code) {
    case 'ESERVFAIL':
      return 'servfail';
    case 'EREFUSED':
      return 'refused';
    case 'ETIMEOUT':
      return 'timeout';
    case 'ECONNREFUSED':
      return 'unreachable';
    case 'ECANCELLED':
    case 'EDESTRUCTION':
      return 'aborted';
    case 'EBADRESP':
    case 'EFORMERR':
    case 'EBADNAME':
    case 'EBADQUERY':
    case 'EBADFAMILY':
      return 'bad-response';
    default:
      return 'other';
  }
}

/** The RCODE of an answer (RFC 1035 §4.1.1) as one of our kinds; undefined for NOERROR and NXDOMAIN, which are answers. */
export function kindOfRcode(rcode: string): DnsFailureKind | undefined {
  switch (rcode) {
    case 'NOERROR':
    case 'NXDOMAIN':
      return undefined;
    case 'SERVFAIL':
      return 'servfail';
    case 'REFUSED':
      return 'refused';
    case 'FORMERR':
      return 'bad-response';
    default:
      return 'other';
  }
}
