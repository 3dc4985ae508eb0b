// Apart from host-probe.ts so that the CLI's --ports parser can read it without loading the transport.
import type { ExpectedService } from './port-probe.js';

/** The seven client ports and what a mail client expects on each: implicit TLS on 465/995/993 (RFC 8314), STARTTLS on the others. */
export const DEFAULT_PORT_MAP: Readonly<Record<number, ExpectedService>> = {
  25: { protocol: 'smtp', security: 'starttls', mx: true },
  465: { protocol: 'smtp', security: 'tls' },
  587: { protocol: 'smtp', security: 'starttls' },
  110: { protocol: 'pop3', security: 'starttls' },
  995: { protocol: 'pop3', security: 'tls' },
  143: { protocol: 'imap', security: 'starttls' },
  993: { protocol: 'imap', security: 'tls' },
};
