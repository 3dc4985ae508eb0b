import { Transcript, type ClientLineOptions, type TranscriptEntry } from '../../../transport/transcript.js';

/**
 * A Transcript that forwards to the caller's one and can be told to drop
 * client lines for a while. The client hands it to the transport so that the
 * lines Connection.writeLine logs while literal octets are sent (message
 * content, possibly a password) are replaced by one "[literal: N octets]"
 * entry, which the client writes itself. Reads go to the real transcript.
 */
export class QuietableTranscript extends Transcript {
  readonly #inner: Transcript;
  #quiet = false;

  constructor(inner: Transcript) {
    super({ maxEntries: 0 });
    this.#inner = inner;
  }

  get inner(): Transcript {
    return this.#inner;
  }

  /** Run `send` with client lines kept out of the transcript. */
  quietly<T>(send: () => T): T {
    this.#quiet = true;
    try {
      return send();
    } finally {
      this.#quiet = false;
    }
  }

  override get entries(): readonly TranscriptEntry[] {
    return this.#inner.entries;
  }

  override get dropped(): number {
    return this.#inner.dropped;
  }

  override mark(): number {
    return this.#inner.mark();
  }

  override since(mark: number): TranscriptEntry[] {
    return this.#inner.since(mark);
  }

  override client(session: string, line: string, options: ClientLineOptions = {}): void {
    if (!this.#quiet) this.#inner.client(session, line, options);
    // A line kept out of the transcript still registers its secret with the run's redactor.
    else if (options.secret !== undefined) this.#inner.secret(options.secret);
  }

  override secret(token: string): void {
    this.#inner.secret(token);
  }

  override server(session: string, line: string): void {
    this.#inner.server(session, line);
  }

  // The Connection tells the transcript it was handed when STARTTLS succeeds; the lines are written to the inner one.
  override secured(session: string, on: boolean): void {
    this.#inner.secured(session, on);
  }

  override info(session: string, text: string): void {
    this.#inner.info(session, text);
  }
}
