import { describe, expect, it } from 'vitest';
import { InterpolationError } from '../../src/interpolate/index.js';
import { ImapReplyError, ImapSessionError } from '../../src/protocols/imap/errors.js';
import { ImapRawProtocolError } from '../../src/protocols/imap/raw/index.js';
import { FlatNamespaceError } from '../../src/protocols/imap/workspace.js';
import { Pop3ProtocolError, Pop3ReplyError } from '../../src/protocols/pop3/errors.js';
import { SmtpProtocolError, SmtpReplyError, SmtpTransportError } from '../../src/protocols/smtp/send.js';
import { classifyError } from '../../src/runner/classify.js';
import { numberViolation } from '../../src/protocols/imap/number-grammar.js';
import { RequirementFailure, RunProblem, SkipScenario } from '../../src/protocols/outcomes.js';
import { TransportError } from '../../src/transport/errors.js';

/** Every branch of classifyError: what the thrown error is, and the verdict it must become. */
const CHECK = { description: 'UIDL announced', passed: false, expected: 'UIDL', actual: 'TOP', rfc: 'RFC 2449 §5' };

const ROWS: Array<[string, unknown, Record<string, unknown>]> = [
  ['a skip', new SkipScenario('no UIDL'), { kind: 'skipped', reason: 'no UIDL' }],
  ['a flat namespace', new FlatNamespaceError(), { kind: 'skipped' }],
  ['a required capability missing', new RequirementFailure(CHECK), { kind: 'failed', check: CHECK }],
  ['POP3 -ERR [IN-USE]', new Pop3ReplyError('RETR 1', 'locked', 'IN-USE'), { kind: 'inconclusive' }],
  ['POP3 -ERR [LOGIN-DELAY]', new Pop3ReplyError('PASS [redacted]', 'wait', 'LOGIN-DELAY'), { kind: 'inconclusive' }],
  ['POP3 -ERR [SYS/TEMP]', new Pop3ReplyError('CAPA', 'Internal error occurred', 'SYS/TEMP'), { kind: 'inconclusive' }],
  ['POP3 PASS refused', new Pop3ReplyError('PASS [redacted]', 'bad password', undefined), { kind: 'errored', problem: { code: 'EAUTH', phase: 'auth' } }],
  ['POP3 USER refused', new Pop3ReplyError('USER bob', 'no', undefined), { kind: 'errored', problem: { code: 'EAUTH' } }],
  ['POP3 AUTH refused', new Pop3ReplyError('AUTH PLAIN [redacted]', 'no', 'AUTH'), { kind: 'errored', problem: { code: 'EAUTH' } }],
  ['POP3 APOP refused', new Pop3ReplyError('APOP bob x', 'no', undefined), { kind: 'errored', problem: { code: 'EAUTH' } }],
  [
    'POP3 -ERR to RETR',
    new Pop3ReplyError('RETR 9', 'no such message', undefined),
    { kind: 'reply', error: { reply: '-ERR no such message', text: 'no such message', command: 'RETR 9', protocol: 'pop3' } },
  ],
  [
    'POP3 -ERR [SYS/PERM] to DELE',
    new Pop3ReplyError('DELE 1', 'broken', 'SYS/PERM'),
    { kind: 'reply', error: { reply: '-ERR [SYS/PERM] broken', code: 'SYS/PERM', command: 'DELE 1' } },
  ],
  [
    'a malformed POP3 reply',
    new Pop3ProtocolError('EPOP3_MALFORMED', 'malformed reply to STAT', 'STAT'),
    { kind: 'failed', check: { rfc: 'RFC 1939 §3', passed: false } },
  ],
  ['a POP3 argument refused locally', new Pop3ProtocolError('EPOP3_ARGUMENT', 'bad number'), { kind: 'errored', problem: { code: 'EPOP3_ARGUMENT' } }],
  ['IMAP NO [UNAVAILABLE]', new ImapReplyError('LOGIN', 'NO', 'later', 'UNAVAILABLE'), { kind: 'inconclusive' }],
  ['IMAP NO [INUSE]', new ImapReplyError('SELECT INBOX', 'NO', 'busy', 'INUSE'), { kind: 'inconclusive' }],
  [
    'IMAP NO [TRYCREATE]',
    new ImapReplyError('APPEND x', 'NO', 'no such mailbox', 'TRYCREATE'),
    { kind: 'reply', error: { reply: 'NO [TRYCREATE] no such mailbox', code: 'TRYCREATE', command: 'APPEND x', protocol: 'imap' } },
  ],
  ['IMAP BAD', new ImapReplyError('UID MOVE 1 x', 'BAD', 'unknown command'), { kind: 'reply', error: { reply: 'BAD unknown command' } }],
  ...(['EIMAP_MALFORMED', 'EIMAP_CONTINUATION', 'EIMAP_TAG', 'EIMAP_BYE', 'EIMAP_GREETING'] as const).map(
    (code): [string, unknown, Record<string, unknown>] => [
      `raw IMAP ${code}`,
      new ImapRawProtocolError(code, 'broken', { response: '* XYZ' }),
      { kind: 'failed', check: { rfc: 'RFC 9051 §7' } },
    ],
  ),
  ...(['EIMAP_ARGUMENT', 'EIMAP_STATE', 'EIMAP_REFUSED'] as const).map((code): [string, unknown, Record<string, unknown>] => [
    `raw IMAP ${code}`,
    new ImapRawProtocolError(code, 'ours'),
    { kind: 'errored', problem: { code } },
  ]),
  ['an IMAP session error', new ImapSessionError('ETLS', 'TLS failed', 'tls'), { kind: 'errored', problem: { code: 'ETLS', phase: 'tls' } }],
  ['SMTP 451', new SmtpReplyError(451, '451 greylisted', 'RCPT TO'), { kind: 'inconclusive' }],
  ['SMTP 550', new SmtpReplyError(550, '550 no such user', 'RCPT TO'), { kind: 'reply', error: { code: '550', command: 'RCPT TO', protocol: 'smtp' } }],
  ['a transport error', new TransportError('ECONNREFUSED', 'tcp', 'refused'), { kind: 'errored', problem: { code: 'ECONNREFUSED', phase: 'tcp' } }],
  [
    'an SMTP reply outside the grammar',
    new SmtpProtocolError('ESMTP_MALFORMED', 'malformed reply to EHLO', 'EHLO', 'RFC 5321 §4.2'),
    { kind: 'failed', check: { description: 'the server answers in SMTP syntax', passed: false, rfc: 'RFC 5321 §4.2' } },
  ],
  [
    'an SMTP reply code the command cannot have',
    new SmtpProtocolError('ESMTP_UNEXPECTED', 'DATA was answered 250', 'DATA', 'RFC 5321 §4.3.2'),
    { kind: 'failed', check: { passed: false, rfc: 'RFC 5321 §4.3.2' } },
  ],
  [
    'an SMTP transport error',
    new SmtpTransportError('ESTARTTLS', 'refused STARTTLS', 'starttls'),
    { kind: 'errored', problem: { code: 'ESTARTTLS', phase: 'starttls' } },
  ],
  ['a runner problem', new RunProblem('ESECRET_MISSING', 'no password', 'auth'), { kind: 'errored', problem: { code: 'ESECRET_MISSING', phase: 'auth' } }],
  [
    'an interpolation error',
    new InterpolationError('EUNDEFINED_VAR', "undefined variable 'x'", { file: 's.yaml', line: 3, col: 9 }, []),
    { kind: 'errored', problem: { code: 'EUNDEFINED_VAR', message: "s.yaml:3:9: undefined variable 'x'" } },
  ],
  ['an Error with a code', Object.assign(new Error('weird'), { code: 'EWEIRD' }), { kind: 'errored', problem: { code: 'EWEIRD', message: 'weird' } }],
  ['a plain Error', new Error('oops'), { kind: 'errored', problem: { code: 'EINTERNAL', message: 'oops' } }],
  ['a thrown string', 'just a string', { kind: 'errored', problem: { code: 'EINTERNAL', message: 'just a string' } }],
];

describe('classifyError', () => {
  it.each(ROWS)('%s', (_what, error, outcome) => {
    expect(classifyError(error)).toMatchObject(outcome);
  });
});

describe('a number that breaks its rule is one failed check, whichever IMAP stack read it', () => {
  it('the raw client and the imapflow session cite the rule, with its wording, in expected and rfc alike', () => {
    const line = '* OK [UIDNEXT -5] next';
    const problem = numberViolation(line);
    if (problem === undefined) throw new Error('the rule must be broken');
    const raw = classifyError(
      new ImapRawProtocolError('EIMAP_MALFORMED', `malformed IMAP response: ${problem.problem}`, { response: line, clause: problem.rule }),
    );
    const imapflow = classifyError(new ImapSessionError('EIMAP_MALFORMED', `127.0.0.1:143 sent "${line}": ${problem.problem}`, 'command', problem.rule));
    if (raw.kind !== 'failed' || imapflow.kind !== 'failed') throw new Error('both must be failed checks');
    expect(raw.check.rfc).toBe(problem.rule);
    expect({ expected: imapflow.check.expected, rfc: imapflow.check.rfc }).toEqual({ expected: raw.check.expected, rfc: raw.check.rfc });
  });
});
