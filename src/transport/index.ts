export { connect, type ConnectOptions } from './connect.js';
export { Connection, tlsSummary, type PhaseTimings, type ReadLineOptions, type Security } from './connection.js';
export { TransportError, isTransportError, endpoint, type Phase, type TransportErrorCode } from './errors.js';
export { DEFAULT_LIMITS, resolveLimits, limitExceeded, type Limits } from './limits.js';
export { LineReader, type Line, type LineEnding } from './line-reader.js';
export { DEFAULT_TIMEOUTS, resolveTimeouts, type Timeouts } from './timeouts.js';
export { type TlsInfo, type TlsOptions, type PeerCertificateInfo } from './tls.js';
export { Transcript, REDACTED, formatEntry, type TranscriptEntry, type ClientLineOptions } from './transcript.js';
export { Redactor } from './redact.js';
