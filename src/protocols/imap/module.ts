import { endpointsOf } from '../../core/protocols.js';
import { connectOptions, type ProtocolModule, type ProtocolOutcome, type SessionKindSpec } from '../module.js';
import { grammarFailure, RequirementFailure, RunProblem } from '../outcomes.js';
import { IMAP_COMMAND_CLAUSES } from './clauses.js';
import { ImapReplyError, ImapSessionError } from './errors.js';
import { ImapRawClient, ImapRawProtocolError } from './raw/index.js';
import { ImapSession, loadImapflow } from './session.js';
import { imapRunCache } from './run-cache.js';
import { FlatNamespaceError, ImapWorkspace } from './workspace.js';

/**
 * IMAP (RFC 9051) as the runner sees it. Two session kinds today: `imap`, the
 * imapflow session with the run's folder workspace on it, and `imap-raw`,
 * mailprobe's own tagged-command client on the same endpoint and account, for
 * wire-level checks of exactly what the server sends.
 */
const imapSession: SessionKindSpec<ImapWorkspace> = {
  async open(ctx) {
    const session = await ImapSession.open({
      host: ctx.endpoint.host,
      port: ctx.endpoint.port,
      security: ctx.endpoint.security,
      tls: ctx.endpoint.tls,
      timeouts: ctx.timeouts,
      user: ctx.user,
      password: ctx.password,
      transcript: ctx.transcript,
      session: ctx.label,
      signal: ctx.signal,
      ...(ctx.endpoint.gate ? { gate: ctx.endpoint.gate } : {}),
      // ENABLE only what the scenario asks for by requiring it (RFC 7162 §3.1, RFC 5161).
      enable: ctx.wanted.filter((c) => ['CONDSTORE', 'QRESYNC'].includes(c.toUpperCase())),
    });
    return {
      session: new ImapWorkspace(
        session,
        ctx.runId,
        (found) => {
          ctx.onSeen(found.messageId);
          ctx.onFound(found);
        },
        imapRunCache({ runId: ctx.runId, host: ctx.endpoint.host, port: ctx.endpoint.port, user: ctx.user }),
      ),
      announced: {
        greeting: session.greeting,
        capabilities: session.capabilities,
        ...(session.capabilities.length === 0 ? { problem: capabilityNotAnswered(session) } : {}),
      },
    };
  },
  isOpen: (workspace) => !workspace.session.closed,
  close: (workspace) => workspace.session.logout(),
  discard: (workspace) => workspace.session.logout(),
};

/**
 * A raw tagged-command connection for the session's endpoint and account,
 * beside (not instead of) its imapflow session. Logged in; kept until the
 * scenario ends. It announces nothing: the imapflow session is the one whose
 * capabilities `requires` is judged against.
 */
const imapRawSession: SessionKindSpec<ImapRawClient> = {
  async open(ctx) {
    const client = await ImapRawClient.connect({ ...connectOptions(ctx), session: `${ctx.label}~raw` });
    const response = await client.login(ctx.user, ctx.password).catch((err: unknown) => {
      client.drop();
      throw err;
    });
    if (response.status !== 'OK') {
      client.drop();
      const code = response.code?.split(' ')[0];
      // UNAVAILABLE / INUSE (RFC 5530) are "not now": let them classify as inconclusive.
      if (response.status === 'NO' && code && new ImapReplyError('LOGIN', 'NO', response.text, code).temporary) {
        throw new ImapReplyError('LOGIN', 'NO', response.text, code);
      }
      throw new RunProblem('EAUTH', `login as ${ctx.user} failed: ${response.status} ${response.text}`, 'auth');
    }
    return { session: client };
  },
  isOpen: (client) => !client.closed,
  close: async (client) => {
    if (client.closed) return;
    await client.logout().then(
      () => undefined,
      () => client.drop(),
    );
  },
  discard: async (client) => client.drop(),
};

/**
 * No capability at all means CAPABILITY was refused (or never answered),
 * since RFC 9051 §6.1.1 requires one untagged CAPABILITY response; imapflow
 * only logs the refusal. "Not now" codes stay inconclusive.
 */
function capabilityNotAnswered(session: ImapSession): Error {
  const refusal = session.lastRefusalAs('CAPABILITY');
  if (refusal?.temporary) return refusal;
  return new RequirementFailure({
    description: 'the server lists its capabilities',
    passed: false,
    expected: 'an untagged CAPABILITY response',
    actual: refusal ? `${refusal.status}${refusal.responseCode ? ` [${refusal.responseCode}]` : ''} ${refusal.text}`.trimEnd() : 'no capabilities at all',
    rfc: 'RFC 9051 §6.1.1: "The server MUST send a single untagged CAPABILITY response"',
  });
}

function classify(err: unknown): ProtocolOutcome | undefined {
  if (err instanceof FlatNamespaceError) return { kind: 'skipped', reason: err.message };
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
      return grammarFailure(
        'the server answers in IMAP syntax, in step with the commands sent',
        `${err.message}${err.response ? `: ${err.response}` : ''}`,
        err.clause,
        {
          expected: 'tagged and untagged responses as RFC 9051 §7 and §9 define them',
          rfc: 'RFC 9051 §7',
        },
      );
    }
    return { kind: 'errored', problem: { code: err.code, message: err.message } };
  }
  if (err instanceof ImapSessionError) {
    if (err.code === 'EIMAP_MALFORMED') {
      // imapflow drops what it cannot parse (an out-of-range UIDVALIDITY is left undefined): the
      // session checks the server's lines itself, and a broken rule is the server's wrong answer.
      return grammarFailure('the server answers in IMAP syntax', err.message, err.rule, {
        expected: 'responses as RFC 9051 §9 (formal syntax) defines them',
        rfc: 'RFC 9051 §9',
      });
    }
    if (err.code === 'EIMAP_PARTIAL') {
      // More octets than a partial fetch asked for is the server's wrong answer, not a run that could not happen.
      return grammarFailure('a partial fetch returns at most the octets asked for', err.message, undefined, {
        expected: 'BODY[]<offset> with no more than the length in BODY.PEEK[]<offset.length>',
        rfc: 'RFC 9051 §6.4.5',
      });
    }
    return { kind: 'errored', problem: { code: err.code, message: err.message, phase: err.phase } };
  }
  return undefined;
}

export const imapModule = {
  name: 'imap',
  endpoints: endpointsOf('imap'),
  sessions: { imap: imapSession, 'imap-raw': imapRawSession },
  // IMAP sessions opened before delivery stay open for the steps.
  primary: { kind: 'imap', readers: 'keep' },
  capabilityList: { command: 'CAPABILITY', rfc: 'RFC 9051 §7.2.2' },
  commandClauses: IMAP_COMMAND_CLAUSES,
  classify,
  // imapflow loads with the first IMAP session (session.ts), never for a run of POP3 and SMTP alone.
  preload: async () => void (await loadImapflow()),
} as const satisfies ProtocolModule<'imap'>;
