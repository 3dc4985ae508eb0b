import type { ProtocolName } from '../actions/define-action.js';
import type { EndpointName } from '../target/endpoints.js';
import type { MatcherName } from './matchers.js';
import type { SourcePos } from '../core/source.js';
import type { DataPath, PositionMap } from '../input/yaml-doc.js';

/** A loaded, validated scenario. Values are the parsed YAML tree, not yet interpolated. */
export interface Scenario {
  readonly file: string;
  /** Path relative to the suite root, without extension, '/'-separated. */
  readonly id: string;
  readonly name: string;
  readonly description?: string;
  readonly tags: readonly string[];
  readonly rfc: readonly string[];
  /** Includes, implicitly, the endpoints and accounts that sessions use. */
  readonly requires: Requirements;
  readonly vars: Readonly<Record<string, unknown>>;
  readonly sessions: Readonly<Record<string, SessionDecl>>;
  readonly steps: readonly Step[];
  readonly cleanup: readonly Step[];
  readonly source: SourcePos;
  readonly positions: PositionMap;
}

export interface Requirements {
  readonly endpoints: readonly EndpointName[];
  readonly accounts: readonly string[];
  readonly capabilities: Partial<Record<ProtocolName, readonly string[]>>;
}

export interface SessionDecl {
  readonly protocol: ProtocolName;
  readonly endpoint: EndpointName;
  readonly account: string;
  readonly source: SourcePos;
}

export interface Step {
  /** Index within its list (steps or cleanup). */
  readonly index: number;
  readonly name: string;
  readonly action: string;
  readonly session?: string;
  /** The action's params as written (`{}` when absent); interpolate, then validateParams, at run time. */
  readonly with: unknown;
  /** Capture name → output path ('$' or dotted). */
  readonly capture: Readonly<Record<string, string>>;
  readonly expect: readonly Expectation[];
  /** Capabilities this step alone needs from its own session (`requires.capabilities` of the step). */
  readonly requires?: Pick<Requirements, 'capabilities'>;
  readonly source: SourcePos;
  /** ['steps', i] or ['cleanup', i]: prefix for positions.posOf. */
  readonly path: DataPath;
}

export interface Expectation {
  /** The check's id within its scenario: the explicit `id:`, or derived from the step name and `that` (check-ids.ts). */
  readonly id: string;
  /** Output path: '$' or dotted. */
  readonly that: string;
  readonly matcher: MatcherName;
  /** The operand as written; may hold `${…}`. */
  readonly value: unknown;
  readonly rfc?: string;
  readonly because?: string;
  readonly source: SourcePos;
  /** Path of the operand in the document, for interpolation positions. */
  readonly path: DataPath;
}

/** Splits an output path ('$' → [], 'a.b.0' → ['a', 'b', 0]) for the runner. */
export function parseOutputPath(path: string): (string | number)[] {
  if (path === '$') return [];
  return path.split('.').map((seg) => (/^\d+$/.test(seg) ? Number(seg) : seg));
}
