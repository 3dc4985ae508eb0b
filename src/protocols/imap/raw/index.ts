export { readGreeting, type ImapGreeting } from './greeting.js';
export {
  ImapRawClient,
  type ContinuationAnswer,
  type ImapCommandOptions,
  type ImapCommandPart,
  type ImapIdleOptions,
  type ImapIdleResult,
  type ImapPipelined,
  type ImapRawConnectOptions,
  type SecretPart,
  type TimedUntaggedResponse,
} from './client.js';
export { astring, astringPart, wireLines, type CommandPart } from './encode.js';
export { ImapRawProtocolError, type ImapRawErrorCode } from './errors.js';
export { ResponseFramer, type FramedResponse, type FramerHooks } from './framer.js';
export { DEFAULT_IMAP_RAW_LIMITS, effectiveImapLimits, type EffectiveImapLimits, type ImapRawLimits } from './limits.js';
export { QuietableTranscript } from './quiet-transcript.js';
export {
  capabilityList,
  parseResponse,
  searchResults,
  splitCode,
  type ImapResponse,
  type ImapStatus,
  type ParsedResponse,
  type UntaggedResponse,
} from './response.js';
