import { describe, expect, it } from 'vitest';
import { DEFAULT_POLL_CAP_MS, FIRST_POLL_MS, pause, pollPauses } from '../../src/actions/awaited-mail.js';

describe('delivery poll pauses', () => {
  it('start at 25 ms, grow by half, and never pass the cap', () => {
    const pauses = pollPauses(DEFAULT_POLL_CAP_MS);
    const first = Array.from({ length: 12 }, () => pauses.next().value);
    expect(first.slice(0, 5)).toEqual([FIRST_POLL_MS, 38, 57, 86, 129]);
    for (let i = 1; i < first.length; i++) expect(first[i]).toBeGreaterThanOrEqual(first[i - 1]!);
    expect(Math.max(...first)).toBe(DEFAULT_POLL_CAP_MS);
    expect(first.at(-1)).toBe(DEFAULT_POLL_CAP_MS);
  });

  it('keep a cap below the first pause as the only pause', () => {
    const pauses = pollPauses(10);
    expect([pauses.next().value, pauses.next().value, pauses.next().value]).toEqual([10, 10, 10]);
  });

  it('end a pause when the signal aborts (Ctrl-C), not when its time is up', async () => {
    const controller = new AbortController();
    let ended = false;
    const waiting = pause(60_000, controller.signal).then(() => (ended = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(ended).toBe(false);
    controller.abort();
    await waiting;
    expect(ended).toBe(true);
  });

  it('end a pause at the deadline, and not start one after it', async () => {
    const signal = new AbortController().signal;
    // A deadline already passed: the pause resolves without a timer (a 60 s one would time the test out).
    await pause(60_000, signal, Date.now() - 1);
    await pause(60_000, signal, Date.now() + 5);
  });
});
