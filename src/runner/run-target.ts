/**
 * The runner's view of a target: endpoints resolved, CA read, defaults filled.
 * The target loader (src/target) produces it from a YAML file; tests build it
 * directly for in-process servers.
 */
export const ENDPOINT_NAMES = ['smtp', 'submission', 'smtps', 'pop3', 'pop3s', 'imap', 'imaps'] as const;
export type EndpointName = (typeof ENDPOINT_NAMES)[number];
export type Security = 'tls' | 'starttls' | 'none';

export interface RunEndpoint {
  readonly host: string;
  readonly port: number;
  readonly security: Security;
  readonly tls: {
    readonly verify: boolean;
    /** PEM of an extra CA to trust. */
    readonly ca?: string;
    readonly servername?: string;
  };
}

export interface RunAccount {
  readonly role: string;
  readonly user: string;
  readonly address: string;
  readonly passwordEnv: string;
}

export interface RunTimeouts {
  readonly dns: number;
  readonly tcp: number;
  readonly tls: number;
  readonly greeting: number;
  readonly command: number;
  /** How long wait-for actions poll for a delivered message. */
  readonly delivery: number;
  /** How long an IDLE session waits for the server to push a change. */
  readonly push: number;
}

export interface RunTarget {
  readonly name: string;
  readonly host: string;
  /** Path of the target file, for reports. */
  readonly file: string;
  readonly endpoints: Readonly<Partial<Record<EndpointName, RunEndpoint>>>;
  readonly accounts: Readonly<Record<string, RunAccount>>;
  readonly timeouts: RunTimeouts;
  /** A capability listed here is a failure when missing, not a skip. */
  readonly capabilitiesRequired: Readonly<Partial<Record<'pop3' | 'imap' | 'smtp', readonly string[]>>>;
}

export function isInsecure(target: RunTarget): boolean {
  return Object.values(target.endpoints).some((e) => e !== undefined && e.security !== 'none' && !e.tls.verify);
}
