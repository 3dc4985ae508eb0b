import { ImapSessionError } from './errors.js';

/**
 * Deadlines for everything an imapflow session waits for after the socket is
 * up: the greeting, and the complete answer to every command imapflow sends,
 * its own (CAPABILITY, STARTTLS, LOGIN/AUTHENTICATE, ENABLE, ID, NAMESPACE)
 * and the scenario's. imapflow only has an inactivity timer after the greeting,
 * which a server that trickles bytes keeps happy for ever; these are totals,
 * per reply, fed from the lines imapflow logs. On expiry `abort` is called,
 * which destroys the socket (see ImapflowTransport.abort).
 *
 * IDLE is the one wait with no deadline here: once the server has answered
 * "+", the push timeout of the scenario bounds it, and DONE starts the
 * deadline of the tagged answer.
 */
export interface SessionDeadlineOptions {
  readonly greetingMs: number;
  readonly commandMs: number;
  /** "127.0.0.1:143", for messages. */
  readonly where: string;
  /** Plain-text sessions get the hint that an implicit-TLS port says nothing. */
  readonly plainText: boolean;
  readonly abort: (error: ImapSessionError) => void;
}

export class SessionDeadlines {
  /** The phase the session is in: greeting, auth, starttls or command. */
  phase = 'greeting';
  #timer: NodeJS.Timeout | undefined;
  #pending: string | undefined;
  #idling = false;
  #greeted = false;
  #stopped = false;

  constructor(readonly options: SessionDeadlineOptions) {}

  /** Whether the server's greeting has arrived. */
  get greeted(): boolean {
    return this.#greeted;
  }

  /** The socket is up: the greeting is due within the greeting timeout. */
  connected(): void {
    const { greetingMs, where, plainText } = this.options;
    const hint = plainText ? '; if this port expects implicit TLS, use security: tls' : '';
    this.#arm('greeting', greetingMs, `no complete IMAP greeting from ${where} within ${greetingMs} ms${hint}`);
  }

  /** A line the client sent, as imapflow logs it ("3 LOGIN alice (* value hidden *)", "DONE"). */
  client(line: string): void {
    if (this.#idling && line === 'DONE') {
      this.#idling = false;
      this.#start('IDLE (DONE)', 'command');
      return;
    }
    // A literal or SASL continuation belongs to the command already waiting.
    if (this.#pending !== undefined || !this.#greeted) return;
    const words = line.split(' ');
    const verb = (words[1] ?? '').toUpperCase();
    const name = verb === 'UID' ? `UID ${(words[2] ?? '').toUpperCase()}` : verb;
    this.#start(name, verb === 'LOGIN' || verb === 'AUTHENTICATE' ? 'auth' : verb === 'STARTTLS' ? 'starttls' : 'command');
  }

  /** A line the server sent, as imapflow logs it. */
  server(line: string): void {
    if (!this.#greeted) {
      if (/^\* (OK|PREAUTH|BYE)\b/i.test(line)) {
        this.#greeted = true;
        this.phase = 'command';
        this.#disarm();
      }
      return;
    }
    if (line.startsWith('+')) {
      if (this.#pending === 'IDLE') {
        // Idling: the scenario's push timeout bounds this wait, not the command timeout.
        this.#idling = true;
        this.#pending = undefined;
        this.#disarm();
      }
      return;
    }
    if (line.startsWith('*')) return;
    this.#pending = undefined;
    this.#disarm();
  }

  stop(): void {
    this.#stopped = true;
    this.#disarm();
  }

  #start(command: string, phase: string): void {
    const { commandMs, where } = this.options;
    this.#pending = command;
    this.phase = phase;
    this.#arm(phase, commandMs, `${where} sent no complete answer to ${command} within ${commandMs} ms`);
  }

  #arm(phase: string, ms: number, message: string): void {
    if (this.#stopped) return;
    this.#disarm();
    this.phase = phase;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.options.abort(new ImapSessionError('ETIMEOUT', message, phase));
    }, ms);
  }

  #disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
