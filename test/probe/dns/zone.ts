import type { ZoneSpec } from '../../support/dnsmasq.js';

/**
 * The made-up zone the DNS tests serve from dnsmasq: one domain per case,
 * all under example.test (the reserved .test TLD).
 */
export const ZONE = 'example.test';
export const FULL = `full.${ZONE}`;
export const EMPTY = `empty.${ZONE}`;
export const A_ONLY = `aonly.${ZONE}`;
export const NULL_MX = `nullmx.${ZONE}`;
export const MIXED_MX = `mixed.${ZONE}`;
export const BAD_TARGETS = `bad.${ZONE}`;
export const TWO_POLICIES = `twice.${ZONE}`;

export const hex = (byte: string, count: number): string => byte.repeat(count);
/** TLSA 3 1 1 (DANE-EE, SPKI, SHA-256), RFC 6698 §2.1: usage, selector, matching type, then the data. */
export const MX1_TLSA = `030101${hex('ab', 32)}`;
/** Three TLSA 3 0 0 records with 200 bytes of data each: more than the 512 bytes a plain UDP answer may hold, so dnsmasq sets TC. */
export const MX2_TLSA = ['cd', 'ef', '01'].map((byte) => `030000${hex(byte, 200)}`);

export const TEST_ZONE: ZoneSpec = {
  zone: ZONE,
  hosts: {
    [FULL]: ['192.0.2.10', '2001:db8::10'],
    [`mx1.${FULL}`]: ['192.0.2.1', '2001:db8::1'],
    [`mx2.${FULL}`]: ['192.0.2.2'],
    [`mail.${FULL}`]: ['192.0.2.20'],
    [`imap.${FULL}`]: ['192.0.2.21', '2001:db8::21'],
    [`smtp.${FULL}`]: ['192.0.2.22'],
    [A_ONLY]: ['192.0.2.30'],
    [`mx.${MIXED_MX}`]: ['192.0.2.40'],
  },
  mx: [
    { name: FULL, exchange: `mx2.${FULL}`, preference: 20 },
    { name: FULL, exchange: `mx1.${FULL}`, preference: 10 },
    { name: MIXED_MX, exchange: `mx.${MIXED_MX}`, preference: 10 },
    { name: BAD_TARGETS, exchange: `nowhere.${BAD_TARGETS}`, preference: 10 },
  ],
  srv: [
    { name: `_submissions._tcp.${FULL}`, target: `smtp.${FULL}`, port: 465, priority: 0, weight: 1 },
    { name: `_submission._tcp.${FULL}`, target: `smtp.${FULL}`, port: 587, priority: 0, weight: 1 },
    { name: `_imaps._tcp.${FULL}`, target: `imap.${FULL}`, port: 993, priority: 0, weight: 1 },
    { name: `_imap._tcp.${FULL}`, target: `imap.${FULL}`, port: 143, priority: 10, weight: 1 },
    { name: `_pop3s._tcp.${FULL}`, target: `mail.${FULL}`, port: 995, priority: 0, weight: 1 },
    { name: `_pop3._tcp.${FULL}`, target: '.', port: 0 },
    { name: `_imaps._tcp.${BAD_TARGETS}`, target: `ghost.${BAD_TARGETS}`, port: 993 },
  ],
  txt: [
    // Two strings: one record, to be joined without a separator (RFC 7208 §3.3).
    { name: FULL, strings: ['v=spf1 ip4:192.0.2.0/24 ', 'mx -all'] },
    { name: FULL, strings: ['site-verification=not-a-policy'] },
    { name: `_dmarc.${FULL}`, strings: ['v=DMARC1; p=reject; rua=mailto:dmarc@full.example.test'] },
    { name: `_mta-sts.${FULL}`, strings: ['v=STSv1; id=20260101T000000'] },
    { name: `_smtp._tls.${FULL}`, strings: ['v=TLSRPTv1; rua=mailto:tls@full.example.test'] },
    { name: TWO_POLICIES, strings: ['v=spf1 a -all'] },
    { name: TWO_POLICIES, strings: ['v=spf1 mx -all'] },
    // Not SPF: the version must be followed by a space or the end (RFC 7208 §4.5).
    { name: TWO_POLICIES, strings: ['v=spf10 nothing'] },
    { name: `_dmarc.${TWO_POLICIES}`, strings: ['v=DMARC1; p=none'] },
    { name: `_dmarc.${TWO_POLICIES}`, strings: ['v=DMARC1; p=reject'] },
  ],
  raw: [
    { name: `_25._tcp.mx1.${FULL}`, type: 52, hex: MX1_TLSA },
    ...MX2_TLSA.map((data) => ({ name: `_25._tcp.mx2.${FULL}`, type: 52, hex: data })),
    // The Null MX "0 .": preference 0, then the root name (one zero byte), RFC 7505 §3.
    { name: NULL_MX, type: 15, hex: '000000' },
    { name: MIXED_MX, type: 15, hex: '000000' },
  ],
};
