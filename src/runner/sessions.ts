import { Pop3Client } from '../protocols/pop3/client.js';
import { Pop3ReplyError } from '../protocols/pop3/errors.js';
import type { Transcript } from '../transport/transcript.js';
import { ImapRawClient } from '../protocols/imap/raw/index.js';
import { ImapReplyError } from '../protocols/imap/errors.js';
import { ImapSession } from '../protocols/imap/session.js';
import { ImapWorkspace } from '../protocols/imap/workspace.js';
import { Pop3Session } from './pop3-session.js';
import { RequirementFailure, RunProblem, SkipScenario } from './outcomes.js';
import { connectOptionsFor, type EndpointName, type RunAccount, type RunEndpoint, type RunTarget } from './run-target.js';
import type { Scenario, SessionDecl } from '../scenario/model.js';
import type { ProtocolName } from '../actions/define-action.js';
import type { CheckResult } from './results.js';

/**
 * The named connections ("devices") of one scenario. A session connects and
 * logs in on first use, and again after QUIT or a drop, so a scenario can say
 * "the phone looks again" by using the same name after closing it.
 */
const IN_USE_ATTEMPTS = 5;
const IN_USE_RETRY_MS = 300;

/** A capability check's outcome when something wanted is not announced. */
export type CapabilityVerdict =
  | { readonly kind: 'skipped'; readonly reason: string }
  | { readonly kind: 'failed'; readonly check: CheckResult };

export interface SessionEnvironment {
  readonly runId: string;
  readonly target: RunTarget;
  readonly transcript: Transcript;
  readonly passwords: Readonly<Record<string, string>>;
  readonly signal: AbortSignal;
  /** Called with each session's greeting and capabilities, for the report. */
  readonly onOpened: (name: string, greeting: string, capabilities: readonly string[]) => void;
  /** Called with the Message-ID of every message of this run a session finds. */
  readonly onSeen: (messageId: string) => void;
  /** Called with every message of this run an IMAP session finds, with the account user it is in. */
  readonly onFound: (user: string, found: { mailbox: string; uid: number; messageId: string }) => void;
}

export class SessionPool {
  readonly #pop3 = new Map<string, Pop3Session>();
  readonly #extras = new Set<Pop3Session>();
  readonly #imap = new Map<string, ImapWorkspace>();
  readonly #imapExtras = new Set<ImapWorkspace>();
  readonly #imapRaw = new Map<string, ImapRawClient>();
  /** The capabilities each session (by label) announced when it was opened. */
  readonly #announced = new Map<string, readonly string[]>();

  constructor(
    readonly scenario: Scenario,
    readonly env: SessionEnvironment,
  ) {}

  declaration(name: string): SessionDecl {
    const session = this.scenario.sessions[name];
    if (!session) throw new RunProblem('EUNKNOWN_SESSION', `session '${name}' is not declared in the scenario`);
    return session;
  }

  endpoint(name: string): RunEndpoint {
    const endpoint = this.env.target.endpoints[name as EndpointName];
    if (!endpoint) throw new SkipScenario(`the target has no '${name}' endpoint`);
    return endpoint;
  }

  account(role: string): RunAccount {
    const account = this.env.target.accounts[role];
    if (!account) throw new RunProblem('EUNKNOWN_ACCOUNT', `the target has no account with role '${role}'`);
    return account;
  }

  /** Endpoint, account and password of a declared session; a missing endpoint or account skips the scenario. */
  #sessionLogin(name: string): { endpoint: RunEndpoint; user: string; password: string } {
    const declared = this.declaration(name);
    const endpoint = this.endpoint(declared.endpoint);
    const account = this.env.target.accounts[declared.account];
    if (!account) throw new SkipScenario(`the target has no account with role '${declared.account}'`);
    return { endpoint, user: account.user, password: this.password(declared.account) };
  }

  #connectContext(signal: AbortSignal) {
    return { timeouts: this.env.target.timeouts, transcript: this.env.transcript, signal };
  }

  password(role: string): string {
    const password = this.env.passwords[role];
    if (password === undefined) {
      const variable = this.env.target.accounts[role]?.passwordEnv ?? '(no account)';
      throw new RunProblem('ESECRET_MISSING', `no password for account '${role}': set the environment variable ${variable}`, 'auth');
    }
    return password;
  }

  async pop3(name: string, signal: AbortSignal = this.env.signal): Promise<Pop3Session> {
    const existing = this.#pop3.get(name);
    if (existing && !existing.closed) return existing;
    const session = await this.#openPop3(name, name, signal);
    this.#pop3.set(name, session);
    return session;
  }

  /** A separate connection with the same endpoint and account as `name`, closed by the caller. */
  async extraPop3(name: string, label: string, options: { retryInUse?: boolean } = {}, signal: AbortSignal = this.env.signal): Promise<Pop3Session> {
    const session = await this.#openPop3(name, label, signal, options.retryInUse ?? true);
    this.#extras.add(session);
    return session;
  }

  /**
   * A server notices a dropped connection a moment after the client does, and
   * keeps the maildrop locked until then ([IN-USE], RFC 2449 §8). A scenario that
   * reconnects right after a drop would otherwise be inconclusive, so a login
   * refused with IN-USE is tried again a few times before that verdict stands.
   */
  async #openPop3(name: string, label: string, signal: AbortSignal, retryInUse = true): Promise<Pop3Session> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#openPop3Once(name, label, signal);
      } catch (err) {
        const inUse = err instanceof Pop3ReplyError && err.responseCode?.toUpperCase() === 'IN-USE';
        if (!retryInUse || !inUse || attempt >= IN_USE_ATTEMPTS || signal.aborted) throw err;
        this.env.transcript.info(label, `maildrop in use; trying again in ${IN_USE_RETRY_MS} ms (attempt ${attempt + 1} of ${IN_USE_ATTEMPTS})`);
        await new Promise((resolve) => setTimeout(resolve, IN_USE_RETRY_MS));
      }
    }
  }

  async #openPop3Once(name: string, label: string, signal: AbortSignal): Promise<Pop3Session> {
    const { endpoint, user, password } = this.#sessionLogin(name);
    const client = await Pop3Client.connect(connectOptionsFor(endpoint, this.#connectContext(signal), label));
    try {
      const answeredBefore = client.capaSupported === true;
      await client.login(user, password);
      const capabilities = await client.capa();
      this.env.onOpened(label, client.greeting, capabilities);
      this.#announced.set(label, capabilities);
      this.#checkCapabilities('pop3', capabilities, capaNotAnswered(client.capaRefusal, answeredBefore));
    } catch (err) {
      client.drop();
      throw err;
    }
    return new Pop3Session(label, client, this.env.runId, this.env.onSeen);
  }

  /** The step's IMAP session with its run workspace, connected and logged in on first use. */
  async imap(name: string, signal: AbortSignal = this.env.signal): Promise<ImapWorkspace> {
    const existing = this.#imap.get(name);
    if (existing && !existing.session.closed) return existing;
    const workspace = await this.#openImap(name, name, signal);
    this.#imap.set(name, workspace);
    return workspace;
  }

  /** A separate IMAP connection with the same endpoint and account as `name`, closed by the caller or at scenario end. */
  async extraImap(name: string, label: string, signal: AbortSignal = this.env.signal): Promise<ImapWorkspace> {
    const workspace = await this.#openImap(name, label, signal);
    this.#imapExtras.add(workspace);
    return workspace;
  }

  /**
   * A raw tagged-command connection for the session's endpoint and account,
   * beside (not instead of) its imapflow session: for wire-level checks of
   * exactly what the server sends. Logged in; kept until the scenario ends.
   */
  async imapRaw(name: string, signal: AbortSignal = this.env.signal): Promise<ImapRawClient> {
    const existing = this.#imapRaw.get(name);
    if (existing && !existing.closed) return existing;
    const { endpoint, user, password } = this.#sessionLogin(name);
    const client = await ImapRawClient.connect(connectOptionsFor(endpoint, this.#connectContext(signal), `${name}~raw`));
    const response = await client.login(user, password).catch((err: unknown) => {
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
      throw new RunProblem('EAUTH', `login as ${user} failed: ${response.status} ${response.text}`, 'auth');
    }
    this.#imapRaw.set(name, client);
    return client;
  }

  async #openImap(name: string, label: string, signal: AbortSignal): Promise<ImapWorkspace> {
    const { endpoint, user, password } = this.#sessionLogin(name);
    const session = await ImapSession.open({
      host: endpoint.host,
      port: endpoint.port,
      security: endpoint.security,
      tls: endpoint.tls,
      timeouts: this.env.target.timeouts,
      user,
      password,
      transcript: this.env.transcript,
      session: label,
      signal,
      // ENABLE only what the scenario asks for by requiring it (RFC 7162 §3.1, RFC 5161).
      enable: (this.scenario.requires.capabilities.imap ?? []).filter((c) => ['CONDSTORE', 'QRESYNC'].includes(c.toUpperCase())),
    });
    this.env.onOpened(label, session.greeting, session.capabilities);
    this.#announced.set(label, session.capabilities);
    try {
      if (session.capabilities.length === 0) throw capabilityNotAnswered(session);
      this.#checkCapabilities('imap', session.capabilities);
    } catch (err) {
      await session.logout();
      throw err;
    }
    return new ImapWorkspace(session, this.env.runId, (found) => {
      this.env.onSeen(found.messageId);
      this.env.onFound(user, found);
    });
  }

  /** `unknown`: why the list says nothing (CAPA not implemented); a skip then says so instead of naming one capability. */
  #checkCapabilities(protocol: 'pop3' | 'imap', announced: readonly string[], unknown?: string): void {
    const verdict = this.#capabilityVerdict(protocol, announced, this.scenario.requires.capabilities[protocol] ?? [], unknown);
    if (verdict?.kind === 'failed') throw new RequirementFailure(verdict.check);
    if (verdict?.kind === 'skipped') throw new SkipScenario(verdict.reason);
  }

  /**
   * Judges a step's own `requires` against the capabilities its session
   * announced (opening the session if need be): undefined when they are met.
   */
  async stepRequirement(name: string, wanted: Partial<Record<ProtocolName, readonly string[]>>): Promise<CapabilityVerdict | undefined> {
    const { protocol } = this.declaration(name);
    if (protocol === 'imap') await this.imap(name);
    else if (protocol === 'pop3') await this.pop3(name);
    else return undefined;
    return this.#capabilityVerdict(protocol, this.#announced.get(name) ?? [], wanted[protocol] ?? []);
  }

  /** Wanted but not announced: a skip, or a failure when the target file makes the capability mandatory. */
  #capabilityVerdict(protocol: 'pop3' | 'imap', announced: readonly string[], wanted: readonly string[], unknown?: string): CapabilityVerdict | undefined {
    const names = new Set(announced.map((c) => c.split(' ')[0]!.toUpperCase()));
    const mandatory = new Set((this.env.target.capabilitiesRequired[protocol] ?? []).map((c) => c.toUpperCase()));
    for (const capability of wanted) {
      if (names.has(capability.toUpperCase())) continue;
      if (mandatory.has(capability.toUpperCase())) {
        return {
          kind: 'failed',
          check: {
            description: `the server announces ${capability} (the target file requires it)`,
            passed: false,
            expected: `${capability} in the ${protocol === 'pop3' ? 'CAPA' : 'CAPABILITY'} list`,
            actual: [...names].join(' ') || '(no capabilities)',
            rfc: protocol === 'pop3' ? 'RFC 2449 §5' : 'RFC 9051 §7.2.2',
          },
        };
      }
      const reason =
        unknown === undefined
          ? `the server does not announce the ${protocol.toUpperCase()} capability ${capability}`
          : `${unknown}, so it cannot show the ${protocol.toUpperCase()} capability ${capability} this scenario requires`;
      return { kind: 'skipped', reason };
    }
    return undefined;
  }

  /**
   * Opens and logs in each named reading session, so that an unreachable port or
   * a refused login ends the scenario before it sends mail. IMAP sessions stay
   * open for the steps. POP3 ones log out again at once: a POP3 session sees the
   * maildrop as it was at login and holds its lock (RFC 1939 §8), so the steps
   * need a session opened after delivery.
   */
  async openReaders(names: readonly string[], signal: AbortSignal = this.env.signal): Promise<void> {
    for (const name of names) {
      const protocol = this.declaration(name).protocol;
      if (protocol === 'imap') await this.imap(name, signal);
      if (protocol === 'pop3') {
        const probe = await this.#openPop3(name, name, signal);
        await probe.client.quit().catch(() => probe.client.drop());
      }
    }
  }

  /** QUIT every open connection (committing only this run's own deletions); drop any that will not. */
  async closeAll(): Promise<void> {
    const all = [...this.#pop3.values(), ...this.#extras];
    const imap = [...this.#imap.values(), ...this.#imapExtras];
    this.#pop3.clear();
    this.#extras.clear();
    const raw = [...this.#imapRaw.values()];
    this.#imap.clear();
    this.#imapExtras.clear();
    this.#imapRaw.clear();
    await Promise.all([
      ...all.filter((s) => !s.closed).map((s) => s.client.quit().catch(() => s.client.drop())),
      ...imap.map((w) => w.session.logout()),
      ...raw.filter((c) => !c.closed).map((c) => c.logout().catch(() => c.drop())),
    ]);
  }
}

/**
 * IMAP's counterpart: no capability at all means CAPABILITY was refused (or
 * never answered), since RFC 9051 §6.1.1 requires one untagged CAPABILITY
 * response; imapflow only logs the refusal. "Not now" codes stay inconclusive.
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
