import type { ImapFlowOptions } from 'imapflow';
import type { Limits } from '../../transport/limits.js';
import { ImapSessionError } from './errors.js';

/**
 * mailprobe's bounds on server input (src/transport/limits.ts) in imapflow's
 * terms, and imapflow's limit errors back in mailprobe's.
 */
/**
 * Tokens (atoms, strings, literals, lists) in one response. Each costs about
 * a hundred bytes of heap while imapflow parses it, so this bounds parsing a
 * response to some 10 MB; no answer to mailprobe's own commands comes near.
 */
const MAX_RESPONSE_TOKENS = 100_000;

/**
 * mailprobe's limits as imapflow's parser options. imapflow counts the line
 * end in a line, and a response carries its literal's marker line and
 * framing beside the literal, so each gets that much room and no more.
 */
export function imapflowLimits(limits: Limits): Pick<ImapFlowOptions, 'maxLineLength' | 'maxLiteralSize' | 'maxResponseSize' | 'maxResponseTokens'> {
  return {
    maxLineLength: limits.maxLineLength + 2,
    maxLiteralSize: limits.maxMessageBytes,
    maxResponseSize: limits.maxMessageBytes + 2 * (limits.maxLineLength + 2),
    maxResponseTokens: MAX_RESPONSE_TOKENS,
  };
}

/** imapflow's LineTooLarge / LiteralTooLarge / ResponseTooLarge / TooManyTokens as ELIMIT, naming the limit. */
export function limitError(err: unknown, phase: string, where: string, limits: Limits): ImapSessionError | undefined {
  const e = err as { code?: string; literalSize?: number } | undefined;
  const own = imapflowLimits(limits);
  let what: string;
  switch (e?.code) {
    case 'LineTooLarge':
      what = `a line longer than ${limits.maxLineLength} octets, more than the limit maxLineLength (${limits.maxLineLength}) allows`;
      break;
    case 'LiteralTooLarge':
      what = `a literal of ${Number.isFinite(e.literalSize) ? `${e.literalSize} octets` : 'a size of more than 19 digits'}, more than the limit maxMessageBytes (${limits.maxMessageBytes}) allows`;
      break;
    case 'ResponseTooLarge':
      what = `a response larger than ${own.maxResponseSize} octets, more than the limit maxMessageBytes (${limits.maxMessageBytes}) and two lines of framing allow`;
      break;
    case 'TooManyTokens':
      what = `a response of more than ${MAX_RESPONSE_TOKENS} tokens, more than the limit on tokens per response allows`;
      break;
    default:
      return undefined;
  }
  return new ImapSessionError('ELIMIT', `${where} sent ${what}; the connection was dropped (server input is bounded, see src/transport/limits.ts)`, phase);
}
