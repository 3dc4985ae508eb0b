import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { progressLine } from '../../src/reporters/progress.js';

/** A stderr stand-in that records what was written; isTTY as a terminal's or a pipe's. */
function fakeStderr(isTTY: boolean): Writable & { isTTY: boolean; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  return Object.assign(stream, { isTTY, text: () => chunks.join('') });
}

describe('the waiting line', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('on a terminal: appears after a second, counts up in place, and is erased when the wait ends', () => {
    const stderr = fakeStderr(true);
    const done = progressLine(stderr)('delivery to alice', 30_000);
    vi.advanceTimersByTime(900);
    expect(stderr.text()).toBe('');
    vi.advanceTimersByTime(2_300);
    const text = stderr.text();
    expect(text).toContain('\r\x1b[Kwaiting for delivery to alice (3.2 s of 30 s)');
    // Rewritten in place: every redraw starts at column 0, no newline ever.
    expect(text).not.toContain('\n');
    expect(text.split('\r\x1b[K').filter(Boolean).length).toBeGreaterThan(1);
    done();
    expect(stderr.text().endsWith('\r\x1b[K')).toBe(true);
    // No timer left behind: nothing more is written, and no timer is pending.
    const after = stderr.text();
    vi.advanceTimersByTime(5_000);
    expect(stderr.text()).toBe(after);
    expect(vi.getTimerCount()).toBe(0);
    done();
    expect(stderr.text()).toBe(after);
  });

  it('a wait shorter than a second shows nothing and erases nothing', () => {
    const stderr = fakeStderr(true);
    const done = progressLine(stderr)('delivery to alice', 30_000);
    vi.advanceTimersByTime(500);
    done();
    expect(stderr.text()).toBe('');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('off a terminal: nothing at all, and no timer', () => {
    const stderr = fakeStderr(false);
    const done = progressLine(stderr)('delivery to alice', 30_000);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(10_000);
    done();
    expect(stderr.text()).toBe('');
  });

  it('escapes control characters in what it waits for (a mailbox name comes from the server)', () => {
    const stderr = fakeStderr(true);
    const done = progressLine(stderr)('EXISTS in \x1b[2Jbox', 5_000);
    vi.advanceTimersByTime(1_500);
    done();
    expect(stderr.text()).not.toContain('\x1b[2J');
  });
});
