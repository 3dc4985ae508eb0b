/**
 * Turns a scenario's recorded transcript (the JSON report's steps and cleanup steps) into the replay's plan: the
 * connections the harness opened, in order, and the client lines it sent on each, grouped where it sent several
 * before an answer (pipelined as recorded). A scenario whose transcript cannot be replayed faithfully gets a reason
 * instead of a plan; nothing is guessed.
 */

export type Protocol = 'pop3' | 'imap' | 'smtp';
export type Security = 'tls' | 'starttls' | 'none';

/** One transcript entry of the JSON report. */
export interface TranscriptEntry {
  readonly at: number;
  readonly direction: 'client' | 'server' | 'info';
  readonly session: string;
  readonly text: string;
  readonly tls?: boolean;
}

export interface ReportStep {
  readonly name: string;
  readonly action: string;
  readonly transcript?: readonly TranscriptEntry[];
}

export interface ReportScenario {
  readonly id: string;
  readonly file: string;
  readonly durationMs: number;
  readonly steps: readonly ReportStep[];
  readonly cleanup: readonly ReportStep[];
}

/** A credential a replayed line needs, resolved from the lab's secrets when the replay runs. */
export interface Credentials {
  readonly user: string;
  /** The environment variable (from the lab's secrets file) holding the password: never the password itself. */
  readonly passwordEnv: string;
}

export type ReplayEvent =
  | { readonly kind: 'open'; readonly conn: number; readonly host: string; readonly port: number; readonly security: Security; readonly protocol: Protocol }
  /** Lines written at once; one answer is read for each, in order. */
  | { readonly kind: 'send'; readonly conn: number; readonly lines: readonly string[] }
  /** SMTP message data of the recorded size (octets, CRLF lines, dot-stuffed lines), then its one answer. */
  | { readonly kind: 'data'; readonly conn: number; readonly octets: number; readonly lines: number; readonly stuffed: number }
  | { readonly kind: 'tls'; readonly conn: number }
  | { readonly kind: 'close'; readonly conn: number };

/** A POP3 delivery wait: the poll connection to repeat until its maildrop listing is as long as the recorded one. */
export interface PollGroup {
  readonly events: readonly ReplayEvent[];
  /** Lines of the recorded successful poll's LIST answer (status and "." included). */
  readonly listLines: number;
  readonly recordedPolls: number;
}

export type PlanItem = { readonly kind: 'event'; readonly event: ReplayEvent } | { readonly kind: 'poll'; readonly group: PollGroup };

export interface ReplayPlan {
  readonly id: string;
  readonly items: readonly PlanItem[];
  /** Credentials per connection number, for lines recorded as "[redacted]". */
  readonly credentials: Readonly<Record<number, Credentials>>;
  readonly runId: string;
  /** What the harness did, counted from the same transcript. */
  readonly recorded: { readonly clientLines: number; readonly connections: number; readonly polls: number };
  readonly recordedMs: number;
}

export interface NotReplayed {
  readonly id: string;
  readonly reason: string;
}

export interface PlanContext {
  readonly runId: string;
  /** The account of a session (a scenario's `sessions:` entry) or of a step (an SMTP step's `with.account`). */
  readonly credentialsFor: (session: string, step: ReportStep) => Credentials | undefined;
  /** The account whose user name a line sends in clear (an IMAP LOGIN), where the session names none. */
  readonly credentialsOfUser?: (user: string) => Credentials | undefined;
  /** The endpoint's protocol, from the target's port table. */
  readonly protocolOf: (host: string, port: number) => Protocol | undefined;
}

const CONNECTING = /^connecting to (.+):(\d+), security (tls|starttls|none)$/;
const MESSAGE_DATA = /^\[message data: (\d+) octets, (\d+) lines(?:, (\d+) dot-stuffed)?; not shown\]$/;

export function planScenario(scenario: ReportScenario, context: PlanContext): ReplayPlan | NotReplayed {
  const steps = [...scenario.steps, ...scenario.cleanup];
  const open = new Map<string, number>();
  const protocols = new Map<number, Protocol>();
  const credentials: Record<number, Credentials> = {};
  /** The recorded lines of each connection in order, as events; grouped into polls afterwards. */
  const events: Array<{ event: ReplayEvent; step: number; session: string }> = [];
  let connections = 0;
  let clientLines = 0;
  let pendingData: { octets: number; lines: number; stuffed: number } | undefined;
  let lastSend: { conn: number; lines: string[] } | undefined;
  const listLines = new Map<number, number>();
  let listing: { conn: number; lines: number } | undefined;

  for (const [stepIndex, step] of steps.entries()) {
    for (const entry of step.transcript ?? []) {
      const conn = open.get(entry.session);
      if (entry.direction === 'info') {
        const connecting = CONNECTING.exec(entry.text);
        if (connecting !== null) {
          const [, host = '', port = '', security = 'none'] = connecting;
          const protocol = context.protocolOf(host, Number(port));
          if (protocol === undefined) return { id: scenario.id, reason: `a connection to ${host}:${port}, not an endpoint of the target` };
          if (conn !== undefined) events.push({ event: { kind: 'close', conn }, step: stepIndex, session: entry.session });
          const n = connections++;
          open.set(entry.session, n);
          protocols.set(n, protocol);
          const account = context.credentialsFor(entry.session, step);
          if (account !== undefined) credentials[n] = account;
          events.push({ event: { kind: 'open', conn: n, host, port: Number(port), security: security as Security, protocol }, step: stepIndex, session: entry.session });
          lastSend = undefined;
          continue;
        }
        if (entry.text.startsWith('TLS established (starttls)') && conn !== undefined) {
          events.push({ event: { kind: 'tls', conn }, step: stepIndex, session: entry.session });
          lastSend = undefined;
          continue;
        }
        const data = MESSAGE_DATA.exec(entry.text);
        if (data !== null) pendingData = { octets: Number(data[1]), lines: Number(data[2]), stuffed: Number(data[3] ?? 0) };
        continue;
      }
      if (conn === undefined)
        return { id: scenario.id, reason: `session "${entry.session}" has no recorded endpoint or TLS mode (a library client's transcript), so its connection cannot be opened alike` };
      if (entry.direction === 'server') {
        lastSend = undefined;
        if (listing !== undefined && listing.conn === conn) {
          listing.lines++;
          if (entry.text === '.' || !entry.text.startsWith('+OK') && listing.lines === 1) {
            listLines.set(conn, listing.lines);
            listing = undefined;
          }
        }
        continue;
      }
      clientLines++;
      if (/\(\* \d+B literal \*\)|\(\* value hidden \*\)/.test(entry.text))
        return { id: scenario.id, reason: 'a line whose content the transcript leaves out (a literal or hidden value)' };
      if (protocols.get(conn) === 'smtp' && entry.text === '.' && pendingData !== undefined) {
        events.push({ event: { kind: 'data', conn, ...pendingData }, step: stepIndex, session: entry.session });
        pendingData = undefined;
        lastSend = undefined;
        continue;
      }
      const login = /^\S+ LOGIN (\S+) \[redacted\]$/i.exec(entry.text);
      if (login !== null && credentials[conn] === undefined) {
        const account = context.credentialsOfUser?.(login[1]!.replace(/^"(.*)"$/, '$1'));
        if (account !== undefined) credentials[conn] = account;
      }
      if (protocols.get(conn) === 'pop3' && entry.text === 'LIST') listing = { conn, lines: 0 };
      if (lastSend !== undefined && lastSend.conn === conn) lastSend.lines.push(entry.text);
      else {
        lastSend = { conn, lines: [entry.text] };
        events.push({ event: { kind: 'send', conn, lines: lastSend.lines }, step: stepIndex, session: entry.session });
      }
    }
  }
  for (const n of new Set(open.values())) events.push({ event: { kind: 'close', conn: n }, step: steps.length, session: '' });

  // A delivery wait's polls (sessions NAME~poll of one step) become one group: its last, successful poll, repeated.
  const items: PlanItem[] = [];
  let polls = 0;
  for (let i = 0; i < events.length; ) {
    const e = events[i]!;
    if (!(e.event.kind === 'open' && e.session.endsWith('~poll'))) {
      items.push({ kind: 'event', event: e.event });
      i++;
      continue;
    }
    const byConn = new Map<number, ReplayEvent[]>();
    let j = i;
    for (; j < events.length && events[j]!.step === e.step && events[j]!.session === e.session; j++) {
      const { event } = events[j]!;
      if (!byConn.has(event.conn)) byConn.set(event.conn, []);
      byConn.get(event.conn)!.push(event);
    }
    const conns = [...byConn.keys()];
    const last = conns[conns.length - 1]!;
    const lines = listLines.get(last);
    if (lines === undefined) return { id: scenario.id, reason: 'a delivery poll without a recorded LIST answer' };
    polls += conns.length;
    // The poll ends with its close; the recorded close of the session came at the next open, or at the end.
    const group = byConn.get(last)!.filter((ev) => ev.kind !== 'close');
    items.push({ kind: 'poll', group: { events: [...group, { kind: 'close', conn: last }], listLines: lines, recordedPolls: conns.length } });
    i = j;
  }
  return { id: scenario.id, items, credentials, runId: context.runId, recorded: { clientLines, connections, polls }, recordedMs: scenario.durationMs };
}
