import { endpointsOf } from '../../core/protocols.js';
import type { ProtocolModule, ProtocolOutcome } from '../module.js';
import { SMTP_COMMAND_CLAUSES } from './clauses.js';
import { SmtpProtocolError, SmtpReplyError, SmtpTransportError } from './errors.js';
import { smtpSession } from './session.js';

/**
 * SMTP (RFC 5321) as the runner sees it: one session kind, opened the way the
 * endpoint says (session.ts), for the step-by-step scenarios of suites/smtp,
 * and its reply classes mapped to outcomes. The one-shot send (send.ts) that
 * other suites deliver with opens its own connection within its step.
 */
function classify(err: unknown): ProtocolOutcome | undefined {
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
  if (err instanceof SmtpTransportError) {
    return { kind: 'errored', problem: { code: err.code, message: err.message, phase: err.phase } };
  }
  return undefined;
}

export const smtpModule = {
  name: 'smtp',
  endpoints: endpointsOf('smtp'),
  sessions: { smtp: smtpSession },
  // The EHLO reply a session opened with (after STARTTLS on a starttls endpoint) is what `requires` is judged against.
  primary: { kind: 'smtp', readers: 'keep' },
  capabilityList: { command: 'EHLO', rfc: 'RFC 5321 §4.1.1.1' },
  commandClauses: SMTP_COMMAND_CLAUSES,
  classify,
} as const satisfies ProtocolModule<'smtp'>;
