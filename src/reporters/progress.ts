/**
 * The live "waiting for …" line on a terminal (issue 10 §3). A wait that lasts
 * more than about a second (delivery polling, IDLE, cleanup waiting for mail)
 * shows "waiting for delivery to alice (3.2 s of 30 s)" on stderr, rewritten in
 * place and erased when the wait ends. Off a terminal it writes nothing: a CI
 * log gets no carriage returns.
 */
import { escapeControls, oneLine } from './escape.js';

/** Ends a wait: stops the line's timer and erases the line. Safe to call twice. */
export type WaitDone = () => void;

/** What the runner gives actions to announce a wait (ActionContext.waiting). */
export type Waiting = (what: string, limitMs: number) => WaitDone;

const SHOW_AFTER_MS = 1_000;
const REDRAW_MS = 100;
/** Cursor to column 0, erase to the end of the line. */
const ERASE = '\r\x1b[K';

export function progressLine(stream: NodeJS.WritableStream & { isTTY?: boolean }, now: () => number = Date.now): Waiting {
  if (stream.isTTY !== true) return () => () => {};
  return (what, limitMs) => {
    const started = now();
    const label = escapeControls(oneLine(what));
    let shown = false;
    const draw = () => {
      const waited = now() - started;
      if (waited < SHOW_AFTER_MS) return;
      shown = true;
      stream.write(`${ERASE}waiting for ${label} (${seconds(waited)} of ${seconds(limitMs)})`);
    };
    const timer = setInterval(draw, REDRAW_MS);
    // A wait line never keeps the process alive on its own.
    timer.unref();
    let done = false;
    return () => {
      if (done) return;
      done = true;
      clearInterval(timer);
      if (shown) stream.write(ERASE);
    };
  };
}

/** "3.2 s" under a minute, "30 s" for whole seconds. */
function seconds(ms: number): string {
  const s = ms / 1000;
  return Number.isInteger(s) ? `${s} s` : `${s.toFixed(1)} s`;
}
