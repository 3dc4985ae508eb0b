import type { Socket } from 'node:net';
import type { ProtocolName } from '../core/protocols.js';

/**
 * The plaintext part of a STARTTLS port's dialogue, on a bare socket, up to
 * the server's go-ahead: what the TLS facts need for each extra handshake
 * they make on a STARTTLS port (each on its own connection). Greeting, EHLO
 * for SMTP, then STARTTLS / STLS. Rejects on a refusal, on a close, or when
 * `timeoutMs` passes; the caller owns (and destroys) the socket.
 */
export function starttlsPreamble(protocol: ProtocolName, socket: Socket, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const steps = STEPS[protocol];
  return new Promise<void>((resolve, reject) => {
    let buffered = '';
    let step = 0;
    const finish = (error?: Error): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('error', onError);
      signal?.removeEventListener('abort', onAbort);
      if (error === undefined) resolve();
      else reject(error);
    };
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString('latin1');
      for (let end = buffered.indexOf('\n'); end !== -1; end = buffered.indexOf('\n')) {
        const line = buffered.slice(0, end).replace(/\r$/, '');
        buffered = buffered.slice(end + 1);
        const current = steps[step];
        if (current === undefined) return;
        const verdict = current.judge(line);
        if (verdict === 'more') continue;
        if (verdict === 'no') return finish(new Error(`the server refused the STARTTLS dialogue: ${JSON.stringify(line)}`));
        step += 1;
        const next = steps[step];
        if (next === undefined) return finish();
        socket.write(`${next.send}\r\n`);
      }
    };
    const onClose = (): void => finish(new Error('the server closed the connection before its STARTTLS go-ahead'));
    const onError = (error: Error): void => finish(error);
    const onAbort = (): void => finish(new Error('aborted'));
    const timer = setTimeout(() => finish(new Error(`no STARTTLS go-ahead within ${timeoutMs} ms`)), timeoutMs);
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.once('error', onError);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

type Verdict = 'more' | 'yes' | 'no';
interface Step {
  /** Written when the step before it is done (the first step is the greeting: nothing is sent). */
  readonly send: string;
  readonly judge: (line: string) => Verdict;
}

/** An SMTP reply line: "ddd-" goes on, "ddd " ends it (RFC 5321 §4.2); yes on 2xx. */
const smtpLine = (line: string): Verdict => (line[3] === '-' ? 'more' : /^2/.test(line) ? 'yes' : 'no');

const STEPS: Readonly<Record<ProtocolName, readonly Step[]>> = {
  smtp: [
    { send: '', judge: smtpLine },
    { send: 'EHLO mailprobe.invalid', judge: smtpLine },
    { send: 'STARTTLS', judge: smtpLine },
  ],
  pop3: [
    { send: '', judge: (line) => (line.startsWith('+OK') ? 'yes' : 'no') },
    { send: 'STLS', judge: (line) => (line.startsWith('+OK') ? 'yes' : 'no') },
  ],
  imap: [
    { send: '', judge: (line) => (/^\* OK\b/i.test(line) ? 'yes' : 'no') },
    { send: 'p0 STARTTLS', judge: (line) => (line.startsWith('p0 ') ? (/^p0 OK\b/i.test(line) ? 'yes' : 'no') : 'more') },
  ],
};
