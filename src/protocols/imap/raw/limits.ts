import type { Limits } from '../../../transport/limits.js';

/**
 * Bounds on what one IMAP command may make us buffer. The transport's limits
 * (src/transport/limits.ts) are used where one fits:
 * - one literal ≤ `maxMessageBytes` (a literal is, at most, a message);
 * - untagged responses collected for one command ≤ `maxListingLines` (a
 *   SEARCH/FETCH/LIST answer is the IMAP analogue of a POP3 listing);
 * - every physical line ≤ `maxLineLength`, enforced by the line reader.
 * One bound has no transport equivalent and lives here: the total octets
 * (text and literals) collected for one command. A FETCH of several messages
 * legitimately exceeds `maxListingBytes`, yet must stay bounded.
 */
export interface ImapRawLimits {
  /** Total octets of every response to one command (text plus literals). */
  readonly maxCommandBytes: number;
}

export const DEFAULT_IMAP_RAW_LIMITS: Readonly<ImapRawLimits> = Object.freeze({
  maxCommandBytes: 256 * 1024 * 1024,
});

/** The bounds actually applied, transport limits included, in one object. */
export interface EffectiveImapLimits extends ImapRawLimits {
  readonly maxLiteralBytes: number;
  readonly maxUntaggedPerCommand: number;
}

export function effectiveImapLimits(transport: Limits, overrides: Partial<ImapRawLimits> = {}): EffectiveImapLimits {
  const own = { ...DEFAULT_IMAP_RAW_LIMITS };
  if (overrides.maxCommandBytes !== undefined) {
    if (!Number.isInteger(overrides.maxCommandBytes) || overrides.maxCommandBytes < 1) {
      throw new RangeError(`limit maxCommandBytes must be a positive integer, got ${String(overrides.maxCommandBytes)}`);
    }
    own.maxCommandBytes = overrides.maxCommandBytes;
  }
  return {
    ...own,
    maxLiteralBytes: transport.maxMessageBytes,
    maxUntaggedPerCommand: transport.maxListingLines,
  };
}
