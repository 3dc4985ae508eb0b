/**
 * The wire transcript: every line that crossed a socket, with time and direction.
 *
 * Secrets are marked where they are written (the protocol client knows that the
 * argument of PASS is a password) and replaced before the entry is stored, so a
 * transcript never holds a secret in memory. Reporters scrub again with the
 * run's known secret values (see redact.ts), in case a server echoes one back.
 */
export type Direction = 'client' | 'server' | 'info';

export interface TranscriptEntry {
  /** Milliseconds since the Unix epoch. */
  readonly at: number;
  readonly direction: Direction;
  /** Name of the session (device) that owns the connection, e.g. "laptop". */
  readonly session: string;
  /** One protocol line without its CRLF, already redacted. */
  readonly text: string;
}

export const REDACTED = '[redacted]';

export interface ClientLineOptions {
  /**
   * Text of the line that is a secret. Only this part is replaced, so the
   * transcript still shows the command: "PASS [redacted]".
   */
  readonly secret?: string;
  /** Replace everything after the first word (AUTH PLAIN continuation lines). */
  readonly secretAfter?: number;
}

export class Transcript {
  readonly #entries: TranscriptEntry[] = [];
  readonly #maxEntries: number;
  #dropped = 0;
  readonly #now: () => number;

  constructor(options: { maxEntries?: number; now?: () => number } = {}) {
    this.#maxEntries = options.maxEntries ?? 20_000;
    this.#now = options.now ?? Date.now;
  }

  get entries(): readonly TranscriptEntry[] {
    return this.#entries;
  }

  /** Lines not kept because the transcript reached its size limit. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Index to pass to {@link since} to get the lines of one step. */
  mark(): number {
    return this.#entries.length;
  }

  since(mark: number): TranscriptEntry[] {
    return this.#entries.slice(mark);
  }

  client(session: string, line: string, options: ClientLineOptions = {}): void {
    let text = line;
    if (options.secret !== undefined && options.secret.length > 0) {
      text = text.split(options.secret).join(REDACTED);
    }
    if (options.secretAfter !== undefined) {
      text = text.slice(0, options.secretAfter) + REDACTED;
    }
    this.#push({ at: this.#now(), direction: 'client', session, text });
  }

  server(session: string, line: string): void {
    this.#push({ at: this.#now(), direction: 'server', session, text: line });
  }

  info(session: string, text: string): void {
    this.#push({ at: this.#now(), direction: 'info', session, text });
  }

  #push(entry: TranscriptEntry): void {
    if (this.#entries.length >= this.#maxEntries) {
      this.#dropped++;
      return;
    }
    this.#entries.push(entry);
  }
}

/** "C: USER alice" style rendering used by console, JUnit and TAP output. */
export function formatEntry(entry: TranscriptEntry, startedAt?: number): string {
  const arrow = entry.direction === 'client' ? 'C:' : entry.direction === 'server' ? 'S:' : '--';
  const clock = startedAt === undefined ? '' : `+${String(entry.at - startedAt).padStart(5, ' ')}ms `;
  return `${clock}[${entry.session}] ${arrow} ${entry.text}`;
}
