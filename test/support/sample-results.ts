import type { RunResult, ScenarioResult, StepResult } from '../../src/runner/results.js';
import type { SourcePos } from '../../src/core/source.js';
import { Redactor } from '../../src/transport/redact.js';
import type { Direction, TranscriptEntry } from '../../src/transport/transcript.js';

/**
 * Realistic RunResult fixtures for reporter tests: one scenario of each verdict
 * against a POP3 host.
 *
 * A canary password is planted where a careless reporter would leak it: an
 * unmarked PASS line, a server echoing it, a library error that quotes a URL
 * with credentials, and the base64 SASL continuation of AUTH PLAIN. Every
 * format must print `[redacted]` in those places and never the canary.
 *
 * Control bytes (BEL, ESC, NUL, a lone surrogate) are planted in server text,
 * because server bytes are hostile input.
 */
export const CANARY_PASSWORD = 'Canary-S3cret-pw!';

export const SAMPLE_DEFAULTS = {
  startedAt: Date.UTC(2024, 4, 1, 10, 0, 0),
  runId: 'mp-20240501-7f3a9c',
  port: 40110,
} as const;

export interface SampleOptions {
  /** Epoch ms the run started at; every other time is an offset from it. */
  readonly startedAt?: number;
  readonly runId?: string;
  /** Port the lab listened on (volatile in real runs). */
  readonly port?: number;
  readonly insecure?: boolean;
  readonly interrupted?: boolean;
  readonly cleanupStopped?: boolean;
}

/** A Redactor that knows the canary and its user, as the CLI's knows the target's accounts. */
export function sampleRedactor(): Redactor {
  return new Redactor([{ user: 'alice', password: CANARY_PASSWORD }]);
}

type Line = readonly [offsetMs: number, direction: Direction, text: string];

function transcript(startedAt: number, session: string, lines: readonly Line[]): TranscriptEntry[] {
  return lines.map(([offset, direction, text]) => ({ at: startedAt + offset, direction, session, text }));
}

function pos(file: string, line: number, col: number): SourcePos {
  return { file, line, col };
}

function saslPlain(user: string, password: string): string {
  return Buffer.from(`\0${user}\0${password}`, 'utf8').toString('base64');
}

const CAPA: Line[] = [
  [3, 'client', 'CAPA'],
  [4, 'server', '+OK'],
  [4, 'server', 'TOP'],
  [4, 'server', 'UIDL'],
  [4, 'server', 'USER'],
  [4, 'server', 'SASL PLAIN LOGIN'],
  [4, 'server', 'STLS'],
  [4, 'server', 'RESP-CODES'],
  [4, 'server', '.'],
];
const CAPABILITIES = ['TOP', 'UIDL', 'USER', 'SASL PLAIN LOGIN', 'STLS', 'RESP-CODES'];
const GREETING = '+OK Dovecot ready.';

function step(
  base: Omit<StepResult, 'state' | 'checks' | 'transcript' | 'durationMs' | 'action'> & {
    action?: string;
    durationMs?: number;
    checks?: StepResult['checks'];
    transcript?: readonly TranscriptEntry[];
  },
): StepResult & { state: 'passed' } {
  return {
    state: 'passed',
    action: base.action ?? 'pop3.command',
    durationMs: base.durationMs ?? 2,
    checks: base.checks ?? [],
    transcript: base.transcript ?? [],
    name: base.name,
    source: base.source,
    ...(base.session !== undefined ? { session: base.session } : {}),
  };
}

export function buildSampleRun(options: SampleOptions = {}): RunResult {
  const startedAt = options.startedAt ?? SAMPLE_DEFAULTS.startedAt;
  const runId = options.runId ?? SAMPLE_DEFAULTS.runId;
  const port = options.port ?? SAMPLE_DEFAULTS.port;
  const connectLine: Line = [0, 'info', `connected to 127.0.0.1:${port} (plain)`];
  const target = { name: 'staging-pop', host: 'mail.example.test', file: 'targets/staging.yaml', insecure: options.insecure ?? true };

  // 1. passed ---------------------------------------------------------------
  const t1 = startedAt + 10;
  const f1 = 'suites/pop3/login-user-pass.yaml';
  const passedLogin = transcript(t1, 'laptop', [
    connectLine,
    [1, 'server', GREETING],
    ...CAPA,
    [5, 'client', 'USER alice'],
    [6, 'server', '+OK'],
    // Not marked secret at the source: only the report-time Redactor stands between it and the report.
    [6, 'client', `PASS ${CANARY_PASSWORD}`],
    [9, 'server', '+OK Logged in.'],
  ]);
  const passed: ScenarioResult = {
    state: 'passed',
    id: 'pop3/login-user-pass',
    name: 'USER/PASS login reaches TRANSACTION state',
    description: 'RFC 1939 §7: USER then PASS opens the maildrop.',
    file: f1,
    line: 2,
    tags: ['pop3', 'auth'],
    rfc: ['RFC 1939'],
    durationMs: 14,
    startedAt: t1,
    steps: [
      step({ name: 'connect', action: 'pop3.connect', session: 'laptop', source: pos(f1, 8, 5), durationMs: 5, transcript: passedLogin.slice(0, 11) }),
      step({
        name: 'login',
        action: 'pop3.login',
        session: 'laptop',
        source: pos(f1, 11, 5),
        durationMs: 4,
        transcript: passedLogin.slice(11),
        checks: [{ description: 'PASS accepted', passed: true, expected: '+OK', actual: '+OK Logged in.', rfc: 'RFC 1939 §7 PASS' }],
      }),
      step({
        name: 'STAT',
        session: 'laptop',
        source: pos(f1, 14, 5),
        durationMs: 5,
        transcript: transcript(t1, 'laptop', [
          [10, 'client', 'STAT'],
          [14, 'server', '+OK 2 640'],
        ]),
        checks: [{ description: 'STAT answers +OK nn mm', passed: true, expected: '/^\\+OK \\d+ \\d+/', actual: '+OK 2 640' }],
      }),
    ],
    cleanup: [],
    properties: { 'greeting.laptop': GREETING },
    capabilities: { laptop: CAPABILITIES },
    leftovers: [],
  };

  // 2. failed ---------------------------------------------------------------
  const t2 = startedAt + 40;
  const f2 = 'suites/pop3/dele-marks-deleted.yaml';
  const failedSetup = transcript(t2, 'laptop', [
    connectLine,
    [1, 'server', GREETING],
    [2, 'client', 'USER alice'],
    [3, 'server', '+OK'],
    [3, 'client', 'PASS [redacted]'],
    // A server that echoes the password back: the Redactor must catch it by value.
    [6, 'server', `+OK Logged in as alice (${CANARY_PASSWORD})`],
    [7, 'client', 'LIST'],
    [8, 'server', '+OK 2 messages:'],
    [8, 'server', '1 312'],
    [8, 'server', '2 328'],
    [8, 'server', '.'],
    [9, 'client', 'UIDL 1'],
    [10, 'server', `+OK 1 mailprobe-${runId}-1`],
  ]);
  const rfcDele = 'RFC 1939 §6 DELE: any future reference to the message-number associated with the message in a POP3 command generates an error';
  const failedStepTranscript = transcript(t2, 'laptop', [
    [11, 'client', 'DELE 1'],
    [12, 'server', '+OK Marked to be deleted.'],
    [13, 'client', 'RETR 1'],
    [15, 'server', '+OK 312 octets\u0007\u001b[2J\ud800\u202egpj.exe'],
    [15, 'info', '(312 octets of message body not shown)'],
    [15, 'server', '.'],
  ]);
  const failed: ScenarioResult = {
    state: 'failed',
    id: 'pop3/dele-marks-deleted',
    name: 'RETR of a message marked deleted answers -ERR',
    file: f2,
    line: 2,
    tags: ['pop3', 'dele'],
    rfc: ['RFC 1939'],
    durationMs: 41,
    startedAt: t2,
    steps: [
      step({ name: 'login', action: 'pop3.login', session: 'laptop', source: pos(f2, 9, 5), durationMs: 10, transcript: failedSetup }),
      {
        ...step({ name: 'RETR 1 after DELE 1', session: 'laptop', source: pos(f2, 18, 7), durationMs: 31, transcript: failedStepTranscript }),
        state: 'failed',
        checks: [
          {
            description: 'RETR of a deleted message fails',
            passed: false,
            expected: '-ERR',
            actual: '+OK 312 octets\u0007\u001b[2J\ud800\u202egpj.exe',
            rfc: rfcDele,
            source: pos(f2, 20, 9),
          },
          { description: 'no octets of the deleted message are sent', passed: false, expected: '(nothing)', actual: '<312 octets>', source: pos(f2, 23, 9) },
        ],
      },
    ],
    cleanup: [
      step({
        name: 'RSET and QUIT',
        action: 'pop3.quit',
        session: 'laptop',
        source: pos(f2, 2, 1),
        transcript: transcript(t2, 'laptop', [
          [16, 'client', 'RSET'],
          [17, 'server', '+OK'],
          [17, 'client', 'QUIT'],
          [18, 'server', '+OK Logging out.'],
        ]),
      }),
    ],
    properties: { 'greeting.laptop': GREETING },
    capabilities: { laptop: CAPABILITIES },
    leftovers: [],
    failure: {
      step: 'RETR 1 after DELE 1',
      source: pos(f2, 20, 9),
      message: 'RETR of a message marked deleted must fail, but the server sent it',
      expected: '-ERR',
      actual: '+OK 312 octets\u0007\u001b[2J\ud800\u202egpj.exe',
      rfc: rfcDele,
      checks: [
        {
          message: 'RETR of a message marked deleted must fail, but the server sent it',
          source: pos(f2, 20, 9),
          expected: '-ERR',
          actual: '+OK 312 octets\u0007\u001b[2J\ud800\u202egpj.exe',
          rfc: rfcDele,
        },
        { message: 'no octets of the deleted message are sent', source: pos(f2, 23, 9), expected: '(nothing)', actual: '<312 octets>' },
      ],
      transcript: [...failedSetup, ...failedStepTranscript],
    },
  };

  // 3. errored: TLS handshake -------------------------------------------------
  const t3 = startedAt + 90;
  const f3 = 'suites/pop3/stls-upgrade.yaml';
  const erroredTranscript = transcript(t3, 'laptop', [
    connectLine,
    [1, 'server', GREETING],
    ...CAPA,
    [5, 'client', 'STLS'],
    [6, 'server', '+OK Begin TLS negotiation now.'],
    [120, 'info', 'TLS handshake failed: Client network socket disconnected before secure TLS connection was established'],
  ]);
  const errored: ScenarioResult = {
    state: 'errored',
    id: 'pop3/stls-upgrade',
    name: 'STLS upgrades the session to TLS',
    file: f3,
    line: 2,
    tags: ['pop3', 'tls'],
    rfc: ['RFC 2595'],
    durationMs: 126,
    startedAt: t3,
    steps: [
      {
        ...step({ name: 'STLS', action: 'pop3.starttls', session: 'laptop', source: pos(f3, 9, 5), durationMs: 126, transcript: erroredTranscript }),
        state: 'errored',
        problem: { code: 'ETLS', phase: 'tls', message: 'TLS handshake failed' },
      },
    ],
    cleanup: [],
    properties: { 'greeting.laptop': GREETING },
    capabilities: { laptop: CAPABILITIES },
    leftovers: [],
    error: {
      code: 'ETLS',
      phase: 'tls',
      // Libraries quote URLs with credentials in their errors; the Redactor scrubs by value.
      message: `TLS handshake with pop3://alice:${CANARY_PASSWORD}@mail.example.test:${port} failed: Client network socket disconnected before secure TLS connection was established (ECONNRESET)`,
      step: 'STLS',
      source: pos(f3, 9, 5),
      transcript: erroredTranscript,
    },
  };

  // 4. skipped: capability missing -------------------------------------------
  const t4 = startedAt + 230;
  const skipped: ScenarioResult = {
    state: 'skipped',
    id: 'pop3/auth/sasl-cram-md5',
    name: 'AUTH CRAM-MD5 login',
    file: 'suites/pop3/auth/sasl-cram-md5.yaml',
    line: 2,
    tags: ['pop3', 'auth', 'sasl'],
    rfc: ['RFC 5034', 'RFC 2195'],
    durationMs: 6,
    startedAt: t4,
    steps: [],
    cleanup: [],
    properties: { 'greeting.laptop': GREETING },
    capabilities: { laptop: CAPABILITIES },
    leftovers: [],
    reason: 'requires capability SASL CRAM-MD5; the server offers SASL PLAIN LOGIN',
  };

  // 5. inconclusive: -ERR [IN-USE] -------------------------------------------
  const t5 = startedAt + 250;
  const f5 = 'suites/pop3/uidl-stable.yaml';
  const inconclusiveTranscript = transcript(t5, 'phone', [
    connectLine,
    [1, 'server', GREETING],
    [2, 'client', 'AUTH PLAIN'],
    [3, 'server', '+ '],
    // The SASL continuation carries user and password in base64 and matches no command pattern.
    [3, 'client', saslPlain('alice', CANARY_PASSWORD)],
    [1503, 'server', '-ERR [IN-USE] Mailbox is locked by another POP3 session'],
  ]);
  const inconclusive: ScenarioResult = {
    state: 'inconclusive',
    id: 'pop3/uidl-stable',
    name: 'UIDL stays the same across sessions',
    file: f5,
    line: 2,
    tags: ['pop3', 'uidl'],
    rfc: ['RFC 1939'],
    durationMs: 1504,
    startedAt: t5,
    steps: [
      {
        ...step({
          name: 'second session logs in',
          action: 'pop3.login',
          session: 'phone',
          source: pos(f5, 22, 5),
          durationMs: 1504,
          transcript: inconclusiveTranscript,
        }),
        state: 'inconclusive',
        reason: 'server said -ERR [IN-USE]: maildrop locked by another session',
      },
    ],
    cleanup: [],
    properties: { 'greeting.phone': GREETING, 'delivery.ms': '840' },
    capabilities: { phone: CAPABILITIES },
    leftovers: [`message <mailprobe-${runId}-3@mailprobe.test> in alice's maildrop`],
    reason: 'server said -ERR [IN-USE]: maildrop locked by another session; try again later',
    transcript: inconclusiveTranscript,
  };

  return {
    runId,
    startedAt,
    durationMs: 1790,
    target,
    scenarios: [passed, failed, errored, skipped, inconclusive],
    interrupted: options.interrupted ?? false,
    cleanupStopped: options.cleanupStopped ?? false,
    mailprobeVersion: '0.1.0',
    peakBufferedBytes: 70_123,
  };
}
