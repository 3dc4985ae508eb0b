import { DEFAULT_LIMITS } from '../../src/transport/limits.js';
import type { CaseSetup, ScenarioName } from '../support/hostile-run.js';
import { TIMEOUTS } from '../support/hostile-run.js';
import type { HostileProtocol, TlsMode } from '../support/hostile-server.js';
import {
  closeMidReply,
  echoInReply,
  endlessLine,
  GARBAGE,
  manyLines,
  send,
  silence,
  sizedBody,
  slowBytes,
  stalledUpgrade,
  starttlsInjection,
  trickleLines,
  type Behaviour,
  type HostileIo,
} from '../support/hostile-wire.js';

/**
 * The standing corpus of hostile servers (issue 7 §7): every case, what the
 * server does, and what mailprobe must do about it. CASES.md is the same table
 * for people; keep them in step.
 *
 * Verdicts follow the README: a hang, a limit exceeded, a close or a TLS
 * failure means the check could not happen (errored, exit 3); so does a
 * greeting that is no greeting of the protocol at all (garbage): README
 * "Verdicts", a wrong port or protocol is a configuration problem, errored,
 * never an RFC failure. A wrong answer after a real greeting (garbage where a
 * reply belongs, a number outside the RFC grammar, lines out of step) is
 * failed (exit 1); a temporary refusal is inconclusive (exit 4).
 */
export type Verdict = 'passed' | 'failed' | 'errored' | 'inconclusive';

export interface HostileCase extends CaseSetup {
  /** protocol/tls/behaviour[/variant]: unique, and the test's name. */
  readonly name: string;
  /** What the server does, for the table. */
  readonly behaviour: string;
  readonly verdict: Verdict;
  readonly exit: number;
  /** Upper bound on the whole run's wall time (ms): configured deadlines plus a wide margin. */
  readonly timeBoundMs: number;
  /** Upper bound on the JSON report's peakBufferedBytes. */
  readonly byteBound: number;
  /** Server text that must be in the JSON and JUnit transcripts: the last the server sent before the fault. */
  readonly evidence: string;
  /** The error (stderr) must say this… */
  readonly mentions?: RegExp;
  /** …and must not say this (wrong advice). */
  readonly notMentions?: RegExp;
}

const L = DEFAULT_LIMITS;
/** Bytes of one socket read beyond a limit: a reader may hold a full chunk before it sees the limit crossed. */
const SLACK = 64 * 1024;
/** One line at its limit, plus what is read beyond it. */
export const LINE_BOUND = 2 * L.maxLineLength + SLACK;
/** A multi-line listing at its limit. */
export const LISTING_BOUND = L.maxListingBytes + LINE_BOUND;
/** A message or literal at its limit. */
export const MESSAGE_BOUND = L.maxMessageBytes + LINE_BOUND;

/** The margin over the configured deadlines: process start, load, reports, cleanup. Far above what any case needs. */
const MARGIN_MS = 8_000;
/** `waits` deadline-long waits (every phase timeout is the same in the corpus unless a case says), plus the margin. */
const within = (waits: number, deadlineMs: number): number => waits * deadlineMs + MARGIN_MS;

/**
 * A flood is legal and must pass, yet 100 000 responses took imapflow 5 to 13 s
 * to parse on the shared 2-core machine: the flood cases get a longer reply
 * deadline, so they judge memory, not parser speed.
 */
const FLOOD_COMMAND_MS = 12_000;

/**
 * Trickled lines take up to 1.4 s each (7 bytes at 200 ms); a 3 s command
 * timeout leaves each line well inside it even on a loaded machine, so only a
 * deadline on the whole reply can end the case.
 */
const TRICKLE_TIMEOUTS = { command: 3_000 } as const;

const HANG = /tim(e|ed|ing)[ -]?out|deadline|no (reply|answer|greeting)|rate/i;
const LIMIT = /limit|too (long|large|big|many)|exceed/i;
/**
 * A reply just over a size limit also takes a while to arrive and parse: either the
 * limit or the reply's deadline (minimum rate) may end it first, and both are right.
 */
const LIMIT_OR_DEADLINE = new RegExp(`${LIMIT.source}|${HANG.source}`, 'i');
/** How mailprobe names a reply outside the protocol's grammar ("malformed", "answers in IMAP syntax", "is not a nz-number"). */
const MALFORMED = /malformed|syntax|grammar|not an? (valid )?(nz-)?number/i;
const WRONG_HINT = /ca_file|insecure|certificate/i;
const CVE = /CVE-2011-0411/;

const GREETING_TEXT: Record<HostileProtocol, string> = {
  pop3: '+OK hostile POP3 ready',
  imap: 'hostile IMAP ready',
  smtp: '220 hostile.test ESMTP ready',
};
/**
 * Where the server sent nothing at all (no greeting, a stalled handshake) there is no
 * server text to show: the report must still name the endpoint it waited for.
 */
const NO_SERVER_BYTES = '127.0.0.1:';

const tagged =
  (text: string): ((io: HostileIo) => string) =>
  (io) =>
    `${io.tag} ${text}\r\n`;
/** mailprobe's raw IMAP client tags A001, A002, …; imapflow tags 1, 2, …, A, B. */
export const RAW_CLIENT = (firstTag: string): boolean => /^A\d{3,}$/.test(firstTag);

/** The server's decoded view of an AUTH PLAIN token, as some servers print it back. */
const decodedPlain = (line: string): string => {
  const token = /^AUTH PLAIN (\S+)/i.exec(line)?.[1];
  return token ? Buffer.from(token, 'base64').toString('utf8').split('\0').join(' ') : '';
};

interface Spec {
  readonly protocol: HostileProtocol;
  readonly tls: TlsMode;
  readonly scenario: ScenarioName;
  readonly id: string;
  readonly behaviour: string;
  readonly faults?: Readonly<Record<string, Behaviour>>;
  readonly verdict: Verdict;
  readonly waits?: number;
  readonly byteBound?: number;
  readonly evidence: string;
  readonly mentions?: RegExp;
  readonly notMentions?: RegExp;
  readonly onlyClient?: (firstTag: string) => boolean;
  readonly onlyConnection?: number;
  readonly stallTlsHandshake?: boolean;
  /** Per-case phase timeouts over the corpus's short ones (ms). */
  readonly timeouts?: CaseSetup['timeouts'];
}

const EXIT: Record<Verdict, number> = { passed: 0, failed: 1, errored: 3, inconclusive: 4 };

function kase(spec: Spec): HostileCase {
  return {
    name: `${spec.scenario}/${spec.tls}/${spec.id}`,
    protocol: spec.protocol,
    tls: spec.tls,
    scenario: spec.scenario,
    behaviour: spec.behaviour,
    faults: spec.faults ?? {},
    verdict: spec.verdict,
    exit: EXIT[spec.verdict],
    timeBoundMs: within(spec.waits ?? 2, spec.timeouts?.command ?? TIMEOUTS.command),
    byteBound: spec.byteBound ?? LINE_BOUND,
    evidence: spec.evidence,
    ...(spec.mentions ? { mentions: spec.mentions } : {}),
    ...(spec.notMentions ? { notMentions: spec.notMentions } : {}),
    ...(spec.onlyClient ? { onlyClient: spec.onlyClient } : {}),
    ...(spec.onlyConnection !== undefined ? { onlyConnection: spec.onlyConnection } : {}),
    ...(spec.stallTlsHandshake ? { stallTlsHandshake: true } : {}),
    ...(spec.timeouts ? { timeouts: spec.timeouts } : {}),
  };
}

// ---------------------------------------------------------------- POP3 ----

function pop3Cases(): HostileCase[] {
  const p = { protocol: 'pop3', scenario: 'pop3' } as const;
  const G = GREETING_TEXT.pop3;
  const refusal = (code: string): HostileCase =>
    kase({
      ...p,
      tls: 'none',
      id: `temporary-refusal-${code.toLowerCase()}`,
      behaviour: `AUTH answered -ERR [${code}]`,
      faults: { AUTH: send(`-ERR [${code}] not now\r\n`) },
      verdict: 'inconclusive',
      evidence: `-ERR [${code}] not now`,
    });
  return [
    kase({ ...p, tls: 'none', id: 'control', behaviour: 'a faithful server (the scenario passes)', verdict: 'passed', evidence: 'hostile-uid-1' }),
    ...(['none', 'tls', 'starttls'] as const).map((tls) =>
      kase({
        ...p,
        tls,
        id: 'no-greeting',
        behaviour: 'accepts the connection (and TLS), never greets',
        faults: { GREETING: silence },
        verdict: 'errored',
        evidence: NO_SERVER_BYTES,
        mentions: HANG,
      }),
    ),
    ...(['none', 'tls'] as const).map((tls) =>
      kase({
        ...p,
        tls,
        id: 'greeting-then-silence',
        behaviour: 'greets, then never answers a command',
        faults: { '*': silence },
        verdict: 'errored',
        evidence: G,
        mentions: HANG,
      }),
    ),
    ...(['none', 'tls'] as const).map((tls) =>
      kase({
        ...p,
        tls,
        id: 'endless-line',
        behaviour: 'CAPA: "+OK", "USER", then bytes without a line end, for as long as they are read',
        faults: { CAPA: endlessLine('+OK\r\nUSER\r\n') },
        verdict: 'errored',
        evidence: 'USER',
        mentions: LIMIT,
      }),
    ),
    kase({
      ...p,
      tls: 'none',
      id: 'slow-bytes',
      behaviour: `STAT: "+OK 1 ", then one byte every ${200} ms, never a line end`,
      faults: { STAT: slowBytes('+OK 1 ') },
      verdict: 'errored',
      evidence: 'RESP-CODES',
      mentions: HANG,
    }),
    ...(['none', 'tls'] as const).map((tls) =>
      kase({
        ...p,
        tls,
        id: 'trickle-capa',
        behaviour: 'CAPA: "+OK", then complete lines ("Xn") one byte every 200 ms, each within the command timeout (3 s), never the "." terminator',
        faults: { CAPA: trickleLines('+OK\r\n', (i) => `X${i % 10}`) },
        timeouts: TRICKLE_TIMEOUTS,
        verdict: 'errored',
        evidence: G,
        mentions: HANG,
      }),
    ),
    kase({
      ...p,
      tls: 'none',
      id: 'trickle-retr',
      behaviour: 'RETR: "+OK", then message lines ("ln") one byte every 200 ms, each within the command timeout (3 s), never the terminator',
      faults: { RETR: trickleLines('+OK message follows\r\n', (i) => `l${i % 10}`) },
      timeouts: TRICKLE_TIMEOUTS,
      verdict: 'errored',
      evidence: '+OK message follows',
      mentions: HANG,
    }),
    kase({
      ...p,
      tls: 'none',
      id: 'huge-list',
      behaviour: `LIST: ${L.maxListingLines + 1} entries (one over maxListingLines), then "."`,
      faults: { LIST: manyLines('+OK\r\n', (i) => `${i + 1} 100`, L.maxListingLines + 1, '.\r\n') },
      verdict: 'errored',
      byteBound: LISTING_BOUND,
      waits: 3,
      evidence: '+OK 1 ',
      mentions: LIMIT_OR_DEADLINE,
    }),
    kase({
      ...p,
      tls: 'none',
      id: 'huge-uidl',
      behaviour: `UIDL: ${Math.ceil(L.maxListingBytes / 60_000) + 1} lines of 60 000 octets (over maxListingBytes), then "."`,
      faults: { UIDL: manyLines('+OK\r\n', (i) => `${i + 1} ${'u'.repeat(60_000)}`, Math.ceil(L.maxListingBytes / 60_000) + 1, '.\r\n') },
      verdict: 'errored',
      byteBound: LISTING_BOUND,
      waits: 3,
      evidence: '+OK 1 ',
      mentions: LIMIT_OR_DEADLINE,
    }),
    kase({
      ...p,
      tls: 'none',
      id: 'huge-retr',
      behaviour: `RETR: a message of maxMessageBytes + 1 KiB (${L.maxMessageBytes + 1024} octets), then "."`,
      faults: { RETR: sizedBody('+OK huge message follows\r\n', L.maxMessageBytes + 1024, '.\r\n') },
      verdict: 'errored',
      byteBound: MESSAGE_BOUND,
      waits: 3,
      evidence: '+OK huge message follows',
      mentions: LIMIT_OR_DEADLINE,
    }),
    ...(['none', 'tls'] as const).map((tls) =>
      kase({
        ...p,
        tls,
        id: 'close-mid-reply',
        behaviour: 'CAPA: "+OK", "USER", "UI" and a reset',
        faults: { CAPA: closeMidReply('+OK\r\nUSER\r\nUI') },
        verdict: 'errored',
        evidence: 'USER',
        mentions: /clos|reset|ended|ECONNRESET/i,
      }),
    ),
    kase({
      ...p,
      tls: 'none',
      id: 'close-mid-retr',
      behaviour: 'RETR: "+OK", half a header line and a reset',
      faults: { RETR: closeMidReply('+OK message follows\r\nX-Mailprobe-Ru') },
      verdict: 'errored',
      evidence: '+OK message follows',
      mentions: /clos|reset|ended|ECONNRESET/i,
    }),
    kase({
      ...p,
      tls: 'none',
      id: 'garbage-greeting',
      behaviour: 'greets with NUL, invalid UTF-8 and escape bytes',
      faults: { GREETING: send(GARBAGE) },
      verdict: 'errored',
      evidence: 'garbage',
      notMentions: WRONG_HINT,
    }),
    kase({
      ...p,
      tls: 'none',
      id: 'garbage-reply',
      behaviour: 'STAT: "+OK " then NUL, invalid UTF-8 and escape bytes',
      faults: { STAT: send(Buffer.concat([Buffer.from('+OK '), GARBAGE])) },
      verdict: 'failed',
      evidence: 'garbage',
      mentions: MALFORMED,
    }),
    kase({
      ...p,
      tls: 'starttls',
      id: 'stls-injection',
      behaviour: 'STLS: "+OK begin TLS" and "+OK injected" in one plaintext write, before the handshake (CVE-2011-0411)',
      faults: { STLS: starttlsInjection('+OK begin TLS\r\n', '+OK injected\r\n') },
      verdict: 'errored',
      evidence: '+OK begin TLS',
      mentions: CVE,
    }),
    refusal('IN-USE'),
    refusal('LOGIN-DELAY'),
    refusal('SYS/TEMP'),
    kase({
      ...p,
      tls: 'none',
      id: 'echo-auth-plain',
      behaviour: 'AUTH PLAIN answered -ERR quoting the command and its decoded token',
      faults: { AUTH: send((io) => `-ERR [AUTH] you said: ${io.line} (${decodedPlain(io.line)})\r\n`) },
      verdict: 'errored',
      evidence: 'you said',
      mentions: /AUTH/,
    }),
    kase({
      ...p,
      tls: 'none',
      id: 'echo-user-pass',
      behaviour: 'CAPA without SASL, so USER/PASS; every command after USER answered -ERR quoting it',
      faults: { CAPA: send('+OK\r\nUSER\r\nUIDL\r\nTOP\r\n.\r\n'), PASS: send((io) => `-ERR [AUTH] you said: ${io.line}\r\n`) },
      verdict: 'errored',
      evidence: 'you said',
      mentions: /PASS/,
    }),
    kase({
      ...p,
      tls: 'none',
      id: 'echo-accepted',
      behaviour: 'every reply quotes its command; AUTH PLAIN is accepted with its token and decoded token quoted (the run passes)',
      faults: { '*': echoInReply, AUTH: send((io) => `+OK welcome, you said: ${io.line} (${decodedPlain(io.line)})\r\n`) },
      verdict: 'passed',
      evidence: 'welcome, you said',
    }),
    kase({
      ...p,
      tls: 'none',
      id: 'lines-ahead',
      behaviour: 'STAT: the reply, then 100 000 "+OK flood" lines nobody asked for',
      faults: { STAT: send(`+OK 1 100\r\n${'+OK flood\r\n'.repeat(100_000)}`) },
      verdict: 'failed',
      byteBound: LISTING_BOUND,
      evidence: '+OK 1 100',
      mentions: MALFORMED,
    }),
    kase({
      ...p,
      tls: 'none',
      id: 'stat-overflow',
      behaviour: 'STAT: "+OK 99999999999999999999999 100" (no 64-bit integer)',
      faults: { STAT: send('+OK 99999999999999999999999 100\r\n') },
      verdict: 'failed',
      evidence: '+OK 99999999999999999999999 100',
      mentions: MALFORMED,
    }),
    kase({
      ...p,
      tls: 'none',
      id: 'stat-negative',
      behaviour: 'STAT: "+OK -1 100"',
      faults: { STAT: send('+OK -1 100\r\n') },
      verdict: 'failed',
      evidence: '+OK -1 100',
      mentions: MALFORMED,
    }),
    kase({
      ...p,
      tls: 'none',
      id: 'list-negative',
      behaviour: 'LIST: "1 -5"',
      faults: { LIST: send('+OK\r\n1 -5\r\n.\r\n') },
      verdict: 'failed',
      evidence: '1 -5',
      mentions: MALFORMED,
    }),
    kase({
      ...p,
      tls: 'tls',
      id: 'tls-handshake-stalls',
      behaviour: 'accepts TCP on the TLS port, reads the ClientHello, never answers',
      stallTlsHandshake: true,
      verdict: 'errored',
      evidence: NO_SERVER_BYTES,
      mentions: /TLS/,
    }),
    kase({
      ...p,
      tls: 'starttls',
      id: 'stls-handshake-stalls',
      behaviour: 'STLS: "+OK begin TLS", then the ClientHello is never answered',
      faults: { STLS: stalledUpgrade('+OK begin TLS\r\n') },
      verdict: 'errored',
      evidence: '+OK begin TLS',
      mentions: /TLS/,
    }),
  ];
}

// ---------------------------------------------------------------- IMAP ----

function imapCases(): HostileCase[] {
  const flow = { protocol: 'imap', scenario: 'imap-flow' } as const;
  const raw = { protocol: 'imap', scenario: 'imap-raw', onlyClient: RAW_CLIENT } as const;
  const G = GREETING_TEXT.imap;
  const examineWith = (extra: string): Behaviour =>
    send((io) => `* FLAGS (\\Seen)\r\n${extra}* OK [UIDVALIDITY 1700000000] ok\r\n* OK [UIDNEXT 1] ok\r\n${io.tag} OK [READ-ONLY] EXAMINE completed\r\n`);
  /** The same fault through imapflow and through the raw client. */
  const both = (spec: Omit<Spec, 'protocol' | 'scenario'>): HostileCase[] => [kase({ ...flow, ...spec }), kase({ ...raw, ...spec })];
  const numbers: Array<[string, string, string]> = [
    ['uidvalidity-overflow', 'EXAMINE: [UIDVALIDITY 99999999999999999999999]', '* OK [UIDVALIDITY 99999999999999999999999] ok\r\n'],
    ['uidnext-negative', 'EXAMINE: [UIDNEXT -5]', '* OK [UIDNEXT -5] ok\r\n'],
    ['exists-negative', 'EXAMINE: "* -1 EXISTS"', '* -1 EXISTS\r\n'],
    ['exists-overflow', 'EXAMINE: "* 4294967296 EXISTS" (over 32 bits)', '* 4294967296 EXISTS\r\n'],
  ];
  return [
    kase({ ...flow, tls: 'none', id: 'control', behaviour: 'a faithful server (the scenario passes)', verdict: 'passed', evidence: 'OK LSUB completed' }),
    kase({ ...raw, tls: 'none', id: 'control', behaviour: 'a faithful server (the scenario passes)', verdict: 'passed', evidence: 'OK NOOP completed' }),
    ...(['none', 'tls', 'starttls'] as const).map((tls) =>
      kase({
        ...flow,
        tls,
        id: 'no-greeting',
        behaviour: 'accepts the connection (and TLS), never greets',
        faults: { GREETING: silence },
        verdict: 'errored',
        evidence: NO_SERVER_BYTES,
        mentions: HANG,
        notMentions: WRONG_HINT,
      }),
    ),
    kase({
      ...raw,
      tls: 'none',
      id: 'no-greeting',
      behaviour: 'greets imapflow, never greets the raw connection',
      faults: { GREETING: silence },
      onlyConnection: 2,
      verdict: 'errored',
      evidence: NO_SERVER_BYTES,
      mentions: HANG,
    }),
    ...both({
      tls: 'none',
      id: 'greeting-then-silence',
      behaviour: 'greets, then never answers a command',
      faults: { '*': silence },
      verdict: 'errored',
      evidence: G,
      mentions: HANG,
      notMentions: WRONG_HINT,
    }),
    kase({
      ...flow,
      tls: 'tls',
      id: 'greeting-then-silence',
      behaviour: 'greets, then never answers a command',
      faults: { '*': silence },
      verdict: 'errored',
      evidence: G,
      mentions: HANG,
    }),
    kase({
      ...flow,
      tls: 'none',
      id: 'endless-greeting',
      behaviour: '"* OK " then bytes without a line end, for as long as they are read',
      faults: { GREETING: endlessLine('* OK ') },
      verdict: 'errored',
      evidence: NO_SERVER_BYTES,
      mentions: LIMIT,
      notMentions: /phase:? tcp|\btcp\b/i,
    }),
    ...both({
      tls: 'none',
      id: 'endless-line',
      behaviour: 'EXAMINE: "* FLAGS (" then bytes without a line end',
      faults: { EXAMINE: endlessLine('* 0 EXISTS\r\n* FLAGS (') },
      verdict: 'errored',
      evidence: '* 0 EXISTS',
      mentions: LIMIT,
    }),
    kase({
      ...flow,
      tls: 'tls',
      id: 'endless-line',
      behaviour: 'EXAMINE: "* FLAGS (" then bytes without a line end',
      faults: { EXAMINE: endlessLine('* 0 EXISTS\r\n* FLAGS (') },
      verdict: 'errored',
      evidence: '* 0 EXISTS',
      mentions: LIMIT,
    }),
    kase({
      ...flow,
      tls: 'none',
      id: 'slow-login',
      behaviour: `LOGIN: "<tag> OK " then one byte every 200 ms, never a line end`,
      faults: { LOGIN: slowBytes((io) => `${io.tag} OK `) },
      verdict: 'errored',
      evidence: G,
      mentions: HANG,
    }),
    kase({
      ...raw,
      tls: 'none',
      id: 'slow-bytes',
      behaviour: 'EXAMINE: "* 0 EXISTS", then one byte every 200 ms, never a line end',
      faults: { EXAMINE: slowBytes('* 0 EXISTS\r\n* ') },
      verdict: 'errored',
      evidence: '* 0 EXISTS',
      mentions: HANG,
    }),
    ...both({
      tls: 'none',
      id: 'trickle-examine',
      behaviour: 'EXAMINE: complete "* OK" lines one byte every 200 ms, each within the command timeout (3 s), never the tagged reply',
      faults: { EXAMINE: trickleLines('* 0 EXISTS\r\n', () => '* OK') },
      timeouts: TRICKLE_TIMEOUTS,
      verdict: 'errored',
      evidence: '* 0 EXISTS',
      mentions: HANG,
    }),
    kase({
      ...flow,
      tls: 'none',
      id: 'huge-list',
      behaviour: `LIST: ${L.maxListingLines + 1} "* LIST" lines (one over maxListingLines), then OK`,
      faults: { LIST: manyLines('', (i) => `* LIST () "/" box${i}`, L.maxListingLines + 1, tagged('OK LIST completed')) },
      verdict: 'errored',
      byteBound: LISTING_BOUND,
      waits: 3,
      evidence: 'box0',
      mentions: LIMIT_OR_DEADLINE,
    }),
    kase({
      ...raw,
      tls: 'none',
      id: 'huge-examine',
      behaviour: `EXAMINE: ${L.maxListingLines + 1} untagged lines (over maxUntaggedPerCommand), then OK`,
      faults: { EXAMINE: manyLines('', (i) => `* OK line ${i}`, L.maxListingLines + 1, tagged('OK [READ-ONLY] EXAMINE completed')) },
      verdict: 'errored',
      byteBound: LISTING_BOUND,
      waits: 3,
      evidence: '* OK line 0',
      mentions: LIMIT_OR_DEADLINE,
    }),
    ...both({
      tls: 'none',
      id: 'literal-announced',
      behaviour: 'EXAMINE: "* 1 FETCH (BODY[] {999999999999}" and nothing more',
      faults: { EXAMINE: send('* 0 EXISTS\r\n* 1 FETCH (BODY[] {999999999999}\r\n') },
      verdict: 'errored',
      evidence: '* 0 EXISTS',
      mentions: LIMIT,
    }),
    ...both({
      tls: 'none',
      id: 'literal-sent',
      behaviour: `EXAMINE: an unsolicited FETCH with a literal of maxMessageBytes + 1 (${L.maxMessageBytes + 1} octets), sent`,
      faults: {
        EXAMINE: sizedBody(
          `* 1 EXISTS\r\n* 1 FETCH (UID 1 BODY[] {${L.maxMessageBytes + 1}}\r\n`,
          L.maxMessageBytes + 1,
          (io) => `)\r\n${io.tag} OK [READ-ONLY] EXAMINE completed\r\n`,
        ),
      },
      verdict: 'errored',
      byteBound: MESSAGE_BOUND,
      waits: 3,
      evidence: '* 1 EXISTS',
      mentions: LIMIT_OR_DEADLINE,
    }),
    ...both({
      tls: 'none',
      id: 'close-mid-reply',
      behaviour: 'EXAMINE: "* FLAGS (\\Seen)", "* 0 EXI" and a reset',
      faults: { EXAMINE: closeMidReply('* FLAGS (\\Seen)\r\n* 0 EXI') },
      verdict: 'errored',
      evidence: '* FLAGS',
      mentions: /clos|reset|ended|ECONNRESET|BYE/i,
    }),
    kase({
      ...raw,
      tls: 'none',
      id: 'garbage-greeting',
      behaviour: 'greets imapflow; greets the raw connection with NUL, invalid UTF-8 and escape bytes',
      faults: { GREETING: send(GARBAGE) },
      onlyConnection: 2,
      verdict: 'errored',
      evidence: 'garbage',
      notMentions: WRONG_HINT,
    }),
    kase({
      ...flow,
      tls: 'none',
      id: 'garbage-greeting',
      behaviour: 'greets with NUL, invalid UTF-8 and escape bytes',
      faults: { GREETING: send(GARBAGE) },
      verdict: 'errored',
      evidence: 'garbage',
      notMentions: WRONG_HINT,
    }),
    ...both({
      tls: 'none',
      id: 'garbage-reply',
      behaviour: 'EXAMINE: an untagged line of NUL, invalid UTF-8 and escape bytes, then OK',
      faults: { EXAMINE: examineWith(`* ${GARBAGE.toString('latin1')}`) },
      verdict: 'failed',
      evidence: 'garbage',
      mentions: MALFORMED,
    }),
    kase({
      ...flow,
      tls: 'starttls',
      id: 'starttls-injection',
      behaviour: 'STARTTLS: the OK and "* OK injected" in one plaintext write (CVE-2011-0411)',
      faults: { STARTTLS: starttlsInjection((io) => `${io.tag} OK begin TLS\r\n`, '* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] injected\r\n') },
      verdict: 'errored',
      evidence: 'OK begin TLS',
      mentions: CVE,
      notMentions: WRONG_HINT,
    }),
    kase({
      protocol: 'imap',
      scenario: 'imap-starttls',
      tls: 'starttls',
      id: 'starttls-injection',
      behaviour: 'STARTTLS: the OK and "* OK injected" in one plaintext write (CVE-2011-0411)',
      faults: { STARTTLS: starttlsInjection((io) => `${io.tag} OK begin TLS\r\n`, '* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] injected\r\n') },
      verdict: 'errored',
      evidence: 'OK begin TLS',
      mentions: CVE,
    }),
    ...(['UNAVAILABLE', 'INUSE'] as const).flatMap((code) =>
      both({
        tls: 'none',
        id: `temporary-refusal-${code.toLowerCase()}`,
        behaviour: `LOGIN answered NO [${code}]`,
        faults: { LOGIN: send((io) => `${io.tag} NO [${code}] not now\r\n`) },
        verdict: 'inconclusive',
        evidence: `NO [${code}] not now`,
      }),
    ),
    ...both({
      tls: 'none',
      id: 'echo-login',
      behaviour: 'LOGIN answered NO quoting the command (user and quoted password)',
      faults: { LOGIN: send((io) => `${io.tag} NO [AUTHENTICATIONFAILED] you said: ${io.line}\r\n`) },
      verdict: 'errored',
      evidence: 'you said',
      mentions: /LOGIN|auth/i,
    }),
    ...both({
      tls: 'none',
      id: 'echo-accepted',
      behaviour: 'LOGIN answered OK quoting the command (user and quoted password); the run passes',
      faults: { LOGIN: send((io) => `${io.tag} OK [CAPABILITY IMAP4rev1 LITERAL+ UIDPLUS MOVE NAMESPACE ID] welcome, you said: ${io.line}\r\n`) },
      verdict: 'passed',
      evidence: 'welcome, you said',
    }),
    ...both({
      tls: 'none',
      id: 'exists-flood',
      behaviour: 'NOOP: 100 000 "* n EXISTS" lines, then OK (legal: the run passes, memory stays bounded; command timeout 12 s)',
      faults: { NOOP: manyLines('', (i) => `* ${i + 1} EXISTS`, 100_000, tagged('OK NOOP completed')) },
      timeouts: { command: FLOOD_COMMAND_MS },
      waits: 1,
      verdict: 'passed',
      byteBound: LINE_BOUND + 100_000 * 20,
      evidence: '* 1 EXISTS',
    }),
    ...numbers.flatMap(([id, behaviour, line]) =>
      both({ tls: 'none', id, behaviour, faults: { EXAMINE: examineWith(line) }, verdict: 'failed', evidence: line.trim(), mentions: MALFORMED }),
    ),
    kase({
      ...flow,
      tls: 'tls',
      id: 'tls-handshake-stalls',
      behaviour: 'accepts TCP on the TLS port, reads the ClientHello, never answers',
      stallTlsHandshake: true,
      verdict: 'errored',
      evidence: NO_SERVER_BYTES,
      mentions: /TLS/,
    }),
    kase({
      ...flow,
      tls: 'starttls',
      id: 'starttls-handshake-stalls',
      behaviour: 'STARTTLS: the OK, then the ClientHello is never answered',
      faults: { STARTTLS: stalledUpgrade((io) => `${io.tag} OK begin TLS\r\n`) },
      verdict: 'errored',
      evidence: 'OK begin TLS',
      mentions: /TLS/,
    }),
    kase({
      protocol: 'imap',
      scenario: 'imap-starttls',
      tls: 'starttls',
      id: 'starttls-handshake-stalls',
      behaviour: 'STARTTLS: the OK, then the ClientHello is never answered',
      faults: { STARTTLS: stalledUpgrade((io) => `${io.tag} OK begin TLS\r\n`) },
      verdict: 'errored',
      evidence: 'OK begin TLS',
      mentions: /TLS/,
    }),
  ];
}

// ---------------------------------------------------------------- SMTP ----

function smtpCases(): HostileCase[] {
  const s = { protocol: 'smtp', scenario: 'smtp' } as const;
  const G = GREETING_TEXT.smtp;
  const refusal = (at: string, reply: string): HostileCase =>
    kase({
      ...s,
      tls: 'none',
      id: `temporary-refusal-${reply.slice(0, 3)}-${at.toLowerCase()}`,
      behaviour: `${at} answered "${reply}"`,
      faults: { [at]: send(`${reply}\r\n`) },
      verdict: 'inconclusive',
      evidence: reply,
    });
  /** AUTH LOGIN: user, then the password line answered 535 quoting it. */
  const echoLogin: Behaviour = (io) => {
    io.nextLine(() => {
      io.nextLine((password) => io.session.write(`535 5.7.8 you said: ${password}\r\n`));
      return io.session.write('334 UGFzc3dvcmQ6\r\n');
    });
    return io.session.write('334 VXNlcm5hbWU6\r\n');
  };
  return [
    kase({ ...s, tls: 'none', id: 'control', behaviour: 'a faithful server (the scenario passes)', verdict: 'passed', evidence: '250 2.0.0 queued' }),
    ...(['none', 'tls', 'starttls'] as const).map((tls) =>
      kase({
        ...s,
        tls,
        id: 'no-greeting',
        behaviour: 'accepts the connection (and TLS), never greets',
        faults: { GREETING: silence },
        verdict: 'errored',
        evidence: NO_SERVER_BYTES,
        mentions: /greeting/i,
      }),
    ),
    ...(['none', 'tls'] as const).map((tls) =>
      kase({
        ...s,
        tls,
        id: 'greeting-then-silence',
        behaviour: 'greets, then never answers a command',
        faults: { '*': silence },
        verdict: 'errored',
        evidence: G,
        mentions: HANG,
      }),
    ),
    kase({
      ...s,
      tls: 'none',
      id: 'endless-line',
      behaviour: 'EHLO: "250-hostile" then bytes without a line end',
      faults: { EHLO: endlessLine('250-hostile.test\r\n250-') },
      verdict: 'errored',
      evidence: G,
      mentions: LIMIT,
    }),
    kase({
      ...s,
      tls: 'none',
      id: 'slow-bytes',
      behaviour: 'EHLO: "250-" then one byte every 200 ms, never a line end',
      faults: { EHLO: slowBytes('250-') },
      verdict: 'errored',
      evidence: G,
      mentions: HANG,
    }),
    kase({
      ...s,
      tls: 'none',
      id: 'trickle-ehlo',
      behaviour: 'EHLO: "250-n" continuation lines one byte every 200 ms, each within the command timeout (3 s), never the last line',
      faults: { EHLO: trickleLines('250-hostile.test\r\n', (i) => `250-${i % 10}`) },
      timeouts: TRICKLE_TIMEOUTS,
      verdict: 'errored',
      evidence: G,
      mentions: HANG,
    }),
    kase({
      ...s,
      tls: 'none',
      id: 'huge-ehlo',
      behaviour: `EHLO: ${L.maxListingLines + 1} continuation lines, then "250 OK"`,
      faults: { EHLO: manyLines('250-hostile.test\r\n', (i) => `250-X-EXT-${i}`, L.maxListingLines + 1, '250 OK\r\n') },
      verdict: 'errored',
      byteBound: LISTING_BOUND,
      waits: 3,
      evidence: G,
      mentions: LIMIT_OR_DEADLINE,
    }),
    kase({
      ...s,
      tls: 'none',
      id: 'close-mid-reply',
      behaviour: 'EHLO: "250-hostile.test", "250-AU" and a reset',
      faults: { EHLO: closeMidReply('250-hostile.test\r\n250-AU') },
      verdict: 'errored',
      evidence: G,
      mentions: /clos|reset|ended|ECONNRESET/i,
    }),
    kase({
      ...s,
      tls: 'none',
      id: 'garbage-greeting',
      behaviour: 'greets with NUL, invalid UTF-8 and escape bytes',
      faults: { GREETING: send(GARBAGE) },
      verdict: 'errored',
      evidence: 'garbage',
      notMentions: WRONG_HINT,
    }),
    kase({
      ...s,
      tls: 'none',
      id: 'garbage-reply',
      behaviour: 'EHLO: NUL, invalid UTF-8 and escape bytes instead of a reply',
      faults: { EHLO: send(GARBAGE) },
      verdict: 'failed',
      evidence: G,
      mentions: MALFORMED,
    }),
    kase({
      ...s,
      tls: 'starttls',
      id: 'starttls-injection',
      behaviour: 'STARTTLS: "220 ready" and "250 injected" in one plaintext write (CVE-2011-0411)',
      faults: { STARTTLS: starttlsInjection('220 2.0.0 ready to start TLS\r\n', '250-injected\r\n250 AUTH PLAIN\r\n') },
      verdict: 'errored',
      evidence: '220 2.0.0 ready to start TLS',
      mentions: CVE,
    }),
    refusal('GREETING', '421 4.3.2 service shutting down'),
    refusal('MAIL', '451 4.3.0 local error, try later'),
    refusal('RCPT', '450 4.2.1 mailbox busy'),
    refusal('RCPT', '452 4.3.1 insufficient storage'),
    refusal('AUTH', '454 4.7.0 temporary authentication failure'),
    kase({
      ...s,
      tls: 'starttls',
      id: 'temporary-refusal-454-starttls',
      behaviour: 'STARTTLS answered "454 4.7.0 TLS not available now"',
      faults: { STARTTLS: send('454 4.7.0 TLS not available now\r\n') },
      verdict: 'inconclusive',
      evidence: '454 4.7.0 TLS not available now',
    }),
    kase({
      ...s,
      tls: 'none',
      id: 'echo-auth-plain',
      behaviour: 'AUTH PLAIN answered 535 quoting the command and its decoded token',
      faults: { AUTH: send((io) => `535 5.7.8 you said: ${io.line} (${decodedPlain(io.line)})\r\n`) },
      verdict: 'errored',
      evidence: 'you said',
      mentions: /auth/i,
    }),
    kase({
      ...s,
      tls: 'none',
      id: 'echo-auth-login',
      behaviour: 'EHLO offers only AUTH LOGIN; the password line answered 535 quoting it',
      faults: { EHLO: send('250-hostile.test\r\n250-AUTH LOGIN\r\n250 8BITMIME\r\n'), AUTH: echoLogin },
      verdict: 'errored',
      evidence: 'you said',
      mentions: /auth/i,
    }),
    kase({
      ...s,
      tls: 'none',
      id: 'echo-accepted',
      behaviour: 'AUTH PLAIN answered 235 quoting the command and its decoded token; the run passes',
      faults: { AUTH: send((io) => `235 2.7.0 welcome, you said: ${io.line} (${decodedPlain(io.line)})\r\n`) },
      verdict: 'passed',
      evidence: 'welcome, you said',
    }),
    kase({
      ...s,
      tls: 'tls',
      id: 'tls-handshake-stalls',
      behaviour: 'accepts TCP on the TLS port, reads the ClientHello, never answers',
      stallTlsHandshake: true,
      verdict: 'errored',
      evidence: NO_SERVER_BYTES,
      mentions: /TLS/,
    }),
    kase({
      ...s,
      tls: 'starttls',
      id: 'starttls-handshake-stalls',
      behaviour: 'STARTTLS: "220 ready", then the ClientHello is never answered',
      faults: { STARTTLS: stalledUpgrade('220 2.0.0 ready to start TLS\r\n') },
      verdict: 'errored',
      evidence: '220 2.0.0 ready to start TLS',
      mentions: /TLS/,
    }),
  ];
}

export const POP3_CASES: readonly HostileCase[] = pop3Cases();
export const IMAP_CASES: readonly HostileCase[] = imapCases();
export const SMTP_CASES: readonly HostileCase[] = smtpCases();
export const ALL_CASES: readonly HostileCase[] = [...POP3_CASES, ...IMAP_CASES, ...SMTP_CASES];
