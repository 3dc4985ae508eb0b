import type { ProtocolName } from '../core/protocols.js';
import { clauseOfCommand } from './command-clauses.js';
import { imapModule } from './imap/index.js';
import type { AnySessionKind, ProtocolModule, ProtocolOutcome, SessionKindSpec } from './module.js';
import { pop3Module } from './pop3/index.js';
import { smtpModule } from './smtp/index.js';

/**
 * Every protocol mailprobe speaks, one module each. The runner's session pool
 * and error classification, and the action context, loop over this list and
 * name no protocol; typing it over ProtocolName makes a vocabulary entry in
 * src/core/protocols.ts without a module here a compile error.
 */
export const PROTOCOL_MODULES = {
  pop3: pop3Module,
  imap: imapModule,
  smtp: smtpModule,
} as const satisfies { readonly [P in ProtocolName]: ProtocolModule<P> };

type Modules = typeof PROTOCOL_MODULES;
type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;

/** Every session kind of every module, by kind name: { pop3: …, imap: …, 'imap-raw': … }. */
export type SessionKinds = UnionToIntersection<Modules[ProtocolName]['sessions']>;
export type SessionKind = keyof SessionKinds & string;
/** The session an action gets for a kind: `session('pop3')` is a Pop3Session. */
export type SessionOf<K extends SessionKind> = SessionKinds[K] extends SessionKindSpec<infer S, infer _O> ? S : never;
/** The options `extraSession(kind, label, options)` takes for a kind. */
export type SessionOptionsOf<K extends SessionKind> = SessionKinds[K] extends SessionKindSpec<infer _S, infer O> ? O : never;

/** A registry instance: the shipped one below, or one a test builds with a protocol of its own. */
export interface ProtocolRegistry {
  readonly modules: readonly ProtocolModule[];
  /** The module a protocol name belongs to. */
  module(name: string): ProtocolModule | undefined;
  /** A session kind and the module it belongs to. */
  kind(name: string): { readonly module: ProtocolModule; readonly spec: AnySessionKind } | undefined;
  /** The clause that defines `command` in `protocol`, or undefined when unknown. */
  clauseOfRefusedCommand(protocol: string | undefined, command: string | undefined): string | undefined;
  /** The first module that owns this error's class, and what it means. */
  classify(err: unknown): ProtocolOutcome | undefined;
}

export function createRegistry(modules: readonly ProtocolModule[]): ProtocolRegistry {
  const byName = new Map<string, ProtocolModule>();
  const kinds = new Map<string, { module: ProtocolModule; spec: AnySessionKind }>();
  for (const module of modules) {
    if (byName.has(module.name)) throw new Error(`protocol '${module.name}' is registered twice`);
    byName.set(module.name, module);
    for (const [kind, spec] of Object.entries(module.sessions)) {
      if (kinds.has(kind)) throw new Error(`session kind '${kind}' of '${module.name}' is already registered by '${kinds.get(kind)!.module.name}'`);
      kinds.set(kind, { module, spec });
    }
  }
  return {
    modules,
    module: (name) => byName.get(name),
    kind: (name) => kinds.get(name),
    clauseOfRefusedCommand(protocol, command) {
      const module = protocol === undefined ? undefined : byName.get(protocol);
      if (module === undefined || command === undefined) return undefined;
      return clauseOfCommand(module.commandClauses, command);
    },
    classify(err) {
      for (const module of modules) {
        const outcome = module.classify(err);
        if (outcome) return outcome;
      }
      return undefined;
    },
  };
}

/** The shipped protocols. */
export const protocols: ProtocolRegistry = createRegistry(Object.values(PROTOCOL_MODULES));
