import type { Socket } from 'node:net';
import type { ProtocolName, Security } from '../core/protocols.js';
import { quoted } from '../core/text.js';
import { greetingKind, looksLikePlaintextReply, readPlaintextGreeting, speaksTls, type GreetingKind } from '../transport/greeting-kind.js';
import { connect, resolveTimeouts, TransportError, type Connection, type Timeouts, type TlsInfo, type Transcript } from '../transport/index.js';
import { DIALOGUES, hasCapability, tagged, type Dialogue, type TlsRequirementOutcome } from './dialogue.js';
import { finding, worstSeverity, type Finding, type Where } from './findings.js';
import { starttlsPreamble } from './starttls-preamble.js';

export interface ProbeTimeouts extends Partial<Timeouts> {
  /** How long to wait, after STARTTLS, for an answer to the command injected before it. */
  readonly injection?: number;
}

export interface ExpectedService {
  readonly protocol: ProtocolName;
  /** "tls" for an implicit-TLS port (465/993/995); "starttls" for 25/587/110/143. */
  readonly security: Exclude<Security, 'none'>;
  /**
   * A public MX (port 25): it takes mail from other servers, so it must not
   * require STARTTLS (RFC 3207 §4) and many ISPs block clients from reaching it.
   */
  readonly mx?: boolean;
}

/** Runs `work` when a connection slot of the host is free (host-probe's budget). */
export type Budget = <T>(work: () => Promise<T>) => Promise<T>;

export interface PortProbeOptions extends Where {
  readonly expected: ExpectedService;
  readonly timeouts?: ProbeTimeouts;
  /** verify is reported, never enforced: the probe goes on past a bad certificate to report the rest. */
  readonly tls: { readonly ca?: string | Buffer; readonly servername?: string };
  readonly signal?: AbortSignal;
  readonly transcript: Transcript;
  /** Held from the greeting on: a port that never greets takes no slot. Default: no limit. */
  readonly budget?: Budget;
  /**
   * The TLS facts of a port whose TLS came up (certificate, name, expiry,
   * versions, key, OCSP, chain …), as findings: the one producer of them,
   * from handshakes of its own. host-probe passes tls-facts.ts's
   * (`async (t) => tlsFindings(await inspectTls(t), t)`); a caller that wants
   * only the dialogue says so with one that returns none.
   */
  readonly inspectTls: (target: TlsInspectionTarget) => Promise<Finding[]>;
}

/** Where and how the TLS facts make their own handshakes with the port. */
export interface TlsInspectionTarget extends Where {
  readonly servername?: string;
  readonly ca?: string;
  readonly timeouts?: Partial<Timeouts>;
  readonly signal?: AbortSignal;
  /** STARTTLS ports: the plaintext dialogue up to the go-ahead, on a freshly connected socket. */
  readonly upgrade?: (socket: Socket, signal: AbortSignal | undefined) => Promise<void>;
}

export type TcpOutcome = 'connected' | 'refused' | 'timeout' | 'reset' | 'error';
/**
 * accepted: the injected command was answered inside TLS (vulnerable);
 * ignored: dropped at the upgrade; refused: the pipelined STARTTLS was turned down;
 * answered-in-clear: the server answered the injected command before TLS (the
 * handshake then cannot work, but nothing crossed into TLS); closed: the
 * server hung up at the upgrade rather than carry the pipelined command
 * (Dovecot does; its STARTTLS works when nothing follows it, which the main
 * connection showed first); not-tested.
 */
export type InjectionOutcome = 'accepted' | 'ignored' | 'refused' | 'answered-in-clear' | 'closed' | 'not-tested';

export interface PortReport extends Where {
  readonly expected: ExpectedService;
  tcp: { outcome: TcpOutcome; ms?: number; error?: string };
  banner?: { text: string; ms?: number };
  /** What actually answered: a protocol, "tls" (a TLS ServerHello), or undefined (nothing recognisable). */
  spoken?: GreetingKind;
  tls?: { outcome: 'ok' | 'not-offered' | 'refused' | 'failed'; info?: TlsInfo; error?: string };
  capabilities: { beforeTls?: string[]; afterTls?: string[] };
  auth: { beforeTls?: string[]; afterTls?: string[] };
  plaintextLoginBeforeTls?: boolean;
  /**
   * STARTTLS ports that announce STARTTLS: whether the server refuses, in
   * clear, what a client would send before its password or mail (SMTP MAIL
   * FROM:<>, POP3 USER with a made-up name; IMAP from LOGINDISABLED). The
   * command and the exact reply are the evidence; not-tested when that
   * connection failed.
   */
  tlsRequired?: { outcome: TlsRequirementOutcome | 'not-tested'; command?: string; reply?: string };
  injection: InjectionOutcome;
  /** What the injection check saw (the refusal, the unasked answer). */
  injectionEvidence?: string;
  findings: Finding[];
}

const NAMES: Readonly<Record<ProtocolName, string>> = { smtp: 'SMTP', pop3: 'POP3', imap: 'IMAP' };
const DEFAULT_INJECTION_WAIT_MS = 2_000;

/**
 * Everything one port of one address says to a client that does not log in:
 * TCP, greeting, the protocol that answered, TLS (implicit or STARTTLS), the
 * capabilities and SASL mechanisms before and after TLS, whether a password
 * could go in clear, and whether commands injected before STARTTLS survive
 * it. Never throws for what the server does: that is a finding.
 */
export async function probePort(options: PortProbeOptions): Promise<PortReport> {
  const { expected } = options;
  const where: Where = { host: options.host, address: options.address, port: options.port };
  const report: PortReport = { ...where, expected, tcp: { outcome: 'error' }, capabilities: {}, auth: {}, injection: 'not-tested', findings: [] };
  const dialogue = DIALOGUES[expected.protocol];
  const timeouts = resolveTimeouts(withoutInjection(options.timeouts));

  let connection: Connection;
  try {
    connection = await open(options, expected.security === 'tls' ? 'tls' : 'none', 'probe');
  } catch (error) {
    await judgeOpenFailure(error, options, report);
    return done(report);
  }
  report.tcp = { outcome: 'connected', ...(connection.timings.tcp === undefined ? {} : { ms: connection.timings.tcp }) };
  // A goodbye in the expected protocol goes only to a server that greeted in it and did not turn us away.
  let polite = false;
  try {
    if (!(await readBanner(connection, options, timeouts, report))) return done(report);
    polite = true;
    await (options.budget ?? ((work) => work()))(async () => {
      await converse(connection, dialogue, options, report);
      // The further checks take connections of their own, after this one is closed: one slot, one connection.
      if (options.expected.security === 'starttls' && report.tls !== undefined && report.tls.outcome !== 'not-offered') {
        await goodbye(connection, expected.protocol);
        await tlsRequirementCheck(dialogue, options, report);
      }
      if (options.expected.security === 'starttls' && report.tls?.outcome === 'ok') {
        const injection = await injectionCheck(dialogue, options);
        report.injection = injection.outcome;
        if (injection.evidence !== '') report.injectionEvidence = injection.evidence;
        if (injection.outcome === 'accepted') report.findings.push(finding('starttls-injection', where, injection.evidence));
      }
    });
  } catch (error) {
    if (error instanceof TransportError && error.code === 'EABORTED') throw error;
    report.findings.push(failureFinding(error, where));
  } finally {
    await goodbye(connection, expected.protocol, polite);
  }
  return done(report);
}

function withoutInjection(timeouts: ProbeTimeouts = {}): Partial<Timeouts> {
  const { injection: _unused, ...rest } = timeouts;
  return rest;
}

function open(options: PortProbeOptions, security: Security, session: string): Promise<Connection> {
  return connect({
    host: options.host,
    port: options.port,
    security,
    // Connect to the address that was resolved explicitly; the host name stays the TLS name.
    lookup: () => Promise.resolve({ address: options.address }),
    tls: { ...options.tls, verify: false },
    timeouts: withoutInjection(options.timeouts),
    transcript: options.transcript,
    session: `${session} ${options.address}:${options.port}`,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
}

async function judgeOpenFailure(error: unknown, options: PortProbeOptions, report: PortReport): Promise<void> {
  if (!(error instanceof TransportError)) throw error;
  if (error.code === 'EABORTED') throw error;
  const where: Where = report;
  if (error.phase === 'tcp') {
    const reset = /ECONNRESET/.test(String((error.cause as NodeJS.ErrnoException | undefined)?.code));
    if (error.code === 'ECONNREFUSED') {
      report.tcp = { outcome: 'refused', error: error.message };
      report.findings.push(finding('tcp-refused', where, error.message));
    } else if (error.code === 'ETIMEOUT') {
      report.tcp = { outcome: 'timeout', error: error.message };
      const alternative = options.expected.mx === true ? '; many ISPs block outbound port 25: for sending mail from a client use 587 with STARTTLS' : '';
      report.findings.push(finding('tcp-timeout', where, error.message, { alternative }));
    } else if (reset) {
      report.tcp = { outcome: 'reset', error: error.message };
      report.findings.push(finding('tcp-reset', where, error.message));
    } else {
      report.tcp = { outcome: 'error', error: error.message };
      report.findings.push(finding('tcp-reset', where, error.message));
    }
    return;
  }
  // TCP came up; the implicit TLS handshake did not.
  report.tcp = { outcome: 'connected' };
  report.tls = { outcome: 'failed', error: error.message };
  if (error.code === 'ETIMEOUT') {
    report.findings.push(finding('tls-silent', where, error.message));
    return;
  }
  if (looksLikePlaintextReply(error.cause ?? error)) {
    const first = await readPlaintextGreeting(
      { host: options.address, port: options.port },
      resolveTimeouts(withoutInjection(options.timeouts)).greeting,
      options.signal,
    );
    const text = first === undefined ? '' : firstLine(first.toString('latin1'));
    report.spoken = first === undefined ? undefined : greetingKind(first);
    if (text !== '') report.banner = { text };
    report.findings.push(finding('plaintext-on-tls-port', where, text === '' ? error.message : `plain-text greeting ${quoted(text)}`));
    return;
  }
  report.findings.push(finding('tls-handshake-failed', where, error.message));
}

/**
 * Reads the greeting and judges what it says; false when the probe cannot go
 * on (silence, another protocol, a refusal). On a plain port that stays
 * silent, a TLS handshake is tried on a second connection while the greeting
 * is still awaited, so a port that wants TLS first is told apart from a
 * blackhole within the one greeting timeout.
 */
async function readBanner(connection: Connection, options: PortProbeOptions, timeouts: Timeouts, report: PortReport): Promise<boolean> {
  const where: Where = report;
  const { expected } = options;
  let greeted = false;
  const earlyMs = Math.min(1_000, timeouts.greeting / 2);
  const tlsFirst =
    expected.security === 'tls'
      ? Promise.resolve(false)
      : delay(earlyMs, options.signal).then(() =>
          // To the address resolved, not the name (dns.lookup could pick another); an abort ends the side connection at once.
          greeted || options.signal?.aborted === true
            ? false
            : speaksTls({ host: options.address, port: options.port }, Math.max(1, timeouts.greeting - earlyMs), options.signal),
        );
  const started = performance.now();
  let first: string;
  try {
    first = firstLine((await connection.readGreeting()).bytes.toString('latin1'));
    greeted = true;
  } catch (error) {
    greeted = true;
    if (!(error instanceof TransportError) || error.code === 'EABORTED') throw error;
    if (error.phase !== 'greeting') throw error;
    if (error.code === 'ECLOSED') {
      // Closed before a word: a cut connection, not a silent one.
      void tlsFirst.catch(() => undefined);
      report.findings.push(finding('tcp-reset', where, error.message));
      return false;
    }
    if (await tlsFirst) {
      report.spoken = 'tls';
      report.findings.push(finding('implicit-tls-expected', where, `no greeting within ${timeouts.greeting} ms, but the port answers a TLS handshake`));
    } else {
      report.findings.push(finding('banner-silent', where, error.message));
    }
    return false;
  }
  void tlsFirst.catch(() => undefined);
  report.banner = { text: first, ms: Math.round(performance.now() - started) };
  const kind = greetingKind(first);
  report.spoken = kind;
  if (kind === 'tls') {
    report.findings.push(finding('implicit-tls-expected', where, 'the port sent a TLS record instead of a greeting'));
    return false;
  }
  if (kind !== expected.protocol) {
    const spoken = kind === undefined ? 'something that is no mail protocol' : NAMES[kind];
    report.findings.push(finding('wrong-protocol', where, `greeting ${quoted(first)}`, { spoken, expected: NAMES[expected.protocol] }));
    return false;
  }
  report.banner.text = [first, ...(await DIALOGUES[expected.protocol].greetingRest(connection, first))].join('\n');
  const refusal = greetingRefusal(expected.protocol, first);
  if (refusal !== undefined) {
    report.findings.push(finding(refusal.id, where, `greeting ${quoted(first)}`, { code: refusal.code }));
    return false;
  }
  return true;
}

/** A greeting that turns the client away: SMTP 421, or 554 instead of 220 at the opening (RFC 5321), IMAP BYE, POP3 -ERR. */
function greetingRefusal(protocol: ProtocolName, first: string): { id: 'temporary-refusal' | 'greeting-refused'; code: string } | undefined {
  if (protocol === 'smtp') {
    if (first.startsWith('421')) return { id: 'temporary-refusal', code: '421' };
    if (/^5\d\d/.test(first)) return { id: 'greeting-refused', code: first.slice(0, 3) };
  }
  if (protocol === 'imap' && /^\* BYE/i.test(first)) return { id: 'temporary-refusal', code: 'BYE' };
  if (protocol === 'pop3' && first.startsWith('-ERR')) return { id: 'temporary-refusal', code: '-ERR' };
  return undefined;
}

async function converse(connection: Connection, dialogue: Dialogue, options: PortProbeOptions, report: PortReport): Promise<void> {
  const where: Where = report;
  const before = await dialogue.capabilities(connection);
  if (options.expected.security === 'tls') {
    report.tls = { outcome: 'ok', ...(connection.tls === undefined ? {} : { info: connection.tls }) };
    report.capabilities.afterTls = before.capabilities;
    report.auth.afterTls = dialogue.mechanisms(before.capabilities);
    await tlsChecks(connection.tls, options, report);
    return;
  }
  report.capabilities.beforeTls = before.capabilities;
  report.auth.beforeTls = dialogue.mechanisms(before.capabilities);
  report.plaintextLoginBeforeTls = dialogue.plaintextLoginOffered(before.capabilities);
  if (report.plaintextLoginBeforeTls) {
    report.findings.push(finding('plaintext-auth-before-tls', where, `capabilities before TLS: ${before.capabilities.join(' ') || '(none)'}`));
  }
  if (!hasCapability(before.capabilities, dialogue.starttlsCapability)) {
    report.tls = { outcome: 'not-offered' };
    // RFC 3207 §4: a publicly-referenced MX must not require STARTTLS, and one without it still takes mail: a warning, not a failure.
    const severity = options.expected.mx === true ? 'warn' : undefined;
    report.findings.push(finding('starttls-missing', where, `capabilities: ${before.capabilities.join(' ') || '(none)'}`, {}, severity));
    return;
  }
  const { line, tag } = tagged(options.expected.protocol, dialogue.starttlsCommand);
  connection.writeLine(line);
  const reply = await dialogue.readReply(connection, line, tag);
  if (!reply.ok) {
    report.tls = { outcome: 'refused', error: reply.lines.join('\n') };
    report.findings.push(finding('starttls-refused', where, reply.lines.join('\n')));
    return;
  }
  let info: TlsInfo;
  try {
    info = await connection.upgradeToTls();
  } catch (error) {
    if (error instanceof TransportError && error.code === 'EABORTED') throw error;
    const message = error instanceof Error ? error.message : String(error);
    report.tls = { outcome: 'failed', error: message };
    report.findings.push(finding('tls-handshake-failed', where, message));
    return;
  }
  report.tls = { outcome: 'ok', info };
  const after = await dialogue.capabilities(connection);
  report.capabilities.afterTls = after.capabilities;
  report.auth.afterTls = dialogue.mechanisms(after.capabilities);
  await tlsChecks(info, options, report);
}

async function tlsChecks(info: TlsInfo | undefined, options: PortProbeOptions, report: PortReport): Promise<void> {
  if (info === undefined) return;
  const timeouts = withoutInjection(options.timeouts);
  const { protocol } = options.expected;
  const commandMs = resolveTimeouts(timeouts).command;
  const target: TlsInspectionTarget = {
    host: report.host,
    address: report.address,
    port: report.port,
    servername: info.checkedName,
    ...(options.tls.ca === undefined ? {} : { ca: options.tls.ca.toString() }),
    timeouts,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...(options.expected.security === 'starttls'
      ? { upgrade: (socket: Socket, signal: AbortSignal | undefined) => starttlsPreamble(protocol, socket, commandMs, signal) }
      : {}),
  };
  report.findings.push(...(await options.inspectTls(target)));
}

/**
 * STARTTLS command injection (CVE-2011-0411 class), tested as testssl.sh's
 * --starttls-injection does: on a connection of its own, the STARTTLS command
 * and a harmless second command go out in one write, in clear. A sound server
 * discards what it read before the handshake; a vulnerable one answers the
 * injected command inside TLS, unasked.
 */
async function injectionCheck(dialogue: Dialogue, options: PortProbeOptions): Promise<{ outcome: InjectionOutcome; evidence: string }> {
  const outcome = (value: InjectionOutcome, evidence = ''): { outcome: InjectionOutcome; evidence: string } => ({ outcome: value, evidence });
  const waitMs = options.timeouts?.injection ?? DEFAULT_INJECTION_WAIT_MS;
  let connection: Connection;
  try {
    connection = await open(options, 'none', 'injection');
  } catch (error) {
    if (error instanceof TransportError && error.code === 'EABORTED') throw error;
    return outcome('not-tested');
  }
  try {
    const first = firstLine((await connection.readGreeting()).bytes.toString('latin1'));
    await dialogue.greetingRest(connection, first);
    if (options.expected.protocol === 'smtp') await dialogue.capabilities(connection);
    const starttls = tagged(options.expected.protocol, dialogue.starttlsCommand);
    const injected = tagged(options.expected.protocol, dialogue.injectedCommand);
    const command = `${starttls.line} + ${injected.line}`;
    connection.transcript.client(connection.session, `${starttls.line}\\r\\n${injected.line} (one write)`);
    await connection.writeBytes(Buffer.from(`${starttls.line}\r\n${injected.line}\r\n`, 'latin1'), { phase: 'command', command });
    const reply = await dialogue.readReply(connection, starttls.line, starttls.tag);
    if (!reply.ok) return outcome('refused', reply.lines.join('\n'));
    try {
      await connection.upgradeToTls();
    } catch (error) {
      if (error instanceof TransportError && error.code === 'EABORTED') throw error;
      // The transport refuses to upgrade over bytes that came after the go-ahead: the server answered in clear.
      const message = error instanceof Error ? error.message : String(error);
      if (error instanceof TransportError && error.code === 'ESTARTTLS') return outcome('answered-in-clear', message);
      return outcome(/disconnected|ECONNRESET|socket hang up/i.test(message) ? 'closed' : 'not-tested', message);
    }
    try {
      const unasked = await connection.readLine({ phase: 'command', command: injected.line, timeoutMs: waitMs });
      const text = unasked.bytes.toString('utf8');
      return outcome(
        'accepted',
        `after "${starttls.line}\\r\\n${injected.line}\\r\\n" in one write and the TLS handshake, the server sent unasked: ${quoted(text)}`,
      );
    } catch (error) {
      if (error instanceof TransportError && error.code === 'EABORTED') throw error;
      // Silence (or the server closing) within the wait: the injected command was dropped.
      return outcome('ignored');
    }
  } catch (error) {
    if (error instanceof TransportError && error.code === 'EABORTED') throw error;
    return outcome('not-tested');
  } finally {
    await goodbye(connection, options.expected.protocol);
  }
}

/**
 * Whether the server insists on TLS before a client's password or mail, asked
 * on a connection of its own before any STARTTLS (so the main dialogue's
 * state is untouched) with a command that carries no credential. IMAP is
 * judged from LOGINDISABLED alone (RFC 3501 §7.2.1: the server refuses LOGIN
 * even with a valid name and password): a LOGIN with made-up credentials would
 * be a failed login in the customer's logs (and can lock out the engineer's
 * address), and a password-shaped string in clear, which this probe never sends.
 */
async function tlsRequirementCheck(dialogue: Dialogue, options: PortProbeOptions, report: PortReport): Promise<void> {
  const where: Where = report;
  const question = dialogue.tlsRequirement;
  if (question === undefined) {
    const disabled = (report.capabilities.beforeTls ?? []).some((c) => c.toUpperCase() === 'LOGINDISABLED');
    // Without LOGINDISABLED, LOGIN takes a password in clear: plaintext-auth-before-tls already says so.
    report.tlsRequired = { outcome: disabled ? 'required' : 'not-required', command: 'CAPABILITY', ...(disabled ? { reply: 'LOGINDISABLED' } : {}) };
    return;
  }
  let connection: Connection;
  try {
    connection = await open(options, 'none', 'tls-requirement');
  } catch (error) {
    if (error instanceof TransportError && error.code === 'EABORTED') throw error;
    report.tlsRequired = { outcome: 'not-tested' };
    return;
  }
  try {
    const first = firstLine((await connection.readGreeting()).bytes.toString('latin1'));
    await dialogue.greetingRest(connection, first);
    if (greetingRefusal(options.expected.protocol, first) !== undefined) {
      report.tlsRequired = { outcome: 'not-tested' };
      return;
    }
    if (options.expected.protocol === 'smtp') await dialogue.capabilities(connection);
    connection.writeLine(question.command);
    const reply = await dialogue.readReply(connection, question.command);
    const text = reply.lines.join('\n');
    if (reply.ok && question.undo !== undefined) {
      connection.writeLine(question.undo);
      await dialogue.readReply(connection, question.undo);
    }
    const outcome = question.judge(reply);
    report.tlsRequired = { outcome, command: question.command, reply: text };
    const evidence = `${question.command} before ${dialogue.starttlsCommand}: ${text}`;
    const values = { command: question.label, exposes: question.exposes };
    if (options.expected.mx === true) {
      // RFC 3207 §4: a public MX must not require STARTTLS; taking mail in clear is what it should do.
      if (outcome === 'required') report.findings.push(finding('mx-requires-starttls', where, evidence, { code: text.slice(0, 3) }));
    } else if (outcome === 'not-required') {
      report.findings.push(finding('tls-not-required', where, evidence, values));
    }
    if (outcome === 'unclear') report.findings.push(finding('tls-requirement-unclear', where, evidence, values));
  } catch (error) {
    if (error instanceof TransportError && error.code === 'EABORTED') throw error;
    report.tlsRequired = { outcome: 'not-tested' };
  } finally {
    await goodbye(connection, options.expected.protocol);
  }
}

/** A failure in the middle of the dialogue (a timeout, a dropped connection): the evidence is the error. */
function failureFinding(error: unknown, where: Where): Finding {
  const message = error instanceof Error ? error.message : String(error);
  const tls = error instanceof TransportError && (error.phase === 'tls' || error.phase === 'starttls');
  return finding(tls ? 'tls-handshake-failed' : 'dialogue-broken', where, message);
}

async function goodbye(connection: Connection, protocol: ProtocolName, polite = true): Promise<void> {
  if (connection.closed) return;
  try {
    if (polite) connection.writeLine(protocol === 'imap' ? 'z LOGOUT' : 'QUIT');
  } catch {
    // Already gone.
  }
  await connection.close().catch(() => connection.destroy());
}

function done(report: PortReport): PortReport {
  // A port that connected and earned nothing worse than info says so, so every port has a row and a case.
  if (report.tcp.outcome === 'connected' && ['ok', 'info'].includes(worstSeverity(report.findings))) {
    const security = report.expected.security === 'tls' ? ' over implicit TLS' : report.tls?.outcome === 'ok' ? ' and STARTTLS works' : '';
    const evidence = `greeting ${quoted(report.banner?.text.split('\n')[0] ?? '')}`;
    report.findings.push(finding('port-ok', report, evidence, { spoken: NAMES[report.expected.protocol], security }));
  }
  return report;
}

function firstLine(text: string): string {
  return text.split(/\r?\n/)[0] ?? '';
}

function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
