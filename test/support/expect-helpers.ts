import { expect } from 'vitest';

/** Awaits a promise that must reject with `type`, and returns the error for closer checks. */
export async function rejection<T extends Error>(promise: Promise<unknown>, type: new (...args: never[]) => T): Promise<T> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(type);
  return error as T;
}

/**
 * Sets a live flag object (a fake host's faults, a proxy's mutations) to
 * exactly `flags`, in place, since the server reads the same object.
 */
export function replaceFlags<F extends object>(live: F, flags: F): void {
  for (const key of Object.keys(live) as Array<keyof F>) delete live[key];
  Object.assign(live, flags);
}
