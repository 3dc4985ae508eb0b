/**
 * Runs one protocol exchange at a time. POP3 has no pipelining unless
 * advertised and IMAP tags are matched one by one here, so calls made while
 * another is under way wait their turn; a failed call does not block the next.
 */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(task);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}
