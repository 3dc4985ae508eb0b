import type { ActionDefinition, ActionSignatures } from './define-action.js';
import { imapCleanup } from './imap-cleanup.js';
import { imapCapability, imapCreate, imapDelete, imapFindSpecialUse, imapLayout, imapList, imapRename, imapSubscribe } from './imap-folders.js';
import { imapAppend, imapCount, imapExpunge, imapFetch, imapFind, imapFlags, imapFlagsOf, imapMove, imapSelect } from './imap-messages.js';
import { imapIdleStart, imapIdleWait, imapNoop, imapWaitFor } from './imap-sync.js';
import { imapRecreateCheck } from './imap-uids.js';
import { imapRawMove, imapRawNoop, imapRawSelect, imapStarttls } from './imap-wire.js';
import { pop3Capa, pop3Drop, pop3List, pop3Noop, pop3Quit, pop3Rset, pop3Stat, pop3Uidl } from './pop3-basic.js';
import { pop3Cleanup, pop3Dele, pop3Find, pop3Observe, pop3Retr, pop3Top, pop3WaitFor } from './pop3-messages.js';
import { pop3Stls } from './pop3-stls.js';
import { smtpSend } from './smtp-send.js';
import { smtpAuth, smtpData, smtpEhlo, smtpMail, smtpNoop, smtpQuit, smtpRcpt, smtpRset } from './smtp-steps.js';
import { smtpMailWithoutLogin, smtpPipeline, smtpStarttls } from './smtp-wire.js';

/** Every action a scenario may name. The scenario schema is built from this object. */
export const registry = {
  'smtp.send': smtpSend,
  'smtp.ehlo': smtpEhlo,
  'smtp.starttls': smtpStarttls,
  'smtp.auth': smtpAuth,
  'smtp.mail': smtpMail,
  'smtp.rcpt': smtpRcpt,
  'smtp.data': smtpData,
  'smtp.rset': smtpRset,
  'smtp.noop': smtpNoop,
  'smtp.quit': smtpQuit,
  'smtp.pipeline': smtpPipeline,
  'smtp.mail-without-login': smtpMailWithoutLogin,
  'pop3.capa': pop3Capa,
  'pop3.stat': pop3Stat,
  'pop3.list': pop3List,
  'pop3.uidl': pop3Uidl,
  'pop3.find': pop3Find,
  'pop3.top': pop3Top,
  'pop3.retr': pop3Retr,
  'pop3.dele': pop3Dele,
  'pop3.rset': pop3Rset,
  'pop3.noop': pop3Noop,
  'pop3.quit': pop3Quit,
  'pop3.drop': pop3Drop,
  'pop3.wait-for': pop3WaitFor,
  'pop3.observe': pop3Observe,
  'pop3.stls': pop3Stls,
  'pop3.cleanup': pop3Cleanup,
  'imap.capability': imapCapability,
  'imap.layout': imapLayout,
  'imap.special-use': imapFindSpecialUse,
  'imap.create': imapCreate,
  'imap.rename': imapRename,
  'imap.delete': imapDelete,
  'imap.subscribe': imapSubscribe,
  'imap.list': imapList,
  'imap.select': imapSelect,
  'imap.append': imapAppend,
  'imap.find': imapFind,
  'imap.count': imapCount,
  'imap.fetch': imapFetch,
  'imap.flags': imapFlags,
  'imap.flags-of': imapFlagsOf,
  'imap.move': imapMove,
  'imap.expunge': imapExpunge,
  'imap.noop': imapNoop,
  'imap.idle-start': imapIdleStart,
  'imap.idle-wait': imapIdleWait,
  'imap.wait-for': imapWaitFor,
  'imap.recreate-check': imapRecreateCheck,
  'imap.starttls': imapStarttls,
  'imap.raw-select': imapRawSelect,
  'imap.raw-noop': imapRawNoop,
  'imap.raw-move': imapRawMove,
  'imap.cleanup': imapCleanup,
} as const;

export type ActionName = keyof typeof registry;

// Each entry is typed by its own params; the runner only needs the common shape.
export const actions: Readonly<Record<string, ActionDefinition>> = registry as unknown as Record<string, ActionDefinition>;

export const actionSignatures: ActionSignatures = Object.fromEntries(
  Object.entries(actions).map(([name, a]) => [
    name,
    {
      summary: a.summary,
      params: a.params,
      ...(a.protocol ? { protocol: a.protocol } : {}),
      ...(a.leavesMail ? { leavesMail: true } : {}),
      ...(a.cleansUp ? { cleansUp: true } : {}),
      ...(a.plans ? { plans: a.plans } : {}),
    },
  ]),
);
