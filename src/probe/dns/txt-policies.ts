import type { DnsFailureKind } from './errors.js';

/** What a lookup came to: its value, or the reason it could not be made. */
export type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string; readonly kind: DnsFailureKind };

/** The TXT policies looked up, each at its own owner name and told apart by its version tag. */
export const TXT_POLICIES = {
  // RFC 7208 §4.5: the version section "v=spf1", then a space or the end of the record (so "v=spf10" is none);
  // §3.2 forbids publishing more than one, and §4.5 makes more than one a permerror.
  spf: { owner: (domain: string) => domain, tag: /^v=spf1(?: |$)/i },
  // RFC 7489 §6.6.3: records that do not start with the "v=DMARC1" tag are discarded.
  dmarc: { owner: (domain: string) => `_dmarc.${domain}`, tag: /^v\s*=\s*DMARC1\s*(?:;|$)/ },
  // RFC 8461 §3.1: records that do not begin with "v=STSv1;" are discarded.
  mtaSts: { owner: (domain: string) => `_mta-sts.${domain}`, tag: /^v=STSv1\s*(?:;|$)/ },
  // RFC 8460 §3: records that do not begin with "v=TLSRPTv1;" are discarded (whitespace before the ";" is let through, as the field delimiter allows).
  tlsRpt: { owner: (domain: string) => `_smtp._tls.${domain}`, tag: /^v=TLSRPTv1\s*(?:;|$)/ },
} as const;
export type TxtPolicy = keyof typeof TXT_POLICIES;

/** The TXT records of `policy` among a lookup's answers: those carrying its version tag. */
export function matching(outcome: Outcome<string[]>, policy: TxtPolicy): string[] {
  return outcome.ok ? outcome.value.filter((record) => TXT_POLICIES[policy].tag.test(record)) : [];
}
