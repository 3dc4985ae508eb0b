import { z } from 'zod';
import type { ActionSignature, ActionSignatures } from '../actions/define-action.js';
import { ENDPOINT_NAMES, PROTOCOL_NAMES, type ProtocolName } from '../core/protocols.js';
import { CHECK_ID_MESSAGE, CHECK_ID_RE } from './check-ids.js';
import { MATCHER_NAMES, MATCHER_OPERANDS } from './matchers.js';

/**
 * The scenario format as zod schemas. Two forms are built from the same parts:
 *
 * - the *loader* form (`scenarioShapeSchema`): steps take any `with`; the
 *   loader then checks each step against its action so it can say "unknown
 *   action … did you mean" and tolerate `${…}` strings in typed params;
 * - the *exact* form (`buildScenarioSchema(actions)`): steps are a
 *   discriminated union on `action`, each with that action's params, which is
 *   what the editor JSON Schema is generated from.
 */

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Names that templates refer to (`${captures.NAME}`), so no dots or hyphens. */
export const identifier = (what: string) =>
  z.string().regex(NAME_RE, { message: `${what} must be a name made of letters, digits and '_' (not starting with a digit)` });

const OUTPUT_PATH_RE = /^(\$|[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*)$/;
/** "$" is the whole output; "a.b.0.c" walks maps and lists. */
export const outputPath = z.string().regex(OUTPUT_PATH_RE, { message: "expected '$' (the whole output) or a dotted path such as 'messages.0.size'" });

const nonEmpty = (what: string) => z.string().min(1, { message: `${what} must not be empty` });

function expectationShape() {
  const shape: Record<string, z.ZodType> = {
    id: z
      .string()
      .regex(CHECK_ID_RE, { message: CHECK_ID_MESSAGE })
      .optional()
      .describe(
        "Stable id of this check, unique in the scenario; a target file's deviations name it as '<scenario id>#<id>'. Without it the id is derived from the step name and 'that'.",
      ),
    that: outputPath.describe("Path into the step's output: '$' for all of it, or a dotted path such as 'messages.0.size'."),
    rfc: z.string().optional().describe('The RFC clause this expectation checks, shown in reports.'),
    because: z.string().optional().describe('Why this must hold, shown when it fails.'),
  };
  for (const m of MATCHER_NAMES) shape[m] = MATCHER_OPERANDS[m].optional();
  return shape;
}

/** One expectation. Exactly-one-matcher is checked by the loader (and by `oneOf` in the JSON Schema). */
export const expectationSchema = z.strictObject(expectationShape());

const capturesSchema = z.record(identifier('a capture name'), outputPath).describe("Capture name → path into the step's output ('$' = whole output).");

/** One optional capability list per protocol of the vocabulary (src/core/protocols.ts). */
const capabilitiesSchema = z.strictObject(
  Object.fromEntries(PROTOCOL_NAMES.map((p) => [p, z.array(nonEmpty('a capability')).optional()])) as Record<
    ProtocolName,
    z.ZodOptional<z.ZodArray<z.ZodString>>
  >,
);

/**
 * What one step needs beyond the scenario's own requires: capabilities of the
 * step's session. Unmet, the step alone is skipped (the scenario goes on), or
 * failed when the target lists the capability under capabilities_required.
 */
const stepRequiresSchema = z.strictObject({
  capabilities: capabilitiesSchema.describe("Capabilities the step's own session must announce, by protocol."),
});

/** The keys every step has, whatever its action. */
function stepBaseShape() {
  return {
    name: nonEmpty('a step name').optional().describe('Shown in reports; defaults to the action name.'),
    session: identifier('a session name').optional().describe('The declared session this step runs on; required for protocol actions.'),
    requires: stepRequiresSchema
      .optional()
      .describe(
        'What this step alone needs; when it is missing the step is skipped with the reason, so are the steps that use its captures, and the scenario goes on.',
      ),
    capture: capturesSchema.optional(),
    expect: z.array(expectationSchema).optional(),
  };
}

export const stepShapeSchema = z.strictObject({
  ...stepBaseShape(),
  action: nonEmpty('action'),
  with: z.unknown().optional(),
});

const sessionSchema = z.strictObject({
  protocol: z.enum(PROTOCOL_NAMES),
  endpoint: z.enum(ENDPOINT_NAMES),
  account: identifier('an account role'),
});

const requiresSchema = z.strictObject({
  endpoints: z.array(z.enum(ENDPOINT_NAMES)).optional(),
  accounts: z.array(identifier('an account role')).optional(),
  capabilities: capabilitiesSchema.optional(),
});

function scenarioShape(step: z.ZodType) {
  return z.strictObject({
    name: nonEmpty('name').describe('What the scenario proves, in a few words.'),
    description: z.string().optional(),
    tags: z.array(z.string()).optional(),
    rfc: z.array(z.string()).optional().describe('RFC references shown in reports, e.g. "RFC 1939 §6".'),
    requires: requiresSchema.optional().describe('What the target must offer; when something is missing the scenario is skipped with the reason.'),
    vars: z.record(identifier('a variable name'), z.unknown()).optional(),
    sessions: z.record(identifier('a session name'), sessionSchema).optional().describe('Named connections ("devices").'),
    steps: z.array(step).min(1, { message: 'a scenario needs at least one step' }),
    cleanup: z.array(step).optional().describe('Steps always run at the end, even after a failure.'),
  });
}

/** The loader form: structure only, `with` unchecked (see the module comment). */
export const scenarioShapeSchema = scenarioShape(stepShapeSchema);

/** True when the action's params accept an empty map, so `with` may be left out. */
export function paramsOptional(params: z.ZodType): boolean {
  return params.safeParse({}).success;
}

function stepVariant(name: string, sig: ActionSignature) {
  const { session, ...rest } = stepBaseShape();
  const withSchema = paramsOptional(sig.params) ? sig.params.optional() : sig.params;
  const base = { ...rest, action: z.literal(name), with: withSchema };
  // Protocol actions must name a session; session-less actions must not.
  const variant = sig.protocol ? z.strictObject({ ...base, session: session.unwrap() }) : z.strictObject(base);
  return variant.describe(sig.summary);
}

/** The exact scenario schema for a registry: steps discriminated on `action`. */
export function buildScenarioSchema(actions: ActionSignatures) {
  const variants = Object.entries(actions).map(([name, sig]) => stepVariant(name, sig));
  const [first, ...others] = variants;
  if (first === undefined) return scenarioShapeSchema;
  const step = z.discriminatedUnion('action', [first, ...others]);
  return scenarioShape(step);
}
