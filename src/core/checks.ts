/**
 * What a check and a problem report, in the words every layer uses: actions
 * raise them, the runner collects them, reporters render them.
 */
import type { SourcePos } from './source.js';

/** One judged expectation: what the promise says, what the server did. */
export interface CheckResult {
  readonly description: string;
  readonly passed: boolean;
  readonly expected: string;
  readonly actual: string;
  /** e.g. "RFC 1939 §6: DELE ... the message is not actually deleted until UPDATE state" */
  readonly rfc?: string;
  readonly source?: SourcePos;
}

/** A problem that stopped a step: connection, TLS, timeout, protocol framing. */
export interface ProblemInfo {
  /** Stable machine code, e.g. "ETIMEOUT_GREETING", "ETLS", "EAUTH". */
  readonly code: string;
  readonly message: string;
  /** The connect phase or command where it happened, e.g. "tls" or "RETR 3". */
  readonly phase?: string;
}
