import { isIP } from 'node:net';
import { z } from 'zod';
import { ENV_VAR_NAME_RE } from '../input/redact.js';
import { MAX_TIMEOUT_MS, TIMEOUT_TOO_LARGE } from '../transport/timeouts.js';
import { ENDPOINT_NAMES, PROTOCOL_NAMES, SECURITY_MODES, type EndpointName, type ProtocolName } from '../core/protocols.js';

/**
 * The target file format (see README "Target file"). Strict everywhere:
 * an unknown key is an error, so `verfiy: false` can never silently keep
 * verification on (or off).
 */

const hostSchema = z
  .string()
  .regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._:-]+)$/, { message: 'expected a hostname or IP address (no scheme, no port, no spaces)' });

/** A KEY in an env file: any shell variable name. */
export const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * `password_env` is stricter, by convention capitals only: a password that
 * happens to look like a name (`Hunter2`) must be rejected here, not later
 * printed in "set the environment variable …". The message never repeats the
 * value, and the code frame masks it (src/scenario/redact.ts).
 */
const PASSWORD_ENV_MESSAGE =
  'password_env names an environment variable (capital letters, digits, underscore) that holds the password — not the password itself';

const tlsSchema = z.strictObject({
  verify: z.boolean().optional().describe('Verify the server certificate (default true).'),
  ca_file: z
    .string()
    .min(1, { message: 'ca_file must not be empty' })
    .optional()
    .describe("Extra CA (PEM); relative paths resolve against the target file's folder."),
  servername: z
    .string()
    .min(1, { message: 'servername must not be empty' })
    .refine((s) => isIP(s) === 0, { message: 'servername must be a DNS name, not an IP address (TLS SNI carries names only)' })
    .optional()
    .describe('Name sent in SNI and checked against the certificate.'),
  insecure: z.boolean().optional().describe('Do not verify the certificate. Allowed, but every report says so.'),
});

const endpointSchema = z.strictObject({
  port: z.number().int().min(1, { message: 'port must be between 1 and 65535' }).max(65535, { message: 'port must be between 1 and 65535' }),
  security: z.enum(SECURITY_MODES).describe('tls = implicit TLS; starttls = upgrade after the greeting (STLS for POP3); none = plain text.'),
  host: hostSchema.optional().describe('Overrides the top-level host for this endpoint.'),
  tls: tlsSchema.optional().describe('Overrides the top-level tls settings for this endpoint.'),
});

const endpointsShape = Object.fromEntries(ENDPOINT_NAMES.map((n) => [n, endpointSchema.optional()])) as Record<
  EndpointName,
  z.ZodOptional<typeof endpointSchema>
>;

const mailboxFields = {
  user: z.string().min(1, { message: 'user must not be empty' }),
  address: z.string().regex(/^[^\s@]+@[^\s@]+$/, { message: 'expected an email address such as alice@example.test' }),
  password_env: z
    .string()
    .regex(ENV_VAR_NAME_RE, { message: PASSWORD_ENV_MESSAGE })
    .describe(
      'Name of the environment variable (capital letters, digits, underscore, e.g. MAIL_PRIMARY_PASSWORD) that holds the password; passwords never go in this file.',
    ),
};

/** At most this many stand-ins per role: more would not run at once under any --concurrency (at most 16). */
export const MAX_STAND_INS = 15;

const accountSchema = z.strictObject({
  ...mailboxFields,
  stand_ins: z
    .array(z.strictObject(mailboxFields))
    .max(MAX_STAND_INS, { message: `at most ${MAX_STAND_INS} stand-ins per account` })
    .optional()
    .describe(
      "Other mailboxes of the same kind that may take this role when scenarios run at once (run --concurrency): a scenario holding this account's INBOX no longer makes the next one wait. A serial run uses the account itself only.",
    ),
});

// Node's timers clamp 2^31 ms or more to 1 ms (TimeoutOverflowWarning), so a
// larger timeout would fail at once instead of waiting: refuse it here.
const positiveMs = z.number().int().min(1, { message: 'a timeout must be at least 1 ms' }).max(MAX_TIMEOUT_MS, { message: TIMEOUT_TOO_LARGE });

const timeoutsSchema = z.strictObject({
  dns: positiveMs.optional(),
  tcp: positiveMs.optional(),
  tls: positiveMs.optional(),
  greeting: positiveMs.optional(),
  command: positiveMs.optional(),
  delivery: positiveMs.optional().describe('How long wait-for polls for a delivered message.'),
  push: positiveMs.optional().describe('How long an IDLE session waits for the server to push a change (RFC 2177).'),
});

const capabilityList = z.array(z.string().min(1, { message: 'a capability name must not be empty' }));
/** One optional list per protocol of the vocabulary (src/core/protocols.ts). */
const capabilitiesShape = Object.fromEntries(PROTOCOL_NAMES.map((p) => [p, capabilityList.optional()])) as Record<
  ProtocolName,
  z.ZodOptional<typeof capabilityList>
>;

/** `<scenario id>#<check id>`: the scenario's path under its suite root, '#', then a check id (src/scenario/check-ids.ts). */
export const CHECK_REF_RE = /^[^\s#]+#[a-z0-9-]+$/;

const deviationSchema = z.strictObject({
  check: z
    .string()
    .regex(CHECK_REF_RE, { message: "expected '<scenario id>#<check id>', e.g. imap/uid-stability#uidnext-in-select" })
    .describe("The check the server is known to fail: '<scenario id>#<check id>'."),
  reason: z.string().trim().min(1, { message: 'reason must say why the server deviates' }).describe('Why the server deviates, shown in every report.'),
  rfc: z
    .string()
    .regex(/^RFC \d+\b/, { message: "rfc names the clause the server departs from, e.g. 'RFC 9051 §6.3.2'" })
    .describe("The clause the server departs from, e.g. 'RFC 9051 §6.3.2'."),
});

export const targetSchema = z.strictObject({
  kind: z.literal('target').optional().describe('Marks this file as a target file, so that a folder of scenarios may hold it.'),
  name: z.string().min(1, { message: 'name must not be empty' }),
  host: hostSchema.describe('Hostname or IP the endpoints live on.'),
  tls: tlsSchema.optional(),
  endpoints: z.strictObject(endpointsShape).refine((e) => Object.keys(e).length > 0, { message: `define at least one endpoint: ${ENDPOINT_NAMES.join(', ')}` }),
  accounts: z
    .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: "an account role must be a name made of letters, digits and '_'" }), accountSchema)
    .describe('Roles scenarios refer to: primary, secondary, third…'),
  timeouts: timeoutsSchema.optional().describe('Milliseconds.'),
  capabilities_required: z.strictObject(capabilitiesShape).optional().describe('A capability listed here and missing on the server is a failure, not a skip.'),
  deviations: z
    .array(deviationSchema)
    .optional()
    .describe(
      'Known deviations of this server: a listed check that fails is reported as a known deviation with its reason and clause, and does not fail the run.',
    ),
});

export type TargetInput = z.infer<typeof targetSchema>;
export type TlsInput = z.infer<typeof tlsSchema>;
