import type { SourcePos } from '../scenario/source.js';

/**
 * The shape of a loaded scenario the runner needs. The loader (src/scenario)
 * produces richer objects; these interfaces name only what running uses, so
 * tests can build scenarios directly.
 */
export interface RunnableExpectation {
  readonly that: string;
  readonly matcher: string;
  readonly value: unknown;
  readonly rfc?: string;
  readonly because?: string;
  readonly source: SourcePos;
}

export interface RunnableStep {
  readonly index: number;
  readonly name: string;
  readonly action: string;
  readonly session?: string;
  readonly with: unknown;
  readonly capture: Readonly<Record<string, string>>;
  readonly expect: readonly RunnableExpectation[];
  readonly source: SourcePos;
  readonly path: readonly (string | number)[];
}

export interface RunnableSession {
  readonly protocol: 'pop3' | 'imap' | 'smtp';
  readonly endpoint: string;
  readonly account: string;
}

export interface RunnableScenario {
  readonly file: string;
  readonly id: string;
  readonly name: string;
  readonly description?: string;
  readonly tags: readonly string[];
  readonly rfc: readonly string[];
  readonly requires: {
    readonly endpoints: readonly string[];
    readonly accounts: readonly string[];
    readonly capabilities: Readonly<Partial<Record<'pop3' | 'imap' | 'smtp', readonly string[]>>>;
  };
  readonly vars: Readonly<Record<string, unknown>>;
  readonly sessions: Readonly<Record<string, RunnableSession>>;
  readonly steps: readonly RunnableStep[];
  readonly cleanup: readonly RunnableStep[];
  readonly source: SourcePos;
  /** Position of any node by its path in the YAML tree, for runtime errors. */
  readonly positions: { posOf(path: readonly (string | number)[]): SourcePos };
}
