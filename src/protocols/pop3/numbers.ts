import { quoted } from '../../core/text.js';
import { MAX_EXACT, readSmallDecimal, type DecimalRule } from '../wire-numbers.js';
import { Pop3ProtocolError } from './errors.js';

/**
 * The numbers of RFC 1939, each with the clause that defines it. RFC 1939
 * sets no upper bound; mailprobe's is the largest integer a JavaScript number
 * holds exactly (2^53-1), far above any real maildrop, so a larger value is
 * refused rather than rounded.
 */
const DECIMAL = 'all message-numbers and message sizes are expressed in base-10 (i.e., decimal)';

export const POP3_NUMBERS = {
  messageNumber: {
    name: 'message-number',
    min: 1n,
    max: MAX_EXACT,
    clause: `RFC 1939 §4: the first message in the maildrop is assigned a message-number of "1"; ${DECIMAL}`,
  },
  dropCount: {
    name: 'number of messages',
    min: 0n,
    max: MAX_EXACT,
    clause: `RFC 1939 §5: STAT's drop listing is "+OK" followed by a single space, the number of messages in the maildrop, a single space, and the size of the maildrop in octets; RFC 1939 §4: ${DECIMAL}`,
  },
  dropSize: {
    name: 'size in octets',
    min: 0n,
    max: MAX_EXACT,
    clause: `RFC 1939 §5: STAT's drop listing is "+OK" followed by a single space, the number of messages in the maildrop, a single space, and the size of the maildrop in octets; RFC 1939 §4: ${DECIMAL}`,
  },
  scanSize: {
    name: 'size in octets',
    min: 0n,
    max: MAX_EXACT,
    clause: `RFC 1939 §5: LIST's scan listing is the message-number of the message, followed by a single space and the exact size of the message in octets; RFC 1939 §4: ${DECIMAL}`,
  },
} as const satisfies Record<string, DecimalRule>;

/**
 * One number of a reply by its rule; throws EPOP3_MALFORMED naming the
 * number, the reply and the clause (a failed check, see runner/classify.ts).
 */
export function pop3Number(text: string, rule: DecimalRule, command: string, line: string): number {
  const reading = readSmallDecimal(text, rule);
  if (reading.ok) return reading.value;
  throw new Pop3ProtocolError('EPOP3_MALFORMED', `malformed reply to ${command}: ${reading.problem} in ${quoted(line)}`, command, {
    clause: rule.clause,
  });
}
