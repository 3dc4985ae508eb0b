/**
 * IMAP errors in mailprobe's terms. imapflow reports a refused command in
 * several shapes (a thrown Error with responseStatus, or just `false`), so
 * the session turns all of them into these.
 */

/**
 * RFC 5530 response codes that mean "not now" rather than "no". SERVERBUG is
 * the server's own fault and OVERQUOTA lasts until someone acts: neither is
 * worth a retry, so they stay verdicts.
 */
const TEMPORARY_CODES = new Set(['UNAVAILABLE', 'INUSE', 'LIMIT']);

export class ImapReplyError extends Error {
  override readonly name = 'ImapReplyError';
  readonly code = 'EIMAP_REPLY';
  constructor(
    /** The command that was refused, redacted by imapflow ("LOGIN alice (* value hidden *)"). */
    readonly command: string,
    /** NO or BAD. */
    readonly status: 'NO' | 'BAD',
    readonly text: string,
    /** RFC 5530 response code, e.g. "TRYCREATE", "ALREADYEXISTS", "NONEXISTENT". */
    readonly responseCode?: string,
  ) {
    super(`server answered ${command || 'the command'} with ${status}${responseCode ? ` [${responseCode}]` : ''} ${text}`.trimEnd());
  }

  get temporary(): boolean {
    return this.responseCode !== undefined && TEMPORARY_CODES.has(this.responseCode.toUpperCase());
  }
}

/**
 * The session could not be set up or went away: connect, TLS, auth, timeout,
 * BYE, a limit. Code EIMAP_MALFORMED is different in kind: the server broke
 * IMAP's grammar (a greeting that is none, a number out of its range), which
 * the runner reports as a failed check, naming `rule`.
 */
export class ImapSessionError extends Error {
  override readonly name = 'ImapSessionError';
  constructor(
    readonly code: string,
    message: string,
    readonly phase: string,
    /** For EIMAP_MALFORMED: the grammar rule broken, as the RFC words it ("RFC 9051 §9: nz-number …"). */
    readonly rule?: string,
  ) {
    super(message);
  }
}
