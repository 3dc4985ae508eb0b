import { z } from 'zod';
import { hasInterpolation } from '../interpolate/template.js';

/** The matcher keys of an expectation; exactly one per expectation. */
export const MATCHER_NAMES = [
  'equals',
  'not_equals',
  'contains',
  'not_contains',
  'matches',
  'greater_than',
  'less_than',
  'at_least',
  'at_most',
  'exists',
  'length',
  'one_of',
  'delivered_copy_of',
] as const;
export type MatcherName = (typeof MATCHER_NAMES)[number];

export function isMatcherName(s: string): s is MatcherName {
  return (MATCHER_NAMES as readonly string[]).includes(s);
}

/**
 * The operand each matcher takes. A string holding `${…}` may stand for any
 * of them: the loader lets such issues pass and the runner checks the
 * interpolated value. `matches` is compiled with `new RegExp(value)` (no flags).
 */
export const MATCHER_OPERANDS: { readonly [K in MatcherName]: z.ZodType } = {
  equals: z.unknown(),
  not_equals: z.unknown(),
  contains: z.unknown(),
  not_contains: z.unknown(),
  matches: z.string().superRefine((value, ctx) => {
    if (hasInterpolation(value)) return;
    const problem = regexProblem(value);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `invalid regular expression: ${problem}` });
  }),
  greater_than: z.number(),
  less_than: z.number(),
  at_least: z.number(),
  at_most: z.number(),
  exists: z.boolean(),
  length: z.number().int().min(0),
  one_of: z.array(z.unknown()),
  delivered_copy_of: z.unknown(),
};

/** Why a pattern does not compile, or undefined when it does. */
export function regexProblem(pattern: string): string | undefined {
  try {
    new RegExp(pattern);
    return undefined;
  } catch (err) {
    // V8 says "Invalid regular expression: /(/: Unterminated group"; keep the reason.
    const msg = err instanceof Error ? err.message : String(err);
    return msg.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '').toLowerCase();
  }
}
