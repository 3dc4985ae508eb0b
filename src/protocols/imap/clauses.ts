import type { CommandClauses } from '../command-clauses.js';

/**
 * Where each IMAP command is defined: RFC 9051 §6 for IMAP4rev2, and the
 * extension RFCs for commands an IMAP4rev1 server offers as extensions.
 * UID FETCH/STORE/SEARCH/COPY are judged by their base command's clause.
 */
export const IMAP_COMMAND_CLAUSES: CommandClauses = {
  CAPABILITY: 'RFC 9051 §6.1.1: CAPABILITY',
  NOOP: 'RFC 9051 §6.1.2: NOOP',
  LOGOUT: 'RFC 9051 §6.1.3: LOGOUT',
  STARTTLS: 'RFC 9051 §6.2.1: STARTTLS',
  AUTHENTICATE: 'RFC 9051 §6.2.2: AUTHENTICATE',
  LOGIN: 'RFC 9051 §6.2.3: LOGIN',
  ENABLE: 'RFC 9051 §6.3.1: ENABLE',
  SELECT: 'RFC 9051 §6.3.2: SELECT',
  EXAMINE: 'RFC 9051 §6.3.3: EXAMINE',
  CREATE: 'RFC 9051 §6.3.4: CREATE, "An OK response is returned only if a new mailbox with that name has been created"',
  DELETE: 'RFC 9051 §6.3.5: DELETE, "A tagged OK response is returned only if the mailbox has been deleted"',
  RENAME: 'RFC 9051 §6.3.6: RENAME',
  SUBSCRIBE: 'RFC 9051 §6.3.7: SUBSCRIBE',
  UNSUBSCRIBE: 'RFC 9051 §6.3.8: UNSUBSCRIBE',
  LIST: 'RFC 9051 §6.3.9: LIST',
  STATUS: 'RFC 9051 §6.3.11: STATUS',
  APPEND: 'RFC 9051 §6.3.12: APPEND',
  IDLE: 'RFC 2177 §3: IDLE',
  EXPUNGE: 'RFC 9051 §6.4.3: EXPUNGE',
  FETCH: 'RFC 9051 §6.4.5: FETCH',
  STORE: 'RFC 9051 §6.4.6: STORE',
  MOVE: 'RFC 6851 §3: MOVE',
  'UID MOVE': 'RFC 6851 §3: UID MOVE',
  'UID EXPUNGE': 'RFC 4315 §2.1: UID EXPUNGE',
  'UID FETCH': 'RFC 9051 §6.4.5: FETCH (by UID, §6.4.9)',
  'UID STORE': 'RFC 9051 §6.4.6: STORE (by UID, §6.4.9)',
};
