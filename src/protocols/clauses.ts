import { clauseOfCommand, type CommandClauses } from './command-clauses.js';
import { IMAP_COMMAND_CLAUSES } from './imap/clauses.js';
import { POP3_COMMAND_CLAUSES } from './pop3/clauses.js';
import { SMTP_COMMAND_CLAUSES } from './smtp/clauses.js';

/** One table per protocol; the runner asks by protocol name and never names a command itself. */
const TABLES = {
  pop3: POP3_COMMAND_CLAUSES,
  imap: IMAP_COMMAND_CLAUSES,
  smtp: SMTP_COMMAND_CLAUSES,
} as const satisfies Record<string, CommandClauses>;

export type ClauseProtocol = keyof typeof TABLES;

/** The clause that defines `command` in `protocol`, or undefined when unknown. */
export function clauseOfRefusedCommand(protocol: ClauseProtocol | undefined, command: string | undefined): string | undefined {
  if (protocol === undefined || command === undefined) return undefined;
  return clauseOfCommand(TABLES[protocol], command);
}
