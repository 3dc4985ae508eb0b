import { findReferences } from '../interpolate/references.js';
import type { Reference } from '../interpolate/template.js';
import type { Step } from '../scenario/model.js';

/**
 * What a step needs from earlier steps, read from the `${captures.…}`
 * references in its `with` and its matcher operands. Two ways a need can go
 * unmet, and they are told apart on purpose:
 * - the capture itself is *unavailable*: the step that sets it was skipped (its
 *   own requires) or did not run; the dependent step is skipped too;
 * - the capture exists but the server never sent the item inside it (Courier's
 *   SELECT without [UIDNEXT]): that is the server's failure, named by the item,
 *   never an interpolation error.
 */

/** Capture name → why it is not there (e.g. "step 'move' was skipped: …"). */
export type Unavailable = Map<string, string>;

function captureRefs(tree: unknown): Reference[] {
  return findReferences(tree)
    .references.map((r) => r.ref)
    .filter((ref) => ref.scope === 'captures' && ref.segments.length > 0);
}

/** Why the step cannot run because a capture it uses is unavailable, or undefined. */
export function blockedBy(step: Step, unavailable: Unavailable): string | undefined {
  const refs = [...captureRefs(step.with), ...step.expect.flatMap((e) => captureRefs(e.value))];
  for (const ref of refs) {
    const why = unavailable.get(ref.segments[0]!);
    if (why !== undefined) return `it needs captures.${ref.segments[0]}, which is not there: ${why}`;
  }
  return undefined;
}

/** The first `captures.a.b…` in `tree` whose capture exists but holds nothing at that path, as written. */
export function missingItem(tree: unknown, captures: Readonly<Record<string, unknown>>): string | undefined {
  for (const ref of captureRefs(tree)) {
    const [name, ...path] = ref.segments as [string, ...string[]];
    if (!(name in captures)) continue; // unavailable, or a load-time error: not the server's doing
    let value: unknown = captures[name];
    for (const segment of path) {
      value = value === null || typeof value !== 'object' ? undefined : (value as Record<string, unknown>)[segment];
      if (value === undefined) break;
    }
    if (value === undefined) return ['captures', ...ref.segments].join('.');
  }
  return undefined;
}
