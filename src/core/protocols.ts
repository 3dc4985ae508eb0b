/**
 * The protocol vocabulary every layer shares: which protocols mailprobe
 * speaks, the endpoints a target may define for each, their default ports
 * and the security modes. It depends on nothing, so the scenario and target
 * loaders, the transport and the protocol modules can all read it without
 * pulling in a client.
 *
 * Each protocol module (src/protocols/<p>/index.ts) takes its name and
 * endpoints from here, and the protocol registry (src/protocols/registry.ts)
 * is typed so that every name below has exactly one module. The schemas'
 * protocol, endpoint, security and capability keys are all derived from
 * these two tables; nothing else lists them.
 */

/** tls = implicit TLS on connect; starttls = upgrade after the greeting (STLS for POP3); none = plain text. */
export const SECURITY_MODES = ['tls', 'starttls', 'none'] as const;
export type Security = (typeof SECURITY_MODES)[number];

/** The protocols, in the order schemas and reports list them. */
export const PROTOCOL_NAMES = ['pop3', 'imap', 'smtp'] as const;
export type ProtocolName = (typeof PROTOCOL_NAMES)[number];

export interface EndpointSpec {
  readonly protocol: ProtocolName;
  /** The IANA-assigned port for this service. */
  readonly defaultPort: number;
  /** How a client secures a connection to it by default. */
  readonly defaultSecurity: Security;
}

/**
 * Every endpoint a target may define and a scenario may require, in the
 * order schemas list them, with the IANA-registered port of each service
 * (smtp 25, submission 587, submissions 465, pop3 110, pop3s 995, imap 143,
 * imaps 993). A target always names its port and security; these are what a
 * port-scanning diagnosis tries first.
 */
export const ENDPOINTS = {
  smtp: { protocol: 'smtp', defaultPort: 25, defaultSecurity: 'starttls' },
  submission: { protocol: 'smtp', defaultPort: 587, defaultSecurity: 'starttls' },
  smtps: { protocol: 'smtp', defaultPort: 465, defaultSecurity: 'tls' },
  pop3: { protocol: 'pop3', defaultPort: 110, defaultSecurity: 'starttls' },
  pop3s: { protocol: 'pop3', defaultPort: 995, defaultSecurity: 'tls' },
  imap: { protocol: 'imap', defaultPort: 143, defaultSecurity: 'starttls' },
  imaps: { protocol: 'imap', defaultPort: 993, defaultSecurity: 'tls' },
} as const satisfies Readonly<Record<string, EndpointSpec>>;

export type EndpointName = keyof typeof ENDPOINTS;

/** The endpoint names of one protocol. */
export type EndpointOf<P extends ProtocolName> = { [E in EndpointName]: (typeof ENDPOINTS)[E]['protocol'] extends P ? E : never }[EndpointName];

export const ENDPOINT_NAMES = Object.keys(ENDPOINTS) as [EndpointName, ...EndpointName[]];

/** Which protocol speaks on which endpoint; a session's endpoint must match its protocol. */
export const ENDPOINT_PROTOCOL: Readonly<Record<EndpointName, ProtocolName>> = Object.fromEntries(
  ENDPOINT_NAMES.map((name) => [name, ENDPOINTS[name].protocol]),
) as Record<EndpointName, ProtocolName>;

/** The endpoints of one protocol, in schema order. */
export function endpointsOf<P extends ProtocolName>(protocol: P): Array<EndpointOf<P>> {
  return ENDPOINT_NAMES.filter((name) => ENDPOINTS[name].protocol === protocol) as Array<EndpointOf<P>>;
}
