import { readFileSync } from 'node:fs';
import { ENDPOINT_PROTOCOL, type ProtocolName } from '../core/protocols.js';
import { connect } from '../transport/connect.js';
import { imapGreetingStatus } from '../transport/greeting-kind.js';
import { Transcript } from '../transport/transcript.js';
import { ENDPOINT_HOST, ENDPOINT_SECURITY, ENDPOINTS, type EndpointName, type LabPorts } from './ports.js';
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
export async function readGreeting(endpoint: EndpointName, port: number, ca: string | Buffer, timeoutMs = 3000): Promise<string> {
  const kind = greetingKind(endpoint);
  const connection = await connect({
    // Plain IMAP/POP3 listen on 127.0.0.2, the rest on 127.0.0.1 (see ENDPOINT_HOST).
    host: ENDPOINT_HOST[endpoint],
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
  /** endpoint -> last problem, for endpoints that never greeted properly */
  problems: Partial<Record<EndpointName, string>>;
}

/**
 * Ready means every greeting was read on every port (LAB-NOTES 3: Dovecot
 * binds before its auth process is up, so a TCP connect proves nothing).
 * Retries until `deadlineMs` has passed; `stillRunning` lets it stop early
 * when a daemon died.
 */
export async function waitForGreetings(
  ports: LabPorts,
  caFile: string,
  deadlineMs: number,
  stillRunning: () => Promise<boolean> = async () => true,
): Promise<ReadinessResult> {
  const ca = readFileSync(caFile);
  const started = Date.now();
  const pending = new Set<EndpointName>(ENDPOINTS);
  const problems: Partial<Record<EndpointName, string>> = {};
  let delay = 50;
  for (;;) {
    for (const endpoint of [...pending]) {
      try {
        const text = await readGreeting(endpoint, ports[endpoint], ca);
        if (isReadyGreeting(greetingKind(endpoint), text)) {
          pending.delete(endpoint);
          delete problems[endpoint];
        } else {
          problems[endpoint] = `unexpected greeting ${JSON.stringify(text.trim())}`;
        }
      } catch (err) {
        problems[endpoint] = (err as Error).message;
      }
    }
    if (pending.size === 0) return { ready: true, problems };
    if (Date.now() - started > deadlineMs || !(await stillRunning())) return { ready: false, problems };
    await sleep(delay);
    delay = Math.min(delay * 2, 500);
  }
}
