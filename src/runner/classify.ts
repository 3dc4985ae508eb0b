import { ImapReplyError, ImapSessionError } from '../protocols/imap/errors.js';
import { ImapRawProtocolError } from '../protocols/imap/raw/index.js';
import { FlatNamespaceError } from '../protocols/imap/workspace.js';
import { Pop3ProtocolError, Pop3ReplyError } from '../protocols/pop3/errors.js';
import { SmtpProtocolError, SmtpReplyError, SmtpTransportError } from '../protocols/smtp/send.js';
import { InterpolationError } from '../interpolate/index.js';
import type { ClauseProtocol } from '../protocols/clauses.js';
import { formatPos } from '../scenario/source.js';
import { TransportError } from '../transport/errors.js';
import { RequirementFailure, RunProblem, SkipScenario } from './outcomes.js';
import type { CheckResult, ProblemInfo } from './results.js';

/**
 * Turns whatever a step threw into a verdict. This is where "failure ≠ error"
 * is decided:
 * - the server said no (-ERR, 5xx): a reply, judged by the step's expectations
 * - the server said "not now" (4xx, [IN-USE], [SYS/TEMP], [LOGIN-DELAY]): inconclusive
 * - the server broke the protocol's framing: failed
 * - we could not connect, verify TLS, log in, or time ran out: errored
 */
export type StepOutcome =
  | { readonly kind: 'reply'; readonly error: RefusalInfo }
  | { readonly kind: 'inconclusive'; readonly reason: string }
  | { readonly kind: 'skipped'; readonly reason: string }
  | { readonly kind: 'failed'; readonly check: CheckResult }
  | { readonly kind: 'errored'; readonly problem: ProblemInfo };

/** A server's "no", as a step's output shows it to expectations (`error.reply`, `error.code`, …). */
export interface RefusalInfo {
  readonly reply: string;
  readonly text: string;
  readonly code?: string;
  /** The refused command as the transcript shows it ("RETR 3", "UID MOVE 4 Archive", "MAIL FROM"). */
  readonly command: string;
  /** Whose command it was: picks the table that names the command's clause. */
  readonly protocol: ClauseProtocol;
}

export function classifyError(err: unknown): StepOutcome {
  if (err instanceof SkipScenario) return { kind: 'skipped', reason: err.reason };
  if (err instanceof FlatNamespaceError) return { kind: 'skipped', reason: err.message };
  if (err instanceof RequirementFailure) return { kind: 'failed', check: err.check };
  if (err instanceof Pop3ReplyError) {
    if (err.temporary) return { kind: 'inconclusive', reason: `the server refused for now: ${err.message}` };
    if (/^(PASS|USER|AUTH|APOP)\b/i.test(err.command)) {
      return { kind: 'errored', problem: { code: 'EAUTH', message: `login failed: ${err.message}`, phase: 'auth' } };
    }
    const shown = err.responseCode ? `[${err.responseCode}] ${err.text}` : err.text;
    return {
      kind: 'reply',
      error: { reply: `-ERR ${shown}`.trimEnd(), text: err.text, command: err.command, protocol: 'pop3', ...(err.responseCode ? { code: err.responseCode } : {}) },
    };
  }
  if (err instanceof Pop3ProtocolError) {
    if (err.code === 'EPOP3_MALFORMED') {
      return {
        kind: 'failed',
        check: {
          description: 'the server answers in POP3 syntax',
          passed: false,
          expected: err.clause ?? 'a reply starting with +OK or -ERR (RFC 1939 §3)',
          actual: err.message,
          // A number or listing names the clause it broke; otherwise the general reply syntax.
          rfc: err.clause ?? 'RFC 1939 §3',
        },
      };
    }
    return { kind: 'errored', problem: { code: err.code, message: err.message } };
  }
  if (err instanceof ImapReplyError) {
    if (err.temporary) return { kind: 'inconclusive', reason: `the server refused for now: ${err.message}` };
    const shown = `${err.status}${err.responseCode ? ` [${err.responseCode}]` : ''} ${err.text}`.trimEnd();
    return {
      kind: 'reply',
      error: { reply: shown, text: err.text, command: err.command, protocol: 'imap', ...(err.responseCode ? { code: err.responseCode } : {}) },
    };
  }
  if (err instanceof ImapRawProtocolError) {
    // A response that breaks IMAP's grammar, an unasked continuation, a stray tag or a BYE in
    // mid-command is the server's wrong answer; what we refused to send is ours to report.
    if (['EIMAP_MALFORMED', 'EIMAP_CONTINUATION', 'EIMAP_TAG', 'EIMAP_BYE', 'EIMAP_GREETING'].includes(err.code)) {
      return {
        kind: 'failed',
        check: {
          description: 'the server answers in IMAP syntax, in step with the commands sent',
          passed: false,
          expected: err.clause ?? 'tagged and untagged responses as RFC 9051 §7 and §9 define them',
          actual: `${err.message}${err.response ? `: ${err.response}` : ''}`,
          rfc: err.clause ?? 'RFC 9051 §7',
        },
      };
    }
    return { kind: 'errored', problem: { code: err.code, message: err.message } };
  }
  if (err instanceof ImapSessionError) {
    if (err.code === 'EIMAP_MALFORMED') {
      // imapflow drops what it cannot parse (an out-of-range UIDVALIDITY is left undefined): the
      // session checks the server's lines itself, and a broken rule is the server's wrong answer.
      return {
        kind: 'failed',
        check: {
          description: 'the server answers in IMAP syntax',
          passed: false,
          expected: err.rule ?? 'responses as RFC 9051 §9 (formal syntax) defines them',
          actual: err.message,
          // The clause the rule is quoted from ("RFC 7162 §7: mod-sequence-value …").
          rfc: /^RFC \d+ §[\d.]+/.exec(err.rule ?? '')?.[0] ?? 'RFC 9051 §9',
        },
      };
    }
    return { kind: 'errored', problem: { code: err.code, message: err.message, phase: err.phase } };
  }
  if (err instanceof SmtpReplyError) {
    if (err.temporary) return { kind: 'inconclusive', reason: `the server refused for now: ${err.reply}` };
    return { kind: 'reply', error: { reply: err.reply, text: err.reply, command: err.command, protocol: 'smtp', code: String(err.replyCode) } };
  }
  if (err instanceof SmtpProtocolError) {
    // A reply outside RFC 5321's grammar, or a code the command cannot have: the server's wrong answer.
    return {
      kind: 'failed',
      check: {
        description: err.code === 'ESMTP_UNEXPECTED' ? 'the server answers with a reply code the command allows' : 'the server answers in SMTP syntax',
        passed: false,
        expected:
          err.code === 'ESMTP_UNEXPECTED'
            ? 'a reply whose first digit fits the command (RFC 5321 §4.3.2)'
            : 'replies of the form Reply-code [ SP textstring ] CRLF, the same code on every line (RFC 5321 §4.2)',
        actual: err.message,
        rfc: err.clause,
      },
    };
  }
  if (err instanceof TransportError) {
    return { kind: 'errored', problem: { code: err.code, message: err.message, phase: err.phase } };
  }
  if (err instanceof SmtpTransportError) {
    return { kind: 'errored', problem: { code: err.code, message: err.message, phase: err.phase } };
  }
  if (err instanceof RunProblem) return { kind: 'errored', problem: err.info };
  if (err instanceof InterpolationError) {
    return { kind: 'errored', problem: { code: err.code, message: `${formatPos(err.pos)}: ${err.message}` } };
  }
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' ? e.code : 'EINTERNAL';
  return { kind: 'errored', problem: { code, message: typeof e?.message === 'string' ? e.message : String(err) } };
}
