import type { CommandClauses } from '../command-clauses.js';

/** Where each SMTP command mailprobe sends is defined (the command names its errors carry, e.g. "MAIL FROM", "CONN"). */
export const SMTP_COMMAND_CLAUSES: CommandClauses = {
  CONN: 'RFC 5321 §3.1: a 554 response MAY be given in the initial connection opening message instead of the 220',
  EHLO: 'RFC 5321 §4.1.1.1: EHLO',
  HELO: 'RFC 5321 §4.1.1.1: HELO',
  'MAIL FROM': 'RFC 5321 §4.1.1.2: MAIL',
  MAIL: 'RFC 5321 §4.1.1.2: MAIL',
  'RCPT TO': 'RFC 5321 §4.1.1.3: RCPT',
  RCPT: 'RFC 5321 §4.1.1.3: RCPT',
  DATA: 'RFC 5321 §4.1.1.4: DATA',
  RSET: 'RFC 5321 §4.1.1.5: RSET',
  NOOP: 'RFC 5321 §4.1.1.9: NOOP',
  QUIT: 'RFC 5321 §4.1.1.10: QUIT',
  STARTTLS: 'RFC 3207 §4: STARTTLS',
  AUTH: 'RFC 4954 §4: AUTH',
};
