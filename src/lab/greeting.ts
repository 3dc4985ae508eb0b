import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { readFileSync } from 'node:fs';
import { ENDPOINT_PROTOCOL, type ProtocolName } from '../core/protocols.js';
import { imapGreetingStatus } from '../transport/greeting-kind.js';
import { ENDPOINT_HOST, ENDPOINT_SECURITY, ENDPOINTS, type EndpointName, type LabPorts } from './ports.js';
import { sleep } from './procs.js';

export type GreetingKind = ProtocolName;

export function greetingKind(endpoint: EndpointName): GreetingKind {
  return ENDPOINT_PROTOCOL[endpoint];
}

const MAX_GREETING_BYTES = 4096;

/** Is this complete greeting text a "ready" answer for the protocol? */
export function isReadyGreeting(kind: GreetingKind, text: string): boolean {
  const lines = text.split('\r\n').filter((l) => l !== '');
  if (kind === 'imap') return imapGreetingStatus(lines[0] ?? '') === 'OK';
  if (kind === 'pop3') return lines[0]?.startsWith('+OK') ?? false;
  // SMTP: a multi-line 220 ends with "220 " (RFC 5321 §4.2.1).
  return lines.length > 0 && lines.every((l) => l.startsWith('220')) && (lines.at(-1)?.startsWith('220 ') ?? false);
}

function greetingComplete(kind: GreetingKind, text: string): boolean {
  if (!text.includes('\r\n')) return false;
  if (kind !== 'smtp') return true;
  // SMTP continuation lines are "xyz-"; the last line is "xyz ".
  return text.split('\r\n').some((l) => /^\d{3}( |$)/.test(l));
}

/**
 * Connect to one endpoint (implicit TLS verified against the lab CA where the
 * endpoint is TLS) and read the server's first complete greeting. Resolves
 * with the greeting text; rejects on connect/TLS error or timeout.
 */
export function readGreeting(endpoint: EndpointName, port: number, ca: string | Buffer, timeoutMs = 3000): Promise<string> {
  const kind = greetingKind(endpoint);
  // Plain IMAP/POP3 listen on 127.0.0.2, the rest on 127.0.0.1 (see ENDPOINT_HOST).
  const host = ENDPOINT_HOST[endpoint];
  return new Promise((resolve, reject) => {
    let buffer = '';
    let settled = false;
    const socket: Socket = ENDPOINT_SECURITY[endpoint] === 'tls' ? tlsConnect({ host, port, ca, servername: 'localhost' }) : netConnect({ host, port });
    const finish = (err: Error | null, text?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(text ?? '');
    };
    const timer = setTimeout(() => finish(new Error(`no greeting on ${host}:${port} within ${timeoutMs} ms`)), timeoutMs);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      if (greetingComplete(kind, buffer)) finish(null, buffer);
      else if (buffer.length > MAX_GREETING_BYTES) finish(new Error(`greeting on ${host}:${port} too long`));
    });
    socket.on('error', (err) => finish(err));
    socket.on('close', () => finish(new Error(`${host}:${port} closed before a greeting (got ${JSON.stringify(buffer)})`)));
  });
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
