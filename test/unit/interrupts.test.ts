import { afterEach, describe, expect, it } from 'vitest';
import { installInterrupts, type Interrupts } from '../../src/cli/interrupts.js';
import { RunLedger } from '../../src/runner/creation-record.js';

/**
 * The three Ctrl-Cs, driven by emitting the signal to the handlers (no real
 * signal, no child process): the first aborts the run, the second stops
 * cleanup and starts the bound, the third (or the bound) leaves at once and
 * names what the ledger says is left.
 */
describe('installInterrupts', () => {
  let installed: Interrupts | undefined;
  afterEach(() => installed?.dispose());

  const setUp = (boundMs: number) => {
    const lines: string[] = [];
    const exits: number[] = [];
    const ledger = new RunLedger();
    ledger.open('imap/folder-sync', () => ["folder 'mailprobe-r1/projects' (account alice): not confirmed removed"]);
    installed = installInterrupts((l) => lines.push(l), ledger, { boundMs, exit: (code) => exits.push(code) });
    return { lines, exits, interrupts: installed };
  };

  it('aborts the run on the first signal, stops cleanup on the second, leaves naming the leftovers on the third', () => {
    const { lines, exits, interrupts } = setUp(60_000);
    process.emit('SIGINT');
    expect(interrupts.signal.aborted).toBe(true);
    expect(interrupts.stopCleanup.aborted).toBe(false);
    expect(exits).toEqual([]);
    process.emit('SIGTERM');
    expect(interrupts.stopCleanup.aborted).toBe(true);
    expect(interrupts.hurried).toBe(true);
    expect(exits).toEqual([]);
    process.emit('SIGINT');
    expect(exits).toEqual([130]);
    expect(lines.join('\n')).toContain("imap/folder-sync: folder 'mailprobe-r1/projects' (account alice): not confirmed removed");
  });

  it('leaves by itself once the bound after the second signal passes', async () => {
    const { lines, exits } = setUp(50);
    process.emit('SIGINT');
    process.emit('SIGINT');
    expect(exits).toEqual([]);
    for (let i = 0; i < 200 && exits.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(exits).toEqual([130]);
    expect(lines.join('\n')).toMatch(/not written within 50 ms/);
    expect(lines.join('\n')).toContain('imap/folder-sync: folder');
  });

  it('does not leave when the run ends within the bound', async () => {
    const { exits, interrupts } = setUp(50);
    process.emit('SIGINT');
    process.emit('SIGINT');
    interrupts.dispose();
    installed = undefined;
    await new Promise((r) => setTimeout(r, 150));
    expect(exits).toEqual([]);
  });
});
