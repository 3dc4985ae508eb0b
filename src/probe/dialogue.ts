import type { ProtocolName } from '../core/protocols.js';
import type { Connection } from '../transport/index.js';

/**
 * The few commands the port probe speaks, per protocol, straight on a
 * transport Connection: read a reply, ask for capabilities, ask to start TLS.
 * The probe needs the raw replies (evidence) and, for the injection check,
 * two commands in one write, which the full clients rightly never allow.
 * Nothing here logs in or sends a password.
 */
export interface Reply {
  /** Every line, as sent. */
  readonly lines: string[];
  /** Whether the server said yes (SMTP 2xx, POP3 +OK, IMAP tagged OK). */
  readonly ok: boolean;
}

export interface Dialogue {
  /** Lines still to read after the first greeting line (an SMTP "220-" greeting goes on). */
  readonly greetingRest: (connection: Connection, first: string) => Promise<string[]>;
  /** Capability command and the capability words it returned (upper-cased first words kept as sent). */
  readonly capabilities: (connection: Connection) => Promise<{ reply: Reply; capabilities: string[] }>;
  /** The command that asks for STARTTLS, as sent on the wire. */
  readonly starttlsCommand: string;
  /** The capability that announces it. */
  readonly starttlsCapability: string;
  /** A harmless command for the injection check, and how to tell its answer. */
  readonly injectedCommand: string;
  /** Reads the reply to a command already written. */
  readonly readReply: (connection: Connection, command: string, tag?: string) => Promise<Reply>;
  /** SASL mechanisms from the capabilities. */
  readonly mechanisms: (capabilities: readonly string[]) => string[];
  /** Whether a password may go in clear with these capabilities (pre-TLS). */
  readonly plaintextLoginOffered: (capabilities: readonly string[]) => boolean;
  /** How to ask, in clear and with no credential, whether the server insists on TLS first; IMAP has none (its capabilities say). */
  readonly tlsRequirement?: TlsRequirementQuestion;
}

export type TlsRequirementOutcome = 'required' | 'not-required' | 'unclear';

export interface TlsRequirementQuestion {
  /** Sent in clear after the capabilities, before STARTTLS. Carries no credential. */
  readonly command: string;
  /** Sent at once when the command was taken, so that nothing is left begun. */
  readonly undo?: string;
  /** The command's name in a hint ("MAIL FROM"), and what a client would then send in clear. */
  readonly label: string;
  readonly exposes: string;
  readonly judge: (reply: Reply) => TlsRequirementOutcome;
}

/** A made-up user name for POP3's USER: the probe never sends PASS, so no login is ever tried with it. */
export const MADE_UP_USER = 'mailprobe-no-such-user';

const text = (bytes: Buffer): string => bytes.toString('utf8');

/** SASL mechanisms whose client response is the password itself (RFC 4616 PLAIN, the obsolete LOGIN). */
const PLAINTEXT_SASL = new Set(['PLAIN', 'LOGIN']);
const hasPlaintextSasl = (mechanisms: readonly string[]): boolean => mechanisms.some((m) => PLAINTEXT_SASL.has(m.toUpperCase()));

async function smtpReply(connection: Connection, command: string): Promise<Reply> {
  const budget = connection.replyBudget(command, 'reply');
  const lines: string[] = [];
  for (;;) {
    const line = text((await connection.readLine({ phase: 'command', command, budget })).bytes);
    lines.push(line);
    // RFC 5321 §4.2: "ddd-" continues a multiline reply, "ddd " (or "ddd") ends it.
    if (line.length < 4 || line[3] !== '-') break;
  }
  return { lines, ok: /^2/.test(lines[0] ?? '') };
}

async function pop3Reply(connection: Connection, command: string, multiline = false): Promise<Reply> {
  const budget = connection.replyBudget(command, 'reply');
  const first = text((await connection.readLine({ phase: 'command', command, budget })).bytes);
  const lines = [first];
  const ok = first.startsWith('+OK');
  if (ok && multiline) {
    for (;;) {
      const line = text((await connection.readLine({ phase: 'command', command, budget })).bytes);
      if (line === '.') break;
      lines.push(line.startsWith('..') ? line.slice(1) : line);
    }
  }
  return { lines, ok };
}

async function imapReply(connection: Connection, command: string, tag: string): Promise<Reply> {
  const budget = connection.replyBudget(command, 'reply');
  const lines: string[] = [];
  for (;;) {
    const line = text((await connection.readLine({ phase: 'command', command, budget })).bytes);
    lines.push(line);
    if (line.startsWith(`${tag} `)) return { lines, ok: /^\S+ OK\b/i.test(line) };
  }
}

/** IMAP capability words from "* CAPABILITY ..." lines or a greeting's "[CAPABILITY ...]" code. */
export function imapCapabilities(lines: readonly string[]): string[] {
  const words: string[] = [];
  for (const line of lines) {
    const match = /^\* CAPABILITY (.*)$/i.exec(line) ?? /\[CAPABILITY ([^\]]*)\]/i.exec(line);
    if (match?.[1] !== undefined) words.push(...match[1].trim().split(/\s+/));
  }
  return words;
}

let tags = 0;
const nextTag = (): string => `p${++tags}`;

export const DIALOGUES: Readonly<Record<ProtocolName, Dialogue>> = {
  smtp: {
    greetingRest: async (connection, first) => {
      const lines: string[] = [];
      let last = first;
      while (last.length >= 4 && last[3] === '-') {
        last = text((await connection.readLine({ phase: 'greeting' })).bytes);
        lines.push(last);
      }
      return lines;
    },
    capabilities: async (connection) => {
      const command = 'EHLO mailprobe.invalid';
      connection.writeLine(command);
      const reply = await smtpReply(connection, command);
      // The first line names the server; each further line is one extension keyword and its parameters.
      return { reply, capabilities: reply.ok ? reply.lines.slice(1).map((l) => l.slice(4)) : [] };
    },
    starttlsCommand: 'STARTTLS',
    starttlsCapability: 'STARTTLS',
    injectedCommand: 'NOOP',
    readReply: (connection, command) => smtpReply(connection, command),
    mechanisms: (capabilities) => words(capabilities, 'AUTH'),
    plaintextLoginOffered: (capabilities) => hasPlaintextSasl(words(capabilities, 'AUTH')),
    // RFC 3207 §4: a server that is not publicly referenced and requires TLS answers "530 Must issue a STARTTLS command first".
    tlsRequirement: {
      command: 'MAIL FROM:<>',
      undo: 'RSET',
      label: 'MAIL FROM',
      exposes: 'its mail',
      judge: (reply) => (/^530/.test(reply.lines[0] ?? '') ? 'required' : reply.ok ? 'not-required' : 'unclear'),
    },
  },
  pop3: {
    greetingRest: () => Promise.resolve([]),
    capabilities: async (connection) => {
      connection.writeLine('CAPA');
      const reply = await pop3Reply(connection, 'CAPA', true);
      return { reply, capabilities: reply.ok ? reply.lines.slice(1) : [] };
    },
    starttlsCommand: 'STLS',
    starttlsCapability: 'STLS',
    injectedCommand: 'NOOP',
    readReply: (connection, command) => pop3Reply(connection, command),
    mechanisms: (capabilities) => words(capabilities, 'SASL'),
    // USER is listed by servers that refuse it before STLS too (Dovecot does), so only SASL is judged without an account.
    plaintextLoginOffered: (capabilities) => hasPlaintextSasl(words(capabilities, 'SASL')),
    // USER alone: a server that takes it in clear would take PASS next (never sent). A refusal counts only when it names TLS or plaintext (Dovecot: "-ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.").
    tlsRequirement: {
      command: `USER ${MADE_UP_USER}`,
      label: 'USER',
      exposes: 'the user name and then the password',
      judge: (reply) =>
        reply.ok ? 'not-required' : /\b(?:TLS|SSL|STLS|secure|encrypt\w*|plain ?text|clear ?text)\b/i.test(reply.lines[0] ?? '') ? 'required' : 'unclear',
    },
  },
  imap: {
    greetingRest: () => Promise.resolve([]),
    capabilities: async (connection) => {
      const tag = nextTag();
      connection.writeLine(`${tag} CAPABILITY`);
      const reply = await imapReply(connection, `${tag} CAPABILITY`, tag);
      return { reply, capabilities: reply.ok ? imapCapabilities(reply.lines) : [] };
    },
    starttlsCommand: 'STARTTLS',
    starttlsCapability: 'STARTTLS',
    injectedCommand: 'NOOP',
    readReply: (connection, command, tag) => imapReply(connection, command, tag ?? ''),
    mechanisms: (capabilities) => capabilities.filter((c) => /^AUTH=/i.test(c)).map((c) => c.slice(5).toUpperCase()),
    // LOGINDISABLED (RFC 9051) says LOGIN is refused; without it, LOGIN takes the password in clear.
    plaintextLoginOffered: (capabilities) =>
      !capabilities.some((c) => c.toUpperCase() === 'LOGINDISABLED') || hasPlaintextSasl(capabilities.filter((c) => /^AUTH=/i.test(c)).map((c) => c.slice(5))),
  },
};

/** The parameters of capability `name` ("AUTH PLAIN LOGIN" → PLAIN, LOGIN), upper-cased. */
function words(capabilities: readonly string[], name: string): string[] {
  const line = capabilities.find((c) => c.split(/[\s=]/)[0]?.toUpperCase() === name);
  return line === undefined
    ? []
    : line
        .split(/[\s=]+/)
        .slice(1)
        .filter((w) => w !== '')
        .map((w) => w.toUpperCase());
}

export function hasCapability(capabilities: readonly string[], name: string): boolean {
  return capabilities.some((c) => c.split(/\s/)[0]?.toUpperCase() === name);
}

/** An IMAP command with a fresh tag, for the wire and for reading its answer. */
export function tagged(protocol: ProtocolName, command: string): { line: string; tag?: string } {
  if (protocol !== 'imap') return { line: command };
  const tag = nextTag();
  return { line: `${tag} ${command}`, tag };
}
