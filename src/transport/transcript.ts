/**
 * The wire transcript: every line that crossed a socket, with time and direction.
 *
 * Secrets are marked where they are written (the protocol client knows that the
 * argument of PASS is a password) and replaced before the entry is stored, so a
 * transcript never holds a secret in memory. Every part marked secret is also
 * handed to the run's secret sink (the Redactor, see redact.ts): reporters scrub
 * again with it, in case a server echoes the exact token back.
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
  /** The line crossed inside TLS (implicit TLS or after STARTTLS); absent when in the clear. */
  readonly tls?: true;
}

export const REDACTED = '[redacted]';

/** Where the exact secret tokens clients send are registered (the run's Redactor). */
export interface SecretSink {
  add(token: string): void;
}

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
  readonly #secrets: SecretSink | undefined;
  readonly #onEntry: ((entry: TranscriptEntry) => void) | undefined;
  /** Sessions whose connection is under TLS now, so their lines are marked `tls`. */
  readonly #secure = new Set<string>();

  constructor(options: { maxEntries?: number; now?: () => number; secrets?: SecretSink; onEntry?: (entry: TranscriptEntry) => void } = {}) {
    this.#maxEntries = options.maxEntries ?? 20_000;
    this.#now = options.now ?? Date.now;
    this.#secrets = options.secrets;
    this.#onEntry = options.onEntry;
  }

  /** The session's connection is (now) under TLS, or a new clear connection took its name. */
  secured(session: string, on: boolean): void {
    if (on) this.#secure.add(session);
    else this.#secure.delete(session);
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
      this.secret(options.secret);
      text = text.split(options.secret).join(REDACTED);
    }
    if (options.secretAfter !== undefined) {
      this.secret(text.slice(options.secretAfter));
      text = text.slice(0, options.secretAfter) + REDACTED;
    }
    this.#push(this.#entry('client', session, text));
  }

  /**
   * A token a client sent (or is about to send) that must never be shown:
   * registered with the run's secret sink, so that a server echoing it back is
   * scrubbed whatever the mechanism. For clients that log a line themselves
   * with the secret already replaced.
   */
  secret(token: string): void {
    if (token.length > 0) this.#secrets?.add(token);
  }

  server(session: string, line: string): void {
    this.#push(this.#entry('server', session, line));
  }

  info(session: string, text: string): void {
    this.#push(this.#entry('info', session, text));
  }

  #entry(direction: Direction, session: string, text: string): TranscriptEntry {
    // Built whole rather than spread: this runs for every line on the wire.
    const at = this.#now();
    return this.#secure.has(session) ? { at, direction, session, text, tls: true } : { at, direction, session, text };
  }

  #push(entry: TranscriptEntry): void {
    // The live view (--verbose) sees every line, also those past the size limit.
    this.#onEntry?.(entry);
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

/**
 * swaks' conventions for a live transcript (--verbose): `->` client, `<-` server,
 * `~>` / `<~` the same inside TLS, `===` mailprobe's own remarks; with the wall-clock time.
 *   18:02:11.042 [laptop] <- +OK POP3 ready
 */
export function formatLiveEntry(entry: TranscriptEntry): string {
  const arrow = entry.direction === 'info' ? '===' : entry.direction === 'client' ? (entry.tls ? ' ~>' : ' ->') : entry.tls ? ' <~' : ' <-';
  const clock = new Date(entry.at).toISOString().slice(11, 23);
  return `${clock} [${entry.session}] ${arrow} ${entry.text}`;
}
