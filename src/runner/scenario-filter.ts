import type { Scenario } from '../scenario/model.js';

/** `--grep`: which scenarios a run keeps. */
export interface ScenarioFilter {
  /** The pattern as the user wrote it, for messages. */
  readonly pattern: string;
  readonly matches: (scenario: Scenario) => boolean;
}

/**
 * The `--grep` pattern as the run applies it: a case-insensitive regular
 * expression over a scenario's name, id and tags. Compiled once, where the
 * option is read (a pattern that does not compile is a usage error there);
 * throws SyntaxError with the engine's reason.
 */
export function scenarioFilter(pattern: string): ScenarioFilter {
  let re: RegExp;
  try {
    re = new RegExp(pattern, 'i');
  } catch (err) {
    throw new SyntaxError(`not a valid regular expression: ${(err as Error).message}`);
  }
  return { pattern, matches: (s) => re.test(s.name) || re.test(s.id) || s.tags.some((t) => re.test(t)) };
}
