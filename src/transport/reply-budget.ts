import { TransportError, type Phase } from './errors.js';

/**
 * The time one reply may take, whatever the pace of its lines.
 *
 * The command timeout alone is an inactivity bound: it restarts with every
 * line, so a server that sends a line now and then and never ends its reply
 * would hold a run forever. A budget bounds the reply as a whole:
 * - a reply (a status line, CAPA, the responses to an IMAP command) must end
 *   within `baseMs` of its start;
 * - a transfer (RETR, TOP, a listing, an IMAP literal) gets `baseMs` plus one
 *   second per `minRate` octets received, so a big message on a slow but honest
 *   link keeps going while a trickle falls behind and is stopped.
 * Connection.readLine honours it together with the inactivity timeout; every
 * line read for the reply is counted with `consumed`.
 */
export type ReplyKind = 'reply' | 'transfer';

export interface ReplyBudgetInit {
  /** The command answered, as the transcript shows it ("RETR 1", "A002 EXAMINE INBOX"). */
  readonly command: string;
  readonly kind: ReplyKind;
  /** The fixed part of the allowance: the command timeout. */
  readonly baseMs: number;
  /** Octets per second a transfer must keep (limits.minTransferRate). */
  readonly minRate: number;
  /** performance.now() at the start of the reply; default now. */
  readonly startedAt?: number;
}

export class ReplyBudget {
  readonly command: string;
  readonly baseMs: number;
  readonly minRate: number;
  readonly startedAt: number;
  #kind: ReplyKind;
  #octets = 0;

  constructor(init: ReplyBudgetInit) {
    this.command = init.command;
    this.baseMs = init.baseMs;
    this.minRate = init.minRate;
    this.#kind = init.kind;
    this.startedAt = init.startedAt ?? performance.now();
  }

  get kind(): ReplyKind {
    return this.#kind;
  }

  /** Octets of this reply read so far (lines and their endings). */
  get octets(): number {
    return this.#octets;
  }

  /** Count octets read for this reply. */
  consumed(octets: number): void {
    this.#octets += octets;
  }

  /**
   * The reply turned out to carry a transfer (an IMAP literal was announced):
   * from now on its allowance grows with the octets received.
   */
  becomeTransfer(): void {
    this.#kind = 'transfer';
  }

  /**
   * When the reply runs out of time (performance.now() clock). `inFlight`:
   * octets of a line not complete yet, which a transfer is credited for too.
   */
  deadline(inFlight = 0): number {
    const earned = this.#kind === 'transfer' ? ((this.#octets + inFlight) * 1000) / this.minRate : 0;
    return this.startedAt + this.baseMs + earned;
  }

  /** The error for a reply past its deadline; it says which bound was hit. */
  exceeded(where: string, phase: Phase, details: { host: string; port: number }, now = performance.now()): TransportError {
    const elapsed = Math.round(now - this.startedAt);
    const message =
      this.#kind === 'transfer'
        ? `the reply to ${this.command} fell below the minimum rate of ${this.minRate} bytes/s: ${where} sent ` +
          `${this.#octets} octets in ${elapsed} ms (a transfer may take ${this.baseMs} ms plus 1 s per ${this.minRate} octets)`
        : `${where}: no complete reply to ${this.command} within ${this.baseMs} ms ` +
          '(its lines kept coming, but a reply must end within the command timeout)';
    return new TransportError('ETIMEOUT', phase, message, { ...details, command: this.command });
  }
}
