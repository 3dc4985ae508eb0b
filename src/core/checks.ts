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
  /**
   * The check's id within its scenario (an expectation's `id:`, or derived:
   * src/scenario/check-ids.ts); absent for the checks mailprobe adds itself
   * (the server accepts the command, a step that could not run).
   */
  readonly id?: string;
  /** Set when the check was not judged: the item it needed, which the server never sent ("uidnext", "captures.s1.uidnext"). */
  readonly notJudged?: string;
  /**
   * The target's known deviation (`<scenario>#<check>`) this failed check is:
   * the listed check itself, or a check not judged because of the item that
   * listed check found missing. Set by the runner (src/runner/deviations.ts).
   */
  readonly deviation?: string;
}

/**
 * One entry of a target file's `deviations:`: a check the server is known to
 * fail, why, and the clause it departs from.
 */
export interface KnownDeviation {
  /** `<scenario id>#<check id>`. */
  readonly check: string;
  readonly reason: string;
  readonly rfc: string;
  /** Where the entry is written in the target file. */
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
