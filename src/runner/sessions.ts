import { protocols, type ProtocolRegistry, type SessionKind, type SessionOf, type SessionOptionsOf } from '../protocols/registry.js';
import type { AnySessionKind, ProtocolModule } from '../protocols/module.js';
import type { Transcript } from '../transport/transcript.js';
import { RequirementFailure, RunProblem, SkipScenario } from '../protocols/outcomes.js';
import type { EndpointName, RunAccount, RunEndpoint, RunTarget } from '../actions/run-target.js';
import type { Scenario, SessionDecl } from '../scenario/model.js';
import type { ProtocolName } from '../core/protocols.js';
import type { CheckResult } from './results.js';
import { capabilityName } from '../core/text.js';

/**
 * The named connections ("devices") of one scenario. A session connects and
 * logs in on first use, and again after QUIT or a drop, so a scenario can say
 * "the phone looks again" by using the same name after closing it. What a
 * session is, and how it opens, logs in and closes, is its protocol module's
 * business (src/protocols/registry.ts): the pool names no protocol.
 */

/** A capability check's outcome when something wanted is not announced. */
export type CapabilityVerdict = { readonly kind: 'skipped'; readonly reason: string } | { readonly kind: 'failed'; readonly check: CheckResult };

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
  /** Called with every message of this run a session finds in a mailbox, with the account user it is in. */
  readonly onFound: (user: string, found: { mailbox: string; uid: number; messageId: string }) => void;
}

export class SessionPool {
  /** Open sessions by kind, then by session name. */
  readonly #sessions = new Map<string, Map<string, unknown>>();
  /** Extra connections, closed by the caller or at scenario end. */
  readonly #extras: Array<{ readonly spec: AnySessionKind; readonly session: unknown }> = [];
  /** The capabilities each session (by label) announced when it was opened. */
  readonly #announced = new Map<string, readonly string[]>();

  constructor(
    readonly scenario: Scenario,
    readonly env: SessionEnvironment,
    readonly registry: ProtocolRegistry = protocols,
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

  password(role: string): string {
    const password = this.env.passwords[role];
    if (password === undefined) {
      const variable = this.env.target.accounts[role]?.passwordEnv ?? '(no account)';
      throw new RunProblem('ESECRET_MISSING', `no password for account '${role}': set the environment variable ${variable}`, 'auth');
    }
    return password;
  }

  /** The step's session of this kind, connected and logged in on first use (and again after it was closed). */
  async session<K extends SessionKind>(kind: K, name: string, signal?: AbortSignal): Promise<SessionOf<K>>;
  async session(kind: string, name: string, signal?: AbortSignal): Promise<unknown>;
  async session(kind: string, name: string, signal: AbortSignal = this.env.signal): Promise<unknown> {
    const { spec } = this.#kind(kind);
    let open = this.#sessions.get(kind);
    const existing = open?.get(name);
    if (existing !== undefined && spec.isOpen(existing)) return existing;
    const session = await this.#open(kind, name, name, signal);
    if (!open) this.#sessions.set(kind, (open = new Map()));
    open.set(name, session);
    return session;
  }

  /** A separate connection of this kind with the same endpoint and account as `name`, closed by the caller or at scenario end. */
  async extraSession<K extends SessionKind>(kind: K, name: string, label: string, options?: SessionOptionsOf<K>, signal?: AbortSignal): Promise<SessionOf<K>>;
  async extraSession(kind: string, name: string, label: string, options?: unknown, signal?: AbortSignal): Promise<unknown>;
  async extraSession(kind: string, name: string, label: string, options?: unknown, signal: AbortSignal = this.env.signal): Promise<unknown> {
    const session = await this.#open(kind, name, label, signal, options);
    this.#extras.push({ spec: this.#kind(kind).spec, session });
    return session;
  }

  #kind(kind: string): { module: ProtocolModule; spec: AnySessionKind } {
    const found = this.registry.kind(kind);
    if (!found) throw new RunProblem('EUNKNOWN_SESSION_KIND', `no protocol opens sessions of kind '${kind}'`);
    return found;
  }

  /**
   * Connects and logs in through the kind's module, then records what the
   * session announced and judges the scenario's `requires` against it; a
   * session that fails that is discarded before the error goes up.
   */
  async #open(kind: string, name: string, label: string, signal: AbortSignal, options?: unknown): Promise<unknown> {
    const { module, spec } = this.#kind(kind);
    const declared = this.declaration(name);
    const endpoint = this.endpoint(declared.endpoint);
    const account = this.env.target.accounts[declared.account];
    if (!account) throw new SkipScenario(`the target has no account with role '${declared.account}'`);
    const opened = await spec.open(
      {
        label,
        endpoint,
        user: account.user,
        password: this.password(declared.account),
        timeouts: this.env.target.timeouts,
        transcript: this.env.transcript,
        signal,
        runId: this.env.runId,
        wanted: this.scenario.requires.capabilities[module.name] ?? [],
        onSeen: this.env.onSeen,
        onFound: (found) => this.env.onFound(account.user, found),
      },
      options,
    );
    const announced = opened.announced;
    if (announced === undefined) return opened.session;
    this.env.onOpened(label, announced.greeting, announced.capabilities);
    this.#announced.set(label, announced.capabilities);
    try {
      if (announced.problem) throw announced.problem;
      this.#checkCapabilities(module, announced.capabilities, announced.unknown);
    } catch (err) {
      await spec.discard(opened.session);
      throw err;
    }
    return opened.session;
  }

  /** `unknown`: why the list says nothing (CAPA not implemented); a skip then says so instead of naming one capability. */
  #checkCapabilities(module: ProtocolModule, announced: readonly string[], unknown?: string): void {
    const verdict = this.#capabilityVerdict(module, announced, this.scenario.requires.capabilities[module.name] ?? [], unknown);
    if (verdict?.kind === 'failed') throw new RequirementFailure(verdict.check);
    if (verdict?.kind === 'skipped') throw new SkipScenario(verdict.reason);
  }

  /**
   * Judges a step's own `requires` against the capabilities its session
   * announced (opening the session if need be): undefined when they are met.
   */
  async stepRequirement(name: string, wanted: Partial<Record<ProtocolName, readonly string[]>>): Promise<CapabilityVerdict | undefined> {
    const module = this.registry.module(this.declaration(name).protocol);
    if (!module?.primary) return undefined;
    await this.session(module.primary.kind, name);
    return this.#capabilityVerdict(module, this.#announced.get(name) ?? [], wanted[module.name as ProtocolName] ?? []);
  }

  /** Wanted but not announced: a skip, or a failure when the target file makes the capability mandatory. */
  #capabilityVerdict(module: ProtocolModule, announced: readonly string[], wanted: readonly string[], unknown?: string): CapabilityVerdict | undefined {
    const protocol = module.name;
    const names = new Set(announced.map(capabilityName));
    const mandatory = new Set((this.env.target.capabilitiesRequired[protocol] ?? []).map((c) => c.toUpperCase()));
    for (const capability of wanted) {
      if (names.has(capability.toUpperCase())) continue;
      if (mandatory.has(capability.toUpperCase())) {
        const list = module.capabilityList;
        return {
          kind: 'failed',
          check: {
            description: `the server announces ${capability} (the target file requires it)`,
            passed: false,
            expected: `${capability} in the ${list?.command ?? 'capability'} list`,
            actual: [...names].join(' ') || '(no capabilities)',
            ...(list ? { rfc: list.rfc } : {}),
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
   * a refused login ends the scenario before it sends mail. Each protocol module
   * says whether its reader stays open for the steps, or logs out again at once
   * because the steps need a session opened after delivery.
   */
  async openReaders(names: readonly string[], signal: AbortSignal = this.env.signal): Promise<void> {
    for (const name of names) {
      const primary = this.registry.module(this.declaration(name).protocol)?.primary;
      if (!primary) continue;
      if (primary.readers === 'keep') {
        await this.session(primary.kind, name, signal);
      } else {
        const { spec } = this.#kind(primary.kind);
        await spec.close(await this.#open(primary.kind, name, name, signal));
      }
    }
  }

  /** Closes every open connection the way its protocol module says; drops any that will not close. */
  async closeAll(): Promise<void> {
    const all: Array<{ spec: AnySessionKind; session: unknown }> = [];
    for (const [kind, open] of this.#sessions) {
      const { spec } = this.#kind(kind);
      for (const session of open.values()) all.push({ spec, session });
    }
    all.push(...this.#extras);
    this.#sessions.clear();
    this.#extras.length = 0;
    await Promise.all(all.map(({ spec, session }) => spec.close(session)));
  }
}
