import { describe, expect, it } from 'vitest';
import { blockedBy, missingItem } from '../../src/runner/dependencies.js';
import type { Expectation, Step } from '../../src/scenario/model.js';

const at = { file: 'x.yaml', line: 1, col: 1 };

function step(over: Partial<Step>): Step {
  return { index: 0, name: 's', action: 'imap.find', with: {}, capture: {}, expect: [], source: at, path: ['steps', 0], ...over };
}

function expectation(value: unknown): Expectation {
  return { id: 's-uid', that: 'uid', matcher: 'at_least', value, source: at, path: ['steps', 0, 'expect', 0, 'at_least'] };
}

describe('what a step needs from earlier steps', () => {
  const captures = { s1: { uidvalidity: '7', messages: [{ uid: 3 }] }, f1: { uid: 4 } };

  it('names the item a capture lacks, as written, wherever the reference sits', () => {
    expect(missingItem({ uid: '${captures.s1.uidnext}' }, captures)).toBe('captures.s1.uidnext');
    expect(missingItem({ subject: 'next is ${captures.s1.uidnext - 1}' }, captures)).toBe('captures.s1.uidnext');
    expect(missingItem(['${captures.s1.messages.1.uid}'], captures)).toBe('captures.s1.messages.1.uid');
    expect(missingItem({ a: { b: '${captures.s1.uidvalidity.deeper}' } }, captures)).toBe('captures.s1.uidvalidity.deeper');
  });

  it('finds nothing missing when every item is there, or the reference is no capture', () => {
    expect(missingItem({ uid: '${captures.f1.uid}', v: '${captures.s1.uidvalidity}', m: '${captures.s1.messages.0.uid}' }, captures)).toBeUndefined();
    expect(missingItem({ id: '${run.id}', whole: '${captures.f1}', text: 'plain' }, captures)).toBeUndefined();
  });

  it('leaves a capture that was never set to the unavailable list, not to the server', () => {
    expect(missingItem({ uid: '${captures.moved.uid}' }, captures)).toBeUndefined();
  });

  it('blocks a step that uses an unavailable capture in `with` or in an operand, and says why', () => {
    const unavailable = new Map([['moved', "step 'move' was skipped (no MOVE)"]]);
    expect(blockedBy(step({ with: { mailbox: '${captures.moved.destination}' } }), unavailable)).toBe(
      "it needs captures.moved, which is not there: step 'move' was skipped (no MOVE)",
    );
    expect(blockedBy(step({ expect: [expectation('${captures.moved.uid}')] }), unavailable)).toMatch(/captures\.moved/);
    expect(blockedBy(step({ with: { uid: '${captures.f1.uid}' }, expect: [expectation(3)] }), unavailable)).toBeUndefined();
  });
});
