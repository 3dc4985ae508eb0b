import type { ProtocolName } from '../actions/define-action.js';

/** The seven endpoint names a target may define and a scenario may require. */
export const ENDPOINT_NAMES = ['smtp', 'submission', 'smtps', 'pop3', 'pop3s', 'imap', 'imaps'] as const;
export type EndpointName = (typeof ENDPOINT_NAMES)[number];

export const PROTOCOL_NAMES = ['pop3', 'imap', 'smtp'] as const satisfies readonly ProtocolName[];

/** tls = implicit TLS on connect; starttls = upgrade after the greeting (STLS for POP3); none = plain text. */
export const SECURITY_MODES = ['tls', 'starttls', 'none'] as const;
export type Security = (typeof SECURITY_MODES)[number];

/** Which protocol speaks on which endpoint; a session's endpoint must match its protocol. */
export const ENDPOINT_PROTOCOL: Readonly<Record<EndpointName, ProtocolName>> = {
  smtp: 'smtp',
  submission: 'smtp',
  smtps: 'smtp',
  pop3: 'pop3',
  pop3s: 'pop3',
  imap: 'imap',
  imaps: 'imap',
};
