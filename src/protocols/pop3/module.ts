import { endpointsOf } from '../../core/protocols.js';
import { connectOptions, type ProtocolModule, type ProtocolOutcome, type SessionKindSpec, type SessionOpenContext } from '../module.js';
import { grammarFailure, RequirementFailure } from '../outcomes.js';
import { POP3_COMMAND_CLAUSES } from './clauses.js';
import { Pop3Client } from './client.js';
import { Pop3ProtocolError, Pop3ReplyError } from './errors.js';
import { maildropMemory } from './maildrop-memory.js';
import { Pop3Session } from './session.js';

/**
 * POP3 (RFC 1939) as the runner sees it: one session kind, opened with the
 * client's STLS/login/CAPA sequence, and its reply classes mapped to outcomes.
 */
const IN_USE_ATTEMPTS = 5;
const IN_USE_RETRY_MS = 300;

export interface Pop3OpenOptions {
  /** Try a login refused with [IN-USE] again a few times (default true). */
  readonly retryInUse?: boolean;
}

const pop3Session: SessionKindSpec<Pop3Session, Pop3OpenOptions> = {
  /**
   * A server notices a dropped connection a moment after the client does, and
   * keeps the maildrop locked until then ([IN-USE], RFC 2449 §8). A scenario that
   * reconnects right after a drop would otherwise be inconclusive, so a login
   * refused with IN-USE is tried again a few times before that verdict stands.
   */
  async open(ctx, options = {}) {
    const retryInUse = options.retryInUse ?? true;
    for (let attempt = 1; ; attempt++) {
      try {
        return await openOnce(ctx);
      } catch (err) {
        const inUse = err instanceof Pop3ReplyError && err.responseCode?.toUpperCase() === 'IN-USE';
        if (!retryInUse || !inUse || attempt >= IN_USE_ATTEMPTS || ctx.signal.aborted) throw err;
        ctx.transcript.info(ctx.label, `maildrop in use; trying again in ${IN_USE_RETRY_MS} ms (attempt ${attempt + 1} of ${IN_USE_ATTEMPTS})`);
        await new Promise((resolve) => setTimeout(resolve, IN_USE_RETRY_MS));
      }
    }
  },
  isOpen: (session) => !session.closed,
  // QUIT commits only this run's own deletions (RFC 1939 §6); a session that will not quit is dropped.
  close: async (session) => {
    if (session.closed) return;
    await session.client.quit().catch(() => session.client.drop());
  },
  discard: async (session) => session.client.drop(),
};

async function openOnce(ctx: SessionOpenContext) {
  const client = await Pop3Client.connect(connectOptions(ctx));
  let capabilities: string[];
  let answeredBefore: boolean;
  try {
    answeredBefore = client.capaSupported === true;
    // Always when offered, whatever the scenario: what a UTF-8-capable reader does (RFC 6856).
    if (client.hasCapability('UTF8')) await client.utf8();
    await client.login(ctx.user, ctx.password);
    capabilities = await client.capa();
  } catch (err) {
    client.drop();
    throw err;
  }
  let unknown: string | undefined;
  let problem: Error | undefined;
  try {
    unknown = capaNotAnswered(client.capaRefusal, answeredBefore);
  } catch (err) {
    problem = err as Error;
  }
  return {
    session: new Pop3Session(
      ctx.label,
      client,
      ctx.runId,
      ctx.onSeen,
      maildropMemory({ runId: ctx.runId, host: ctx.endpoint.host, port: ctx.endpoint.port, user: ctx.user, utf8: client.utf8Mode }),
    ),
    announced: { greeting: client.greeting, capabilities, ...(unknown !== undefined ? { unknown } : {}), ...(problem ? { problem } : {}) },
  };
}

/**
 * A CAPA refused after login is never "no such capability". RFC 2449 §5 puts
 * no state restriction on CAPA, so: [SYS/TEMP] and the like are "not now"
 * (inconclusive, thrown as the reply); any other refusal after a CAPA that
 * worked before login, or with a response code, is a failed check. Only a
 * server that refused CAPA before login as well does not implement it
 * (RFC 2449 §5: "An -ERR response indicates the capability command is not
 * implemented"); the returned text then explains an empty list.
 */
function capaNotAnswered(refusal: Pop3ReplyError | undefined, answeredBefore: boolean): string | undefined {
  if (refusal === undefined) return undefined;
  if (refusal.temporary) throw refusal;
  if (answeredBefore || refusal.responseCode !== undefined) {
    throw new RequirementFailure({
      description: 'the server answers CAPA after login',
      passed: false,
      expected: answeredBefore ? 'a capability list, as it sent before login' : 'a capability list',
      actual: refusal.message.replace(/^server refused CAPA: /, ''),
      rfc: 'RFC 2449 §5: CAPA, "Restrictions: none"',
    });
  }
  return 'the server does not implement CAPA (it answered -ERR before and after login)';
}

function classify(err: unknown): ProtocolOutcome | undefined {
  if (err instanceof Pop3ReplyError) {
    if (err.temporary) return { kind: 'inconclusive', reason: `the server refused for now: ${err.message}` };
    if (/^(PASS|USER|AUTH|APOP)\b/i.test(err.command)) {
      return { kind: 'errored', problem: { code: 'EAUTH', message: `login failed: ${err.message}`, phase: 'auth' } };
    }
    const shown = err.responseCode ? `[${err.responseCode}] ${err.text}` : err.text;
    return {
      kind: 'reply',
      error: {
        reply: `-ERR ${shown}`.trimEnd(),
        text: err.text,
        command: err.command,
        protocol: 'pop3',
        ...(err.responseCode ? { code: err.responseCode } : {}),
      },
    };
  }
  if (err instanceof Pop3ProtocolError) {
    if (err.code === 'EPOP3_MALFORMED') {
      // A number or listing names the clause it broke; otherwise the general reply syntax.
      return grammarFailure('the server answers in POP3 syntax', err.message, err.clause, {
        expected: 'a reply starting with +OK or -ERR (RFC 1939 §3)',
        rfc: 'RFC 1939 §3',
      });
    }
    return { kind: 'errored', problem: { code: err.code, message: err.message } };
  }
  return undefined;
}

export const pop3Module = {
  name: 'pop3',
  endpoints: endpointsOf('pop3'),
  sessions: { pop3: pop3Session },
  // The steps need a session opened after delivery: the reader is logged out again at once.
  primary: { kind: 'pop3', readers: 'reopen' },
  capabilityList: { command: 'CAPA', rfc: 'RFC 2449 §5' },
  commandClauses: POP3_COMMAND_CLAUSES,
  classify,
} as const satisfies ProtocolModule<'pop3'>;
