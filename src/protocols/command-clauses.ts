/**
 * Which RFC clause defines a command, for the implicit "the server accepts it"
 * check: when a server refuses a command, the verdict cites the clause of
 * that command (RETR → RFC 1939 §5), never an unrelated clause of the
 * scenario. Each protocol keeps its own table beside its client
 * (src/protocols/<p>/clauses.ts); this module only looks commands up.
 */
export type CommandClauses = Readonly<Record<string, string>>;

/**
 * The clause for a command line as the clients record it: "RETR 3",
 * "UID MOVE 4 Archive", "A003 SELECT INBOX", "MAIL FROM", "PASS [redacted]".
 * Two-word verbs (UID MOVE, MAIL FROM) are tried before one-word verbs; an
 * IMAP tag in front is skipped. Undefined for a command the table lacks.
 */
export function clauseOfCommand(table: CommandClauses, command: string): string | undefined {
  const words = command
    .trim()
    .toUpperCase()
    .split(/\s+/)
    .filter((w) => w !== '');
  for (const start of [0, 1]) {
    const [first, second] = [words[start], words[start + 1]];
    if (first === undefined) break;
    const pair = second === undefined ? undefined : table[`${first} ${second.replace(/:.*$/, '')}`];
    const clause = pair ?? table[first.replace(/:.*$/, '')];
    if (clause !== undefined) return clause;
  }
  return undefined;
}
