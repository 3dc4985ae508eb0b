/**
 * IMAP UIDs differ from run to run (a message delivered to INBOX gets the next UID there), so a recorded
 * "UID STORE 14" may name another message in the replay. The replay maps each recorded UID to the one its own
 * server answered for the same command (APPENDUID, COPYUID, a UID SEARCH result), never by guessing: a line that
 * names a UID no earlier answer named is not replayed.
 */

export interface UidSource {
  /** The mailbox the UIDs belong to. */
  readonly mailbox: string;
  readonly uids: readonly number[];
}

const MAILBOX = String.raw`("(?:[^"\\]|\\.)*"|\S+)`;

function unquote(name: string): string {
  return /^".*"$/.test(name) ? name.slice(1, -1).replace(/\\(["\\])/g, '$1') : name;
}

/** The mailbox a SELECT or EXAMINE line opens. */
export function selectedBy(line: string): string | undefined {
  const m = new RegExp(`^\\S+ (?:SELECT|EXAMINE) ${MAILBOX}`, 'i').exec(line);
  return m === null ? undefined : unquote(m[1]!);
}

/** The numbers of an IMAP sequence set ("1:3,7"); undefined for "*" or a set too large to be a run's own. */
export function expandSet(set: string): number[] | undefined {
  const out: number[] = [];
  for (const part of set.split(',')) {
    const m = /^(\d+)(?::(\d+))?$/.exec(part);
    if (m === null) return undefined;
    const a = Number(m[1]);
    const b = Number(m[2] ?? m[1]);
    if (Math.abs(b - a) > 10_000) return undefined;
    for (let n = Math.min(a, b); n <= Math.max(a, b); n++) out.push(n);
  }
  return out;
}

/**
 * Which UIDs a command's answer names, and in which mailbox: APPEND (APPENDUID), UID COPY / UID MOVE (COPYUID, the
 * destination's UIDs) and UID SEARCH (the selected mailbox's). Undefined for any other command.
 */
export function answerUids(line: string, answer: readonly string[], selected: string | undefined): UidSource | undefined {
  const append = new RegExp(`^\\S+ APPEND ${MAILBOX}`, 'i').exec(line);
  if (append !== null) {
    const code = answer.map((l) => /\[APPENDUID \d+ ([\d:,]+)\]/i.exec(l)).find((m) => m !== null);
    return { mailbox: unquote(append[1]!), uids: code ? (expandSet(code[1]!) ?? []) : [] };
  }
  const copy = new RegExp(`^\\S+ UID (?:COPY|MOVE) \\S+ ${MAILBOX}$`, 'i').exec(line);
  if (copy !== null) {
    const code = answer.map((l) => /\[COPYUID \d+ \S+ ([\d:,]+)\]/i.exec(l)).find((m) => m !== null);
    return { mailbox: unquote(copy[1]!), uids: code ? (expandSet(code[1]!) ?? []) : [] };
  }
  if (/^\S+ UID SEARCH /i.test(line) && selected !== undefined) {
    const uids = answer.flatMap((l) => (/^\* SEARCH\b/i.test(l) ? l.slice(8).trim().split(/\s+/).filter(Boolean).map(Number) : []));
    return { mailbox: selected, uids };
  }
  return undefined;
}

const NAMING = [/^(\S+ UID (?:FETCH|STORE|EXPUNGE|COPY|MOVE) )(\S+)/i, /^(\S+ UID SEARCH UID )(\S+)/i];

/** The UID set a line names in its selected mailbox ("UID FETCH 14 …", "UID SEARCH UID 14"), if any. */
export function uidsNamed(line: string): { readonly set: string; readonly uids: number[] | undefined } | undefined {
  for (const re of NAMING) {
    const m = re.exec(line);
    if (m !== null) return { set: m[2]!, uids: expandSet(m[2]!) };
  }
  return undefined;
}

export const uidKey = (user: string, mailbox: string): string => `${user}\u0000${mailbox.toUpperCase() === 'INBOX' ? 'INBOX' : mailbox}`;

/** Recorded UID → the replay's UID, per account and mailbox, learnt from answers to the same command on both sides. */
export class UidMap {
  readonly #maps = new Map<string, Map<number, number>>();

  /** Pairs the recorded answer's UIDs with the replay's, in order; false when their counts differ (nothing learnt). */
  learn(key: string, recorded: readonly number[], replayed: readonly number[]): boolean {
    if (recorded.length !== replayed.length) return false;
    let map = this.#maps.get(key);
    if (map === undefined) this.#maps.set(key, (map = new Map()));
    for (const [i, uid] of recorded.entries()) map.set(uid, replayed[i]!);
    return true;
  }

  /** The line with its recorded UIDs replaced by the replay's; throws for a UID no answer mapped. */
  rewrite(line: string, key: string): string {
    const named = uidsNamed(line);
    if (named === undefined) return line;
    const map = this.#maps.get(key);
    const mapped = (named.uids ?? []).map((uid) => {
      const to = map?.get(uid);
      if (to === undefined) throw new Error(`UID ${uid} of ${key.split('\u0000')[1]} was named by no answer of the replay: ${line}`);
      return to;
    });
    if (mapped.every((uid, i) => uid === named.uids![i])) return line;
    const at = line.indexOf(named.set, line.indexOf(' UID ') + 5);
    return `${line.slice(0, at)}${mapped.join(',')}${line.slice(at + named.set.length)}`;
  }
}
