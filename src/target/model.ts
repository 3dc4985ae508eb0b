import { DEFAULT_TIMEOUTS as CONNECTION_TIMEOUTS } from '../transport/timeouts.js';
import type { ProtocolName } from '../actions/define-action.js';
import type { SourcePos } from '../core/source.js';
import type { KnownDeviation } from '../core/checks.js';
import type { PositionMap } from '../input/yaml-doc.js';
import type { EndpointName, Security } from './endpoints.js';

/** Resolved TLS settings. `insecure` is true exactly when `verify` is false, and reports show it. */
export interface TlsSettings {
  readonly verify: boolean;
  readonly insecure: boolean;
  /** Absolute path of the extra CA file, if any. */
  readonly caFile?: string;
  /** PEM text of caFile, read at load time. */
  readonly ca?: string;
  readonly servername?: string;
}

export interface Endpoint {
  readonly name: EndpointName;
  readonly protocol: ProtocolName;
  readonly host: string;
  readonly port: number;
  readonly security: Security;
  readonly tls: TlsSettings;
  readonly source: SourcePos;
}

export interface Account {
  readonly role: string;
  readonly user: string;
  readonly address: string;
  /** Name of the environment variable holding the password (never the password). */
  readonly passwordEnv: string;
  readonly source: SourcePos;
  /**
   * Other mailboxes that may take this role when scenarios run at once (`stand_ins:`), each with this
   * role; a serial run never uses them. Absent when the file lists none.
   */
  readonly standIns?: readonly Account[];
}

/** The connection phases' timeouts, plus how long to wait for mail to arrive or be pushed (defined where the runner's target is). */
export type { Timeouts } from '../actions/run-target.js';
import type { Timeouts } from '../actions/run-target.js';

export const DEFAULT_TIMEOUTS: Timeouts = Object.freeze({
  ...CONNECTION_TIMEOUTS,
  delivery: 30000,
  push: 10000,
});

export interface Target {
  readonly file: string;
  readonly name: string;
  readonly host: string;
  /** Top-level TLS settings; each endpoint carries its own resolved copy. */
  readonly tls: TlsSettings;
  readonly endpoints: Readonly<Partial<Record<EndpointName, Endpoint>>>;
  readonly accounts: Readonly<Record<string, Account>>;
  readonly timeouts: Timeouts;
  readonly capabilitiesRequired: Readonly<Partial<Record<ProtocolName, readonly string[]>>>;
  /** The file's `deviations:`, each with its place (checked against the loaded scenarios in src/runner/deviation-profile.ts). */
  readonly deviations: readonly (KnownDeviation & { readonly source: SourcePos })[];
  readonly source: SourcePos;
  readonly positions: PositionMap;
}
