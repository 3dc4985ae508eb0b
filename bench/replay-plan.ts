import { answerUids, selectedBy, uidKey, uidsNamed } from './replay-uids.js';

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
  /**
   * Lines written at once; one answer is read for each, in order. `recordedUids`, by line index: the UIDs the
   * recorded answer named (APPENDUID, COPYUID, SEARCH), which the replay pairs with its own answer's.
   */
  | {
      readonly kind: 'send';
      readonly conn: number;
      readonly lines: readonly string[];
      readonly recordedUids?: Readonly<Record<number, readonly number[]>>;
      /** IMAP, by line index: the recorded tagged status (OK, NO, BAD), which the replay's must equal. */
      readonly recordedStatus?: Readonly<Record<number, string>>;
    }
  /**
   * An IMAP APPEND of a message of the recorded size and Message-ID: COMMAND ("A APPEND box (flags)"), then the
   * literal, synchronizing (waiting for "+") when the recorded answer began with a continuation request.
   */
  | {
      readonly kind: 'append';
      readonly conn: number;
      readonly command: string;
      readonly octets: number;
      readonly messageId: string;
      readonly synchronizing: boolean;
      readonly recordedUids: readonly number[];
    }
  /** SMTP message data of the recorded size (octets, CRLF lines, dot-stuffed lines), then its one answer. */
  | { readonly kind: 'data'; readonly conn: number; readonly octets: number; readonly lines: number; readonly stuffed: number; readonly messageId?: string }
  | { readonly kind: 'tls'; readonly conn: number }
  /** IMAP IDLE: wait for the pushed "* N EXISTS" the harness waited for, before the recorded DONE. */
  | { readonly kind: 'await-exists'; readonly conn: number }
  | { readonly kind: 'close'; readonly conn: number };

/** A POP3 delivery wait: the poll connection to repeat until its maildrop listing is as long as the recorded one. */
export interface PollGroup {
  readonly events: readonly ReplayEvent[];
  /** Lines of the recorded successful poll's LIST answer (status and "." included). */
  readonly listLines: number;
  readonly recordedPolls: number;
}

/**
 * An IMAP delivery wait (imap.wait-for): NOOP and UID SEARCH, repeated until the search finds as many UIDs as the
 * recorded last poll did; between attempts the harness waits its interval and sends one more NOOP, and so does the replay.
 */
export interface ImapPollGroup {
  readonly attempt: readonly ReplayEvent[];
  readonly between: readonly ReplayEvent[];
  readonly wantUids: number;
  readonly recordedPolls: number;
}

export type PlanItem =
  | { readonly kind: 'event'; readonly event: ReplayEvent }
  | { readonly kind: 'poll'; readonly group: PollGroup }
  | { readonly kind: 'imap-poll'; readonly group: ImapPollGroup };

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
const MESSAGE_DATA = /^\[message data: (\d+) octets, (\d+) lines(?:, (\d+) dot-stuffed)?(?:, Message-ID (<[^>\s]+>))?; not shown\]$/;
const APPEND_LITERAL = /^\[literal: (\d+) octets(?:, Message-ID (<[^>\s]+>))?; not shown\]$/;
const APPEND_LINE = /^(\S+ APPEND .*) "\(\* (\d+)B literal \*\)"$/i;

/** How many connections a scenario's recorded transcript opened (its "connecting to …" lines, steps and cleanup). */
export function connectionsOf(scenario: ReportScenario): number {
  let count = 0;
  for (const step of [...scenario.steps, ...scenario.cleanup])
    for (const entry of step.transcript ?? []) if (entry.direction === 'info' && CONNECTING.test(entry.text)) count++;
  return count;
}

/** The status word of a tagged IMAP answer line ("A OK …" → OK), if it is one. */
export function imapStatus(line: string | undefined): string | undefined {
  return line === undefined ? undefined : /^(?![*+] )\S+ (OK|NO|BAD)\b/i.exec(line)?.[1]?.toUpperCase();
}

/** imapflow's AUTHENTICATE PLAIN response with the password hidden: base64 of "\0user\0(* value hidden *)". */
export function hiddenPlainUser(line: string): string | undefined {
  if (!/^[A-Za-z0-9+/]+=*$/.test(line)) return undefined;
  const m = /^\0([^\0]*)\0\(\* value hidden \*\)$/.exec(Buffer.from(line, 'base64').toString('utf8'));
  return m === null ? undefined : m[1];
}

interface PlanEvent {
  event: ReplayEvent;
  step: number;
  session: string;
  imapPoll?: ImapPollGroup;
}

/**
 * Each imap.wait-for step's polls (NOOP, UID SEARCH; after a miss one more NOOP) become one group, in place: its
 * last attempt, repeated by the replay until its search finds what the recorded last one found.
 */
function imapPolls(events: PlanEvent[], steps: readonly ReportStep[]): { ok: true } | { reason: string } {
  for (const [stepIndex, step] of steps.entries()) {
    if (step.action !== 'imap.wait-for') continue;
    const isLine = (e: PlanEvent, re: RegExp) => e.step === stepIndex && e.event.kind === 'send' && e.event.lines.length === 1 && re.test(e.event.lines[0]!);
    const first = events.findIndex((e) => isLine(e, /^\S+ NOOP$/i));
    const searches = events.flatMap((e, i) => (isLine(e, /^\S+ UID SEARCH /i) ? [i] : []));
    const last = searches.at(-1);
    if (first === -1 || last === undefined || last < first) return { reason: `the delivery wait "${step.name}" has no recorded NOOP and UID SEARCH poll` };
    const search = events[last]!;
    const noop = events[last - 1]!;
    if (!isLine(noop, /^\S+ NOOP$/i) || noop.event.conn !== search.event.conn)
      return { reason: `the delivery wait "${step.name}" does not end with NOOP, UID SEARCH` };
    // The NOOP the harness sends after a missed search and its interval: the one that follows the first search.
    const afterMiss = searches.length > 1 ? events[searches[0]! + 1] : undefined;
    const between = afterMiss !== undefined && isLine(afterMiss, /^\S+ NOOP$/i) ? afterMiss : undefined;
    const wantUids = (search.event.kind === 'send' ? search.event.recordedUids?.[0] : undefined)?.length ?? 0;
    const group: ImapPollGroup = {
      attempt: [noop.event, search.event],
      between: between === undefined ? [noop.event] : [between.event],
      wantUids,
      recordedPolls: searches.filter((i) => i >= first).length,
    };
    events.splice(first, last - first + 1, { ...search, imapPoll: group });
  }
  return { ok: true };
}

export function planScenario(scenario: ReportScenario, context: PlanContext): ReplayPlan | NotReplayed {
  const steps = [...scenario.steps, ...scenario.cleanup];
  const open = new Map<string, number>();
  const protocols = new Map<number, Protocol>();
  const credentials: Record<number, Credentials> = {};
  /** The recorded lines of each connection in order, as events; grouped into polls afterwards. */
  const events: PlanEvent[] = [];
  let connections = 0;
  let clientLines = 0;
  let pendingData: { octets: number; lines: number; stuffed: number; messageId?: string } | undefined;
  const pendingLiteral = new Map<number, { octets: number; messageId: string | undefined }>();
  // UID bookkeeping, on the recorded side: which mailbox each connection has selected, the UIDs recorded answers
  // named per account and mailbox, and the client line whose answer is being read on each connection.
  const selected = new Map<number, string>();
  const known = new Map<string, Set<number>>();
  const answering = new Map<number, { line: string; selected: string | undefined; answer: string[]; record: (uids: number[], answer: string[]) => void }>();
  const finish = (conn: number): void => {
    const a = answering.get(conn);
    answering.delete(conn);
    if (a === undefined) return;
    const user = credentials[conn]?.user;
    const source = answerUids(a.line, a.answer, a.selected);
    if (source === undefined || user === undefined) return a.record([], a.answer);
    const key = uidKey(user, source.mailbox);
    if (!known.has(key)) known.set(key, new Set());
    for (const uid of source.uids) known.get(key)!.add(uid);
    a.record([...source.uids], a.answer);
  };
  let lastSend: { conn: number; lines: string[]; recordedUids: Record<number, number[]>; recordedStatus: Record<number, string> } | undefined;
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
          if (conn !== undefined) {
            finish(conn);
            events.push({ event: { kind: 'close', conn }, step: stepIndex, session: entry.session });
          }
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
        if (data !== null)
          pendingData = { octets: Number(data[1]), lines: Number(data[2]), stuffed: Number(data[3] ?? 0), ...(data[4] ? { messageId: data[4] } : {}) };
        const literal = APPEND_LITERAL.exec(entry.text);
        if (literal !== null && conn !== undefined) pendingLiteral.set(conn, { octets: Number(literal[1]), messageId: literal[2] });
        continue;
      }
      if (conn === undefined)
        return { id: scenario.id, reason: `session "${entry.session}" has no recorded endpoint or TLS mode (a library client's transcript), so its connection cannot be opened alike` };
      if (entry.direction === 'server') {
        lastSend = undefined;
        answering.get(conn)?.answer.push(entry.text);
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
      const isImap = protocols.get(conn) === 'imap';
      // An AUTHENTICATE continuation belongs to the command it continues: its answer is that command's.
      const pending = isImap ? answering.get(conn)?.answer : undefined;
      const continuing = pending !== undefined && pending.some((l) => l.startsWith('+')) && imapStatus(pending.at(-1)) === undefined;
      if (!continuing) finish(conn);
      const hiddenUser = isImap ? hiddenPlainUser(entry.text) : undefined;
      if (hiddenUser !== undefined && credentials[conn] === undefined) {
        const account = context.credentialsOfUser?.(hiddenUser);
        if (account !== undefined) credentials[conn] = account;
      }
      const append = isImap ? APPEND_LINE.exec(entry.text) : null;
      if (append !== null) {
        const literal = pendingLiteral.get(conn);
        pendingLiteral.delete(conn);
        if (literal === undefined || literal.messageId === undefined || literal.octets !== Number(append[2]))
          return { id: scenario.id, reason: 'an APPEND whose message (size and Message-ID) the transcript does not record' };
        const event = {
          kind: 'append' as const,
          conn,
          command: append[1]!,
          octets: literal.octets,
          messageId: literal.messageId,
          synchronizing: false,
          recordedUids: [] as readonly number[],
        };
        events.push({ event, step: stepIndex, session: entry.session });
        answering.set(conn, {
          line: entry.text,
          selected: selected.get(conn),
          answer: [],
          record: (uids, answer) => {
            Object.assign(event, { recordedUids: uids, synchronizing: answer[0]?.startsWith('+') === true });
          },
        });
        lastSend = undefined;
        continue;
      }
      if (/\(\* \d+B literal \*\)|\(\* value hidden \*\)/.test(entry.text))
        return { id: scenario.id, reason: 'a line whose content the transcript leaves out (a literal or hidden value)' };
      // The harness ended its IDLE once the server pushed EXISTS: the replay waits for that push too.
      if (continuing && /^DONE$/i.test(entry.text) && pending.some((l) => /^\* \d+ EXISTS$/i.test(l))) {
        events.push({ event: { kind: 'await-exists', conn }, step: stepIndex, session: entry.session });
        lastSend = undefined;
      }
      if (isImap) {
        const named = uidsNamed(entry.text);
        if (named !== undefined) {
          const user = credentials[conn]?.user;
          const box = selected.get(conn);
          const seen = user === undefined || box === undefined ? undefined : known.get(uidKey(user, box));
          const unknown = named.uids === undefined ? named.set : named.uids.find((uid) => seen?.has(uid) !== true);
          if (unknown !== undefined)
            return { id: scenario.id, reason: `UID ${unknown} in "${entry.text}" was named by no earlier server answer (APPENDUID, COPYUID, SEARCH), so it cannot be mapped` };
        }
        const box = selectedBy(entry.text);
        if (box !== undefined) selected.set(conn, box);
      }
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
      let send: { conn: number; lines: string[]; recordedUids: Record<number, number[]>; recordedStatus: Record<number, string> };
      if (lastSend !== undefined && lastSend.conn === conn) {
        send = lastSend;
        send.lines.push(entry.text);
      } else {
        send = lastSend = { conn, lines: [entry.text], recordedUids: {}, recordedStatus: {} };
        events.push({
          event: { kind: 'send', conn, lines: send.lines, ...(isImap ? { recordedUids: send.recordedUids, recordedStatus: send.recordedStatus } : {}) },
          step: stepIndex,
          session: entry.session,
        });
      }
      if (isImap && !continuing) {
        const index = send.lines.length - 1;
        const box = selected.get(conn);
        answering.set(conn, {
          line: entry.text,
          selected: box,
          answer: [],
          record: (uids, answer) => {
            if (answerUids(entry.text, [], box) !== undefined) send.recordedUids[index] = uids;
            const status = imapStatus(answer.at(-1));
            if (status !== undefined) send.recordedStatus[index] = status;
          },
        });
      }
    }
  }
  for (const n of new Set(open.values())) {
    finish(n);
    events.push({ event: { kind: 'close', conn: n }, step: steps.length, session: '' });
  }
  const grouped = imapPolls(events, steps);
  if ('reason' in grouped) return { id: scenario.id, reason: grouped.reason };

  // A delivery wait's polls (sessions NAME~poll of one step) become one group: its last, successful poll, repeated.
  const items: PlanItem[] = [];
  let polls = 0;
  for (let i = 0; i < events.length; ) {
    const e = events[i]!;
    if (e.imapPoll !== undefined) {
      items.push({ kind: 'imap-poll', group: e.imapPoll });
      polls += e.imapPoll.recordedPolls;
      i++;
      continue;
    }
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
