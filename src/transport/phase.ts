import { TransportError, type Phase } from './errors.js';
import { timerDelay } from './timeouts.js';

export interface PhaseWait<T> {
  readonly phase: Phase;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
  /** Error for an expired timeout; the phase's own words ("no greeting within…"). */
  readonly onTimeout: () => TransportError;
  /**
   * Starts the work. Returns a cancel function, called when the phase is
   * abandoned (timeout or abort) so that sockets are not left behind.
   */
  readonly start: (resolve: (value: T) => void, reject: (error: unknown) => void) => () => void;
}

/** Runs one phase with its own timeout and the run's AbortSignal. */
export function waitPhase<T>(wait: PhaseWait<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let cancel: () => void = () => undefined;
    const finish = (): boolean => {
      if (settled) return false;
      settled = true;
      clearTimeout(timer);
      wait.signal?.removeEventListener('abort', onAbort);
      return true;
    };
    const onAbort = (): void => {
      if (!finish()) return;
      cancel();
      reject(abortedError(wait.phase, wait.signal));
    };
    const timer = setTimeout(() => {
      if (!finish()) return;
      cancel();
      reject(wait.onTimeout());
    }, timerDelay(wait.timeoutMs));
    if (wait.signal?.aborted) {
      onAbort();
      return;
    }
    wait.signal?.addEventListener('abort', onAbort, { once: true });
    cancel = wait.start(
      (value) => {
        if (finish()) resolve(value);
      },
      (error) => {
        if (finish()) reject(error);
      },
    );
  });
}

export function abortedError(phase: Phase, signal?: AbortSignal): TransportError {
  const reason = signal?.reason instanceof Error ? `: ${signal.reason.message}` : '';
  return new TransportError('EABORTED', phase, `cancelled during ${phase}${reason}`, { cause: signal?.reason });
}
