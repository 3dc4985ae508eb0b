/**
 * Stable check ids. A known-deviation profile in a target file names a check
 * as `<scenario id>#<check id>` (`imap/uid-stability#uidnext-in-select`), so a
 * check needs a name that survives edits of its scenario:
 *
 * - an explicit `id:` on the expectation (`[a-z0-9-]+`, unique within the
 *   scenario, steps and cleanup together) is stable for as long as it is kept;
 * - without one, the id is derived from the step's name and the check's
 *   `that:`, slugged (`laptop opens it` + `uidnext` → `laptop-opens-it-uidnext`).
 *   Renaming the step changes it. Two checks that derive the same id are told
 *   apart by position: the first keeps it, the next get `-2`, `-3`, … in the
 *   order they are written (an id already taken, explicitly or by an earlier
 *   check, is skipped), so inserting such a check renumbers the later ones.
 *   An explicit id is the way to make a check that a profile names stable.
 */

export const CHECK_ID_RE = /^[a-z0-9-]+$/;
export const CHECK_ID_MESSAGE = "a check id is made of lower-case letters, digits and '-' (e.g. uidnext-in-select)";

/** `<scenario id>#<check id>`: how a target file's deviations name a check. */
export function fullCheckId(scenarioId: string, checkId: string): string {
  return `${scenarioId}#${checkId}`;
}

/** Lower-case ASCII words joined by '-': accents dropped, everything else a separator. */
export function slug(text: string): string {
  // ASCII needs no decomposition, and the first normalize() loads ICU's tables (about 10 ms of `validate`'s start).
  return (/^[\x00-\x7f]*$/.test(text) ? text : text.normalize('NFKD'))
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/** The id a check gets without an explicit one, before any collision suffix. */
export function derivedCheckId(stepName: string, that: string): string {
  const parts = [slug(stepName), that === '$' ? 'output' : slug(that)].filter((p) => p !== '');
  return parts.length === 0 ? 'check' : parts.join('-');
}

/** One check as written: its explicit id, if any, and what a derived one is made from. */
export interface CheckIdInput {
  readonly explicit?: string;
  readonly stepName: string;
  readonly that: string;
}

/**
 * Every check's id, in the order given (steps first, then cleanup, each in
 * file order). Explicit ids are taken first; derived ones never take them.
 * Duplicate explicit ids are the loader's error and are returned as written.
 */
export function assignCheckIds(checks: readonly CheckIdInput[]): string[] {
  const taken = new Set(checks.flatMap((c) => (c.explicit === undefined ? [] : [c.explicit])));
  return checks.map((c) => {
    if (c.explicit !== undefined) return c.explicit;
    const base = derivedCheckId(c.stepName, c.that);
    let id = base;
    for (let n = 2; taken.has(id); n++) id = `${base}-${n}`;
    taken.add(id);
    return id;
  });
}
