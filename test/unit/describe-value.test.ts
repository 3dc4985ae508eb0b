import { describe, expect, it } from 'vitest';
import { describeValue } from '../../src/expectations/values.js';

/** Half of a surrogate pair without its other half: what a cut in the wrong place leaves. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

describe('describeValue', () => {
  it('shortens a long value and says how long it was', () => {
    const shown = describeValue('x'.repeat(500));
    expect(shown).toBe(`"${'x'.repeat(239)}… (502 chars)`);
  });

  it('does not cut an emoji in half when shortening (no lone surrogate reaches a report)', () => {
    // JSON.stringify keeps the emoji as a surrogate pair; the cut falls between its halves.
    const shown = describeValue(`${'x'.repeat(238)}😀 and more`);
    expect(shown).not.toMatch(LONE_SURROGATE);
    expect(shown.startsWith(`"${'x'.repeat(238)}…`)).toBe(true);
  });
});
