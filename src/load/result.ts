import type { TranscriptEntry } from '../transport/transcript.js';
import type { CommandSummary } from './stats.js';

/** What a load run was asked to do, printed in the header and kept in the JSON. */
export interface LoadSettings {
  readonly protocol: 'imap' | 'pop3';
  readonly clients: number;
  readonly durationMs: number;
  readonly mix: string;
  readonly reconnect: boolean;
  /** Mix commands per session with --reconnect (LOGIN, SELECT and LOGOUT come on top). */
  readonly sessionCommands: number;
  /** FETCH/STORE commands in flight at once per persistent client (--pipeline; 1 = none). */
  readonly pipeline?: number;
  readonly accounts: readonly string[];
  readonly maxConnectionsPerHost: number;
  readonly connectRate: number;
  readonly endpoint: string;
}

export interface LoadFirstError {
  readonly command: string;
  readonly outcome: 'failed' | 'errored' | 'inconclusive';
  readonly message: string;
  /** The last lines of that client's wire exchange up to the error, redacted. */
  readonly transcript: readonly TranscriptEntry[];
}

export interface LoadResult {
  readonly runId: string;
  readonly startedAt: number;
  /** The measured window: from when every client was set up to when the last one stopped. */
  readonly measuredMs: number;
  readonly settings: LoadSettings;
  readonly commands: readonly CommandSummary[];
  readonly totalCommands: number;
  readonly logins: number;
  readonly firstError?: LoadFirstError;
  readonly interrupted: boolean;
  /** Folders the run created that cleanup could not confirm gone, by name. */
  readonly leftovers: readonly string[];
  /** Could not run at all (connect, login or set-up failed before the window). */
  readonly setupError?: string;
}

export function perSecond(n: number, ms: number): number {
  return ms <= 0 ? 0 : Math.round((n * 1000 * 10) / ms) / 10;
}
