import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP, connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { ImapTransport, ImapTransportConnectOptions, ImapTransportOptions, ImapTransportSocket } from 'imapflow';
import { connectingLine } from './connect.js';
import { tlsSummary, type Security } from './connection.js';
import { TransportError, endpoint, starttlsInjectionError, type Phase } from './errors.js';
import { bufferedBytes, type BufferMeter } from './limits.js';
import { describeTls, tlsConnectOptions, type TlsOptions, withSharedContext } from './tls.js';

/**
 * The sockets under an imapflow session, opened and owned by mailprobe
 * through imapflow's `transport` option. imapflow's own connect budget is one
 * timer for DNS, TCP and TLS together and its STARTTLS timer is a fixed 10 s;
 * here each phase has mailprobe's own timeout, and whatever ends a session
 * (a phase timeout, a deadline of the session, a limit) destroys the socket
 * itself, so nothing is left open and nothing keeps the event loop alive.
 *
 * It also watches the bytes imapflow is given, without keeping them:
 * - how many imapflow holds unparsed (the meter, see {@link ResponseMeter});
 * - the server's first bytes, so a greeting imapflow cannot parse can still be named;
 * - bytes after the tagged answer to STARTTLS and before the handshake (CVE-2011-0411).
 */
export interface ImapflowTransportOptions {
  readonly host: string;
  readonly port: number;
  readonly tls: TlsOptions;
  /** The endpoint's mode, for the transcript's "connecting to" line (imapflow itself only knows secure or not). */
  readonly security?: Security;
  /**
   * Called with the same info lines the raw transport records ("connecting to HOST:PORT, security MODE",
   * "TLS established (...)"): imapflow's log has neither, so a transcript would not say where a session went.
   */
  readonly onInfo?: (text: string) => void;
  readonly timeouts: { readonly dns: number; readonly tcp: number; readonly tls: number };
  readonly meter?: BufferMeter;
  /** Called once the TCP socket has closed (the connection budget's slot goes back then). */
  readonly onClosed?: () => void;
  /** Called once the connection (and implicit TLS) is up: the greeting's deadline starts there. */
  readonly onConnected?: () => void;
  /** Called with the server's first line (or its first 512 bytes), before imapflow parses it. */
  readonly onFirstLine?: (first: Buffer) => void;
  /**
   * The most one response may hold (imapflow's maxResponseSize). imapflow refuses such a
   * response itself; this makes the bound hold whatever the timing of its refusal.
   */
  readonly maxResponseBytes?: number;
  /** Called once when one response holds more than maxResponseBytes; the session then aborts. */
  readonly onOverflow?: () => void;
  /** A literal of this many octets was announced: a transfer, which may take longer than a reply. */
  readonly onLiteral?: (octets: number) => void;
  /** A response line (outside literals) held a NUL octet, which IMAP never allows; `line` is its start. */
  readonly onNul?: (line: Buffer) => void;
}

/** How much of a line with a NUL octet is kept to show in the error. */
const NUL_SAMPLE = 80;

/** How much of the server's first line is kept, to say what the port speaks. */
const FIRST_BYTES = 512;

export class ImapflowTransport implements ImapTransport {
  /** The phase the connection is in, for errors that imapflow reports without one. */
  phase: Phase = 'dns';
  #socket: Socket | TLSSocket | undefined;
  #failure: TransportError | undefined;
  #timer: NodeJS.Timeout | undefined;
  readonly #meter: ResponseMeter;

  constructor(readonly options: ImapflowTransportOptions) {
    this.#meter = new ResponseMeter(options.meter ?? bufferedBytes, {
      onFirstLine: (first) => options.onFirstLine?.(first),
      ...(options.maxResponseBytes === undefined ? {} : { maxHeld: options.maxResponseBytes }),
      onOverflow: () => options.onOverflow?.(),
      onLiteral: (octets) => options.onLiteral?.(octets),
      onNul: (line) => options.onNul?.(line),
    });
  }

  /** The first error this transport raised (a phase timeout, an abort, a STARTTLS injection). */
  get failure(): TransportError | undefined {
    return this.#failure;
  }

  /** The first bytes the server sent (up to its first line end, at most 512), if any. */
  get firstBytes(): Buffer | undefined {
    return this.#meter.firstBytes;
  }

  /** Octets the server sent after its tagged answer to STARTTLS and before the handshake. */
  get injectedBytes(): number {
    return this.#meter.injected;
  }

  get endpoint(): string {
    return endpoint(this.options.host, this.options.port);
  }

  connect(request: ImapTransportConnectOptions, onConnect: () => void): ImapTransportSocket {
    const { host, port, timeouts } = this.options;
    const lookup = (
      hostname: string,
      options: LookupOptions,
      callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
    ): void => {
      dnsLookup(hostname, options, (err, address, family) => {
        if (this.#failure) return;
        callback(err, address as string | LookupAddress[], family);
      });
    };
    this.phase = 'dns';
    this.options.onInfo?.(connectingLine(host, port, this.options.security ?? (request.secure ? 'tls' : 'none')));
    this.#arm('dns', timeouts.dns, () => `DNS lookup of ${host} did not answer within ${timeouts.dns} ms`);
    const plain = netConnect({ host, port, noDelay: true, lookup });
    // imapflow removes its listeners when it closes; a late error of a socket destroyed by
    // abort() must not become an uncaught exception. imapflow's own listeners still hear it.
    plain.on('error', ignore);
    plain.once('close', () => this.options.onClosed?.());
    const tcpPhase = (): void => {
      this.phase = 'tcp';
      this.#arm('tcp', timeouts.tcp, () => `TCP connection to ${this.endpoint} not established within ${timeouts.tcp} ms (a firewall may be dropping packets)`);
    };
    // Node resolves no IP address, and then emits no 'lookup': without this, a dropped SYN to an IP would
    // be timed by the DNS timeout and reported as a DNS lookup that did not answer.
    if (isIP(host) !== 0) tcpPhase();
    else plain.once('lookup', tcpPhase);
    const connected = (socket: Socket | TLSSocket): void => {
      this.#disarm();
      this.phase = 'greeting';
      onConnect();
      this.#meter.attach(socket);
      this.options.onConnected?.();
    };
    if (!request.secure) {
      this.#socket = plain;
      plain.once('connect', () => connected(plain));
      return plain as ImapTransportSocket;
    }
    const secure = tlsConnect({ ...withSharedContext(tlsConnectOptions(host, this.options.tls)), socket: plain }, () => {
      this.options.onInfo?.(tlsSummary(describeTls(secure, 'tls', host, this.options.tls)));
      connected(secure);
    });
    plain.once('connect', () => {
      this.phase = 'tls';
      this.#arm('tls', timeouts.tls, () => `TLS handshake with ${this.endpoint} did not finish within ${timeouts.tls} ms`);
    });
    // A TCP failure under a TLS socket that has not started yet: make sure imapflow hears of it.
    plain.once('error', (err) => {
      if (!secure.destroyed) secure.destroy(err);
    });
    secure.on('error', ignore);
    this.#socket = secure;
    return secure as ImapTransportSocket;
  }

  /** STARTTLS is about to be sent: from its tagged answer on, any byte before the handshake is injected. */
  prepareUpgrade(): void {
    this.#meter.watchStarttls();
  }

  upgrade(socket: ImapTransportSocket, _options: ImapTransportOptions, onSecure: () => void): ImapTransportSocket {
    const plain = socket as Socket;
    this.phase = 'starttls';
    const injected = this.#meter.injected;
    this.#meter.detach();
    if (injected > 0) {
      const error = starttlsInjectionError(this.options.host, this.options.port, injected);
      this.#failure ??= error;
      plain.destroy();
      throw error;
    }
    // Nothing came between the go-ahead and the handshake: the watch ends here, or every reply inside TLS would count as injected.
    this.#meter.endStarttlsWatch();
    const { timeouts } = this.options;
    this.#arm('starttls', timeouts.tls, () => `TLS handshake after STARTTLS with ${this.endpoint} did not finish within ${timeouts.tls} ms`);
    const secure = tlsConnect({ ...withSharedContext(tlsConnectOptions(this.options.host, this.options.tls)), socket: plain }, () => {
      this.#disarm();
      this.phase = 'command';
      this.options.onInfo?.(tlsSummary(describeTls(secure, 'starttls', this.options.host, this.options.tls)));
      onSecure();
      this.#meter.attach(secure);
    });
    secure.on('error', ignore);
    this.#socket = secure;
    return secure as ImapTransportSocket;
  }

  /**
   * Ends the connection now: the socket is destroyed with `error`, which
   * imapflow hears as a socket error and settles everything pending with.
   * The first error given is the one the session reports.
   */
  abort(error: TransportError | Error): void {
    this.#disarm();
    if (this.#failure === undefined && error instanceof TransportError) this.#failure = error;
    const socket = this.#socket;
    if (socket !== undefined && !socket.destroyed) socket.destroy(error);
    this.#meter.detach();
  }

  /** For a session that closed: stop timers and let go of what the meter holds. */
  dispose(): void {
    this.#disarm();
    this.#meter.detach();
    const socket = this.#socket;
    if (socket !== undefined && !socket.destroyed) socket.destroy();
  }

  #arm(phase: Phase, ms: number, message: () => string): void {
    this.#disarm();
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.abort(new TransportError('ETIMEOUT', phase, message(), { host: this.options.host, port: this.options.port }));
    }, ms);
  }

  #disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

const ignore = (): void => undefined;

/**
 * Counts the bytes imapflow holds unparsed, without keeping any of them.
 *
 * imapflow's ImapStream keeps every byte of a response until the response is
 * complete (its lines and all the literals they announce), then hands it to
 * the parser and lets go. So the honest measure is: bytes received since the
 * end of the last complete response. This meter follows the same framing
 * imapflow uses (a line ending in "{n}" or "{n+}" announces n octets of
 * literal that belong to the same response) and holds each chunk in the
 * shared BufferMeter on arrival, releasing a response's bytes when its last
 * line ends. imapflow's limits (maxLineLength, maxLiteralSize,
 * maxResponseSize) bound that figure, plus one socket read (at most 64 KiB)
 * that arrives before imapflow refuses the response.
 */
export class ResponseMeter {
  #held = 0;
  #literalLeft = 0;
  /** The last octets of the current line, enough to see a "{n}" marker at its end. */
  #tail = '';
  /** The first octets of the current response's first line: is it tagged? */
  #head = '';
  #atResponseStart = true;
  /**
   * The start of the current line, kept only once a NUL shows up in it:
   * imapflow's parser drops such a line without a word, and its log would
   * never show it (RFC 3501 §9 note 3: NUL "MUST NOT be used at any time").
   */
  #nulLine: Buffer | undefined;
  #lineStart: Buffer = Buffer.alloc(0);
  #first: Buffer | undefined;
  #firstDone = false;
  #starttls: 'off' | 'waiting' | 'answered' = 'off';
  injected = 0;
  #socket: Socket | TLSSocket | undefined;

  constructor(
    readonly meter: BufferMeter,
    private readonly hooks: {
      onFirstLine?: (first: Buffer) => void;
      maxHeld?: number;
      onOverflow?: () => void;
      onLiteral?: (octets: number) => void;
      onNul?: (line: Buffer) => void;
    } = {},
  ) {}

  get firstBytes(): Buffer | undefined {
    return this.#first;
  }

  attach(socket: Socket | TLSSocket): void {
    this.detach();
    this.#socket = socket;
    socket.on('data', this.push);
    socket.once('close', this.#onClose);
  }

  /** Stops counting; whatever was held is released (the socket is gone or handed to TLS). */
  detach(): void {
    const socket = this.#socket;
    if (socket !== undefined) {
      socket.off('data', this.push);
      socket.off('close', this.#onClose);
    }
    this.#socket = undefined;
    this.meter.release(this.#held);
    this.#held = 0;
    this.#literalLeft = 0;
    this.#tail = '';
    this.#head = '';
    this.#atResponseStart = true;
  }

  watchStarttls(): void {
    this.#starttls = 'waiting';
    this.injected = 0;
  }

  /** The handshake follows with nothing injected: scan the TLS session's responses as any others. */
  endStarttlsWatch(): void {
    this.#starttls = 'off';
  }

  readonly #onClose = (): void => this.detach();

  readonly push = (chunk: Buffer): void => {
    this.meter.hold(chunk.length);
    this.#held += chunk.length;
    if (!this.#firstDone) this.#keepFirst(chunk);
    this.#scan(chunk);
    // What is still held after the scan is one incomplete response.
    if (this.hooks.maxHeld !== undefined && this.#held > this.hooks.maxHeld) {
      const overflow = this.hooks.onOverflow;
      this.detach();
      overflow?.();
    }
  };

  #scan(chunk: Buffer): void {
    if (this.#starttls === 'answered') {
      this.injected += chunk.length;
      return;
    }
    let i = 0;
    while (i < chunk.length) {
      if (this.#literalLeft > 0) {
        const take = Math.min(this.#literalLeft, chunk.length - i);
        this.#literalLeft -= take;
        i += take;
        continue;
      }
      const lf = chunk.indexOf(0x0a, i);
      const end = lf === -1 ? chunk.length : lf + 1;
      if (this.#lineStart.length < NUL_SAMPLE)
        this.#lineStart = Buffer.concat([this.#lineStart, chunk.subarray(i, Math.min(end, i + NUL_SAMPLE))]).subarray(0, NUL_SAMPLE);
      if (this.#nulLine === undefined && chunk.subarray(i, end).includes(0x00)) this.#nulLine = this.#lineStart;
      if (this.#atResponseStart && this.#head.length < 4) this.#head = (this.#head + chunk.toString('latin1', i, Math.min(end, i + 4))).slice(0, 4);
      this.#tail = (this.#tail + chunk.toString('latin1', Math.max(i, end - 32), end)).slice(-32);
      i = end;
      if (lf === -1) break;
      if (this.#nulLine !== undefined) this.hooks.onNul?.(this.#nulLine);
      this.#nulLine = undefined;
      this.#lineStart = Buffer.alloc(0);
      this.#atResponseStart = false;
      const literal = /\{(\d+)\+?\}\r?\n$/.exec(this.#tail);
      this.#tail = '';
      if (literal) {
        this.#literalLeft = Number(literal[1]);
        this.hooks.onLiteral?.(this.#literalLeft);
        continue;
      }
      // The response is complete: imapflow parses it and lets go of its bytes.
      const done = this.#held - (chunk.length - i);
      this.meter.release(done);
      this.#held -= done;
      const tagged = !/^[*+] /.test(this.#head) && !/^[*+]\r?\n/.test(this.#head);
      this.#head = '';
      this.#atResponseStart = true;
      if (this.#starttls === 'waiting' && tagged) {
        this.#starttls = 'answered';
        this.injected += chunk.length - i;
        return;
      }
    }
  }

  #keepFirst(chunk: Buffer): void {
    const lf = chunk.indexOf(0x0a);
    const piece = chunk.subarray(0, lf === -1 ? chunk.length : lf + 1);
    const joined = this.#first === undefined ? Buffer.from(piece) : Buffer.concat([this.#first, piece]);
    this.#first = joined.subarray(0, FIRST_BYTES);
    if (lf !== -1 || this.#first.length >= FIRST_BYTES) {
      this.#firstDone = true;
      this.hooks.onFirstLine?.(this.#first);
    }
  }
}
