import { readFileSync } from 'node:fs';
import { ENDPOINT_PROTOCOL, type ProtocolName } from '../core/protocols.js';
import { connect } from '../transport/connect.js';
import { imapGreetingStatus } from '../transport/greeting-kind.js';
import { Transcript } from '../transport/transcript.js';
import { ENDPOINT_HOST, ENDPOINT_SECURITY, type EndpointName } from './ports.js';
import { sleep } from './procs.js';

export type GreetingKind = ProtocolName;

export function greetingKind(endpoint: EndpointName): GreetingKind {
  return ENDPOINT_PROTOCOL[endpoint];
}

/** Is this complete greeting text a "ready" answer for the protocol? */
export function isReadyGreeting(kind: GreetingKind, text: string): boolean {
  const lines = text.split('\r\n').filter((l) => l !== '');
  if (kind === 'imap') return imapGreetingStatus(lines[0] ?? '') === 'OK';
  if (kind === 'pop3') return lines[0]?.startsWith('+OK') ?? false;
  // SMTP: a multi-line 220 ends with "220 " (RFC 5321 §4.2.1).
  return lines.length > 0 && lines.every((l) => l.startsWith('220')) && (lines.at(-1)?.startsWith('220 ') ?? false);
}

/** An SMTP reply line that another line follows: "xyz-" (RFC 5321 §4.2.1). */
const SMTP_CONTINUED = /^\d{3}-/;

/**
 * Connect to one endpoint (implicit TLS verified against the lab CA where the
 * endpoint is TLS) and read the server's first complete greeting: one line,
 * or for SMTP every line to the last "xyz ". Over the transport like every
 * other connection (its phases, their timeouts, its line limits), each phase
 * within `timeoutMs`. Resolves with the greeting text, lines ending in CRLF;
 * rejects on a connect or TLS error or a timeout.
 */
export async function readGreeting(
  endpoint: EndpointName,
  port: number,
  ca: string | Buffer,
  timeoutMs = 3000,
  // Dovecot's plain IMAP/POP3 listen on 127.0.0.2, the rest on 127.0.0.1 (see ENDPOINT_HOST); other servers on their own address.
  host: string = ENDPOINT_HOST[endpoint],
): Promise<string> {
  const kind = greetingKind(endpoint);
  const connection = await connect({
    host,
    port,
    security: ENDPOINT_SECURITY[endpoint],
    tls: { ca, servername: 'localhost' },
    timeouts: { dns: timeoutMs, tcp: timeoutMs, tls: timeoutMs, greeting: timeoutMs },
    transcript: new Transcript(),
    session: 'lab',
  });
  try {
    // The whole greeting within one deadline: endless "220-" lines must not keep the probe waiting.
    const budget = connection.replyBudget('(greeting)', 'reply', timeoutMs);
    const lines = [(await connection.readGreeting()).bytes.toString('latin1')];
    while (kind === 'smtp' && SMTP_CONTINUED.test(lines.at(-1) as string)) {
      lines.push((await connection.readLine({ phase: 'greeting', budget })).bytes.toString('latin1'));
    }
    return lines.map((line) => `${line}\r\n`).join('');
  } finally {
    connection.destroy();
  }
}

export interface ReadinessResult {
  ready: boolean;
  /** "endpoint host:port" -> last problem, for listeners that never greeted properly */
  problems: Record<string, string>;
}

/** One listener to wait for: which protocol greets, where. */
export interface GreetingTarget {
  endpoint: EndpointName;
  host: string;
  port: number;
}

/**
 * Ready means every greeting was read on every port (LAB-NOTES 3: Dovecot
 * binds before its auth process is up, so a TCP connect proves nothing).
 * Retries until `deadlineMs` has passed; `stillRunning` lets it stop early
 * when a daemon died.
 */
export async function waitForGreetings(
  targets: readonly GreetingTarget[],
  caFile: string,
  deadlineMs: number,
  stillRunning: () => Promise<boolean> = async () => true,
): Promise<ReadinessResult> {
  const ca = readFileSync(caFile);
  const started = Date.now();
  const key = (t: GreetingTarget) => `${t.endpoint} ${t.host}:${t.port}`;
  const pending = new Map(targets.map((t) => [key(t), t] as const));
  const problems: Record<string, string> = {};
  let delay = 50;
  for (;;) {
    for (const [name, t] of [...pending]) {
      try {
        const text = await readGreeting(t.endpoint, t.port, ca, 3000, t.host);
        if (isReadyGreeting(greetingKind(t.endpoint), text)) {
          pending.delete(name);
          delete problems[name];
        } else {
          problems[name] = `unexpected greeting ${JSON.stringify(text.trim())}`;
        }
      } catch (err) {
        problems[name] = (err as Error).message;
      }
    }
    if (pending.size === 0) return { ready: true, problems };
    if (Date.now() - started > deadlineMs || !(await stillRunning())) return { ready: false, problems };
    await sleep(delay);
    delay = Math.min(delay * 2, 500);
  }
}
