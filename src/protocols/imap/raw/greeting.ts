import { quoted } from '../../../core/text.js';
import type { Connection } from '../../../transport/connection.js';
import { wrongProtocolError } from '../../../transport/greeting-kind.js';
import { ImapRawProtocolError } from './errors.js';
import type { ResponseFramer } from './framer.js';
import { parseResponse, type ParsedResponse } from './response.js';

export interface ImapGreeting {
  readonly status: 'OK' | 'PREAUTH';
  /** The response code without brackets, e.g. "CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED". */
  readonly code?: string;
  readonly text: string;
  /** The whole greeting line as received. */
  readonly raw: string;
}

/**
 * Read the greeting (RFC 3501 §7.1): "* OK" or "* PREAUTH" start a session,
 * "* BYE" refuses it (EIMAP_BYE), anything else is EIMAP_GREETING. The
 * connection is destroyed on either error.
 */
export async function readGreeting(connection: Connection, framer: ResponseFramer): Promise<ImapGreeting> {
  const started = performance.now();
  let framed;
  // A greeting with a literal could otherwise trickle its lines for ever.
  const budget = connection.replyBudget('(greeting)', 'reply', connection.timeouts.greeting);
  for (;;) {
    const line = await connection.readLine({ phase: framer.midResponse ? 'command' : 'greeting', log: false, budget });
    framed = framer.push(line);
    if (framed !== undefined) break;
  }
  // readGreeting() would log the line itself; we read with log: false to
  // summarise literals, so record the phase time here.
  connection.timings.greeting = Math.round(performance.now() - started);
  const raw = framed.text;
  const wrong = wrongProtocolError('imap', raw, connection);
  if (wrong !== undefined) {
    connection.destroy();
    throw wrong;
  }
  let parsed: ParsedResponse | undefined;
  try {
    parsed = parseResponse(framed, '(greeting)');
  } catch {
    parsed = undefined;
  }
  const kind = parsed?.type === 'untagged' ? parsed.response.kind : undefined;
  if (parsed?.type === 'untagged' && (kind === 'OK' || kind === 'PREAUTH')) {
    const { code, text } = parsed.response;
    return { status: kind, ...(code === undefined ? {} : { code }), text: text ?? '', raw };
  }
  connection.destroy();
  if (parsed?.type === 'untagged' && kind === 'BYE') {
    throw new ImapRawProtocolError('EIMAP_BYE', `${connection.endpoint} refused the session in its greeting: ${raw}`, {
      command: '(greeting)',
      response: raw,
    });
  }
  throw new ImapRawProtocolError(
    'EIMAP_GREETING',
    `${connection.endpoint} sent no IMAP greeting ("* OK", "* PREAUTH" or "* BYE"): ${quoted(raw, 120)}` +
      (connection.security === 'none' ? ' (if this port expects implicit TLS, use security: tls)' : ''),
    { command: '(greeting)', response: raw },
  );
}
