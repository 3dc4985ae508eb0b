import type { CommandClauses } from '../command-clauses.js';

/**
 * Where each POP3 command is defined. RFC 1939 has no numbered subsections:
 * its commands are listed under the state they are valid in (§4
 * AUTHORIZATION, §5 TRANSACTION, §6 UPDATE, §7 optional commands).
 */
export const POP3_COMMAND_CLAUSES: CommandClauses = {
  '(GREETING)': 'RFC 1939 §4: the POP3 server issues a one line greeting',
  STAT: 'RFC 1939 §5: STAT, valid in the TRANSACTION state',
  LIST: 'RFC 1939 §5: LIST, valid in the TRANSACTION state',
  RETR: 'RFC 1939 §5: RETR, valid in the TRANSACTION state',
  DELE: 'RFC 1939 §5: DELE, valid in the TRANSACTION state',
  NOOP: 'RFC 1939 §5: NOOP, valid in the TRANSACTION state',
  RSET: 'RFC 1939 §5: RSET, valid in the TRANSACTION state',
  QUIT: 'RFC 1939 §6: QUIT, the UPDATE state',
  TOP: 'RFC 1939 §7: TOP (optional command)',
  UIDL: 'RFC 1939 §7: UIDL (optional command)',
  USER: 'RFC 1939 §7: USER (optional command)',
  PASS: 'RFC 1939 §7: PASS (optional command)',
  APOP: 'RFC 1939 §7: APOP (optional command)',
  CAPA: 'RFC 2449 §5: CAPA (Restrictions: none)',
  STLS: 'RFC 2595 §4: STLS',
  AUTH: 'RFC 5034 §4: AUTH',
};
