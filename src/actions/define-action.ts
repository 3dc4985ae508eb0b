import type { z } from 'zod';
import type { ProtocolName } from '../core/protocols.js';

export type { ProtocolName } from '../core/protocols.js';

/**
 * An action is one small module: a name, a strict params schema and a run
 * function. Actions are listed in one registry object (registry.ts); the
 * scenario schema is built from the registry, so an unknown action name or an
 * unknown parameter is a load-time error with a position, never a silent no-op.
 */
/**
 * One thing a step would do to the server, for `mailprobe run --dry-run`.
 * `what` is built from the step's params as far as they are known before
 * running (a `${captures.…}` value stays written as it is).
 */
export interface PlannedEffect {
  readonly kind: 'create' | 'send' | 'delete' | 'change';
  readonly what: string;
  /** The endpoint it connects to itself, when that is not its session's (smtp.send). */
  readonly endpoint?: string;
}

/** What `plans` may know before anything connects. */
export interface PlanContext {
  /** The run's root folder as the scenario names folders, e.g. "mailprobe-<run id>"; the server path adds its namespace. */
  readonly runRoot: string;
  /** An account role's address and user, or undefined when the target has no such role. */
  account(role: string): { readonly user: string; readonly address: string } | undefined;
  /** The Message-ID pattern the run's messages carry. */
  readonly messageIdPattern: string;
}

export type PlanFunction = (params: Readonly<Record<string, unknown>>, ctx: PlanContext) => readonly PlannedEffect[];

export interface ActionDefinition<P extends z.ZodType = z.ZodType, O = unknown, C = unknown> {
  readonly name: string;
  /** One line for `--help`, docs and the editor schema. */
  readonly summary: string;
  /** The protocol whose session the step must name, or undefined for session-less actions. */
  readonly protocol?: ProtocolName;
  readonly params: P;
  /** It creates mail or folders on the server; a scenario using it must have a cleanup step. */
  readonly leavesMail?: boolean;
  /** It removes what the run created; it counts as the cleanup a scenario needs. */
  readonly cleansUp?: boolean;
  /** What it would create, send, change or delete, for --dry-run; required when leavesMail or cleansUp. */
  readonly plans?: PlanFunction;
  run(ctx: C, params: z.infer<P>): Promise<O>;
}

export function defineAction<P extends z.ZodType, O, C>(definition: ActionDefinition<P, O, C>): ActionDefinition<P, O, C> {
  return definition;
}

/** What the scenario loader needs to know of an action. */
export interface ActionSignature {
  readonly summary: string;
  readonly protocol?: ProtocolName;
  readonly params: z.ZodType;
  readonly leavesMail?: boolean;
  readonly cleansUp?: boolean;
  readonly plans?: PlanFunction;
}

export type ActionSignatures = Readonly<Record<string, ActionSignature>>;
