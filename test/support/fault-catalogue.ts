import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Pop3Faults } from '../../fixtures/servers/fake-mail-host.js';
import type { ImapMutations } from '../../fixtures/servers/imap-proxy.js';
import type { SmtpFault } from '../../fixtures/servers/smtp-fault-server.js';
import { REPO_ROOT } from './run-suite.js';

/**
 * The fault-coverage matrix, written down: for every deliberate RFC
 * violation the test servers can commit, the verdict every shipped scenario
 * must reach, as `failed at <check key>` (see checks.ts for keys). A scenario
 * a fault does not list must pass. test/integration/fault-matrix.test.ts runs
 * every fault against every scenario and asserts exactly this; the coverage
 * check (test/matrix/coverage.test.ts) then needs no server: a check is proven
 * when some fault here makes it the first to fail.
 */
export type FaultOutcomes = Readonly<Record<string, string>>;

/** The protocols whose shipped suite the matrix runs, each under its own faults. */
export type MatrixProtocol = 'pop3' | 'imap' | 'smtp';

/** Whether suites/<protocol> holds a scenario file (read at collection time, so a test can skip on it). */
export function hasShippedSuite(protocol: MatrixProtocol): boolean {
  try {
    return readdirSync(join(REPO_ROOT, 'suites', protocol), { recursive: true }).some((f) => /\.ya?ml$/.test(String(f)));
  } catch {
    return false;
  }
}

/** The suites the matrix and the coverage check read: every protocol whose suite exists. */
export const MATRIX_SUITES: readonly MatrixProtocol[] = (['pop3', 'imap', 'smtp'] as const).filter(hasShippedSuite);

export interface FaultEntry {
  /** The verdicts that differ from `passed`, by scenario id. */
  readonly outcomes: FaultOutcomes;
  /**
   * The fault also defeats the run's own cleanup (a server that keeps what
   * QUIT or EXPUNGE should remove): the run must then name what it left, and
   * the test removes it directly.
   */
  readonly defeatsCleanup?: boolean;
}

export const POP3_FAULTS: Readonly<Record<keyof Pop3Faults, FaultEntry>> = {
  overflowingStat: {
    outcomes: {
      'pop3/deleted-is-refused': 'failed at pop3/deleted-is-refused › laptop counts the maildrop › the server answers in POP3 syntax',
      'pop3/retrieve-then-delete': 'failed at pop3/retrieve-then-delete › laptop counts the maildrop › the server answers in POP3 syntax',
      'pop3/sizes-agree': 'failed at pop3/sizes-agree › STAT totals the LIST sizes › the server answers in POP3 syntax',
    },
  },
  negativeListSize: {
    outcomes: {
      'pop3/commit-at-quit': 'failed at pop3/commit-at-quit › wait until the message is in the maildrop › the server answers in POP3 syntax',
      'pop3/deleted-is-refused': 'failed at pop3/deleted-is-refused › wait until the message is in the maildrop › the server answers in POP3 syntax',
      'pop3/dot-stuffing': 'failed at pop3/dot-stuffing › wait until the message is in the maildrop › the server answers in POP3 syntax',
      'pop3/retrieve-then-delete': 'failed at pop3/retrieve-then-delete › wait until the message is in the maildrop › the server answers in POP3 syntax',
      'pop3/rset': 'failed at pop3/rset › wait until the message is in the maildrop › the server answers in POP3 syntax',
      'pop3/sizes-agree': 'failed at pop3/sizes-agree › wait until the message is in the maildrop › the server answers in POP3 syntax',
      'pop3/uidl-stable': 'failed at pop3/uidl-stable › wait until the message is in the maildrop › the server answers in POP3 syntax',
    },
    defeatsCleanup: true,
  },
  plaintextBeforeStls: {
    outcomes: {
      'pop3/stls': 'failed at pop3/stls › no plaintext login before STLS, then CAPA, STLS, verified handshake, login › plaintext_login_before_tls length 0',
    },
  },
  deleteAtDele: {
    outcomes: {
      'pop3/commit-at-quit': 'failed at pop3/commit-at-quit › phone still sees the message (found by its headers) › found equals true',
      'pop3/retrieve-then-delete': 'failed at pop3/retrieve-then-delete › laptop reconnects and finds the original still on the server › found equals true',
      'pop3/rset': 'failed at pop3/rset › phone still sees the message after QUIT (found by its headers) › found equals true',
    },
  },
  keepAfterQuit: {
    outcomes: {
      'pop3/commit-at-quit': 'failed at pop3/commit-at-quit › delete anything this run left in the mailbox › cleanup removed everything this run created',
      'pop3/deleted-is-refused':
        'failed at pop3/deleted-is-refused › delete anything this run left in the mailbox › cleanup removed everything this run created',
      'pop3/dot-stuffing': 'failed at pop3/dot-stuffing › delete anything this run left in the mailbox › cleanup removed everything this run created',
      'pop3/retrieve-then-delete': 'failed at pop3/retrieve-then-delete › phone no longer finds the message by its headers › found equals false',
      'pop3/rset': 'failed at pop3/rset › delete anything this run left in the mailbox › cleanup removed everything this run created',
      'pop3/sizes-agree': 'failed at pop3/sizes-agree › delete anything this run left in the mailbox › cleanup removed everything this run created',
      'pop3/uidl-stable': 'failed at pop3/uidl-stable › delete anything this run left in the mailbox › cleanup removed everything this run created',
    },
    defeatsCleanup: true,
  },
  ignoreRset: {
    outcomes: {
      'pop3/rset': 'failed at pop3/rset › the message is listed again in the same session › error.reply exists false',
    },
  },
  serveDeleted: {
    outcomes: {
      'pop3/deleted-is-refused': 'failed at pop3/deleted-is-refused › RETR of the deleted message is refused › ok equals false',
    },
  },
  unstableUidl: {
    outcomes: {
      'pop3/uidl-stable': 'failed at pop3/uidl-stable › phone, in a new session, sees the same unique id › uid equals ${captures.first.uid}',
    },
  },
  wrongListSize: {
    outcomes: {
      'pop3/sizes-agree': 'failed at pop3/sizes-agree › RETR returns exactly as many octets as LIST said › octets equals ${captures.listed.size}',
    },
  },
  noDotStuffing: {
    outcomes: {
      'pop3/dot-stuffing': 'failed at pop3/dot-stuffing › RETR returns the body byte for byte › raw delivered_copy_of ${captures.sent.raw}',
    },
  },
  noStlsCapa: {
    outcomes: {
      'pop3/stls': 'failed at pop3/stls › no plaintext login before STLS, then CAPA, STLS, verified handshake, login › advertised equals true',
    },
  },
  corruptRetr: {
    outcomes: {
      'pop3/dot-stuffing': 'failed at pop3/dot-stuffing › RETR returns the body byte for byte › raw delivered_copy_of ${captures.sent.raw}',
      'pop3/retrieve-then-delete':
        'failed at pop3/retrieve-then-delete › laptop downloads the message and keeps a local copy › saved delivered_copy_of ${captures.sent.raw}',
    },
  },
  listDeleted: {
    outcomes: {
      'pop3/deleted-is-refused': 'failed at pop3/deleted-is-refused › LIST of the deleted message is refused › ok equals false',
    },
  },
  statCountsDeleted: {
    outcomes: {
      'pop3/deleted-is-refused': 'failed at pop3/deleted-is-refused › STAT no longer counts it › count equals ${captures.before.count - 1}',
    },
  },
  wrongStatSize: {
    outcomes: {
      'pop3/sizes-agree': "failed at pop3/sizes-agree › LIST of all messages sums to STAT's size › total_size equals ${captures.stat.size}",
    },
  },
  stlsAfterUpgrade: {
    outcomes: {
      'pop3/stls': 'failed at pop3/stls › no plaintext login before STLS, then CAPA, STLS, verified handshake, login › stls_after_upgrade equals false',
    },
  },
  hideMarkedElsewhere: {
    outcomes: {
      'pop3/retrieve-then-delete':
        'failed at pop3/retrieve-then-delete › until the laptop quits, the original is still on the server › present one_of [true,"locked"]',
    },
  },
  statShowsRemoved: {
    outcomes: {
      'pop3/retrieve-then-delete': 'failed at pop3/retrieve-then-delete › phone counts one message fewer › count equals ${captures.before.count - 1}',
    },
  },
};

export const IMAP_MUTATIONS: Readonly<Record<keyof ImapMutations, FaultEntry>> = {
  overflowUidValidity: {
    outcomes: {
      'imap/condstore-modseq': 'failed at imap/condstore-modseq › laptop stores a message in it › the server answers in IMAP syntax',
      'imap/draft-sync': 'failed at imap/draft-sync › laptop saves a draft › the server answers in IMAP syntax',
      'imap/expunge-sync': 'failed at imap/expunge-sync › laptop stores a first message › the server answers in IMAP syntax',
      'imap/flag-sync': 'failed at imap/flag-sync › laptop stores an unread message in it › the server answers in IMAP syntax',
      'imap/folder-sync': 'failed at imap/folder-sync › laptop waits for it in INBOX › the server answers in IMAP syntax',
      'imap/idle-push': 'failed at imap/idle-push › phone idles on INBOX › the server answers in IMAP syntax',
      'imap/move-announced': 'failed at imap/move-announced › laptop stores a message in the first › the server answers in IMAP syntax',
      'imap/noop-reports-changes':
        'failed at imap/noop-reports-changes › phone selects it on the raw wire › the server answers in IMAP syntax, in step with the commands sent',
      'imap/peek-is-read-only': 'failed at imap/peek-is-read-only › laptop stores an unread message › the server answers in IMAP syntax',
      'imap/uid-stability': 'failed at imap/uid-stability › laptop opens it › the server answers in IMAP syntax',
    },
    defeatsCleanup: true,
  },
  negativeUidNext: {
    outcomes: {
      'imap/condstore-modseq': 'failed at imap/condstore-modseq › laptop stores a message in it › the server answers in IMAP syntax',
      'imap/draft-sync': 'failed at imap/draft-sync › laptop saves a draft › the server answers in IMAP syntax',
      'imap/expunge-sync': 'failed at imap/expunge-sync › laptop stores a first message › the server answers in IMAP syntax',
      'imap/flag-sync': 'failed at imap/flag-sync › laptop stores an unread message in it › the server answers in IMAP syntax',
      'imap/folder-sync': 'failed at imap/folder-sync › laptop waits for it in INBOX › the server answers in IMAP syntax',
      'imap/idle-push': 'failed at imap/idle-push › phone idles on INBOX › the server answers in IMAP syntax',
      'imap/move-announced': 'failed at imap/move-announced › laptop stores a message in the first › the server answers in IMAP syntax',
      'imap/noop-reports-changes':
        'failed at imap/noop-reports-changes › phone selects it on the raw wire › the server answers in IMAP syntax, in step with the commands sent',
      'imap/peek-is-read-only': 'failed at imap/peek-is-read-only › laptop stores an unread message › the server answers in IMAP syntax',
      'imap/uid-stability': 'failed at imap/uid-stability › laptop opens it › the server answers in IMAP syntax',
    },
    defeatsCleanup: true,
  },
  negativeExists: {
    outcomes: {
      'imap/condstore-modseq': 'failed at imap/condstore-modseq › laptop stores a message in it › the server answers in IMAP syntax',
      'imap/draft-sync': 'failed at imap/draft-sync › laptop saves a draft › the server answers in IMAP syntax',
      'imap/expunge-sync': 'failed at imap/expunge-sync › laptop stores a first message › the server answers in IMAP syntax',
      'imap/flag-sync': 'failed at imap/flag-sync › laptop stores an unread message in it › the server answers in IMAP syntax',
      'imap/folder-sync': 'failed at imap/folder-sync › laptop waits for it in INBOX › the server answers in IMAP syntax',
      'imap/idle-push': 'failed at imap/idle-push › phone idles on INBOX › the server answers in IMAP syntax',
      'imap/move-announced': 'failed at imap/move-announced › laptop stores a message in the first › the server answers in IMAP syntax',
      'imap/noop-reports-changes':
        'failed at imap/noop-reports-changes › phone selects it on the raw wire › the server answers in IMAP syntax, in step with the commands sent',
      'imap/peek-is-read-only': 'failed at imap/peek-is-read-only › laptop stores an unread message › the server answers in IMAP syntax',
      'imap/uid-stability': 'failed at imap/uid-stability › laptop opens it › the server answers in IMAP syntax',
    },
    defeatsCleanup: true,
  },
  moveToInbox: {
    outcomes: {
      'imap/folder-sync': 'failed at imap/folder-sync › laptop finds the message it moved in the folder › count equals 1',
      'imap/move-announced': 'failed at imap/move-announced › the message arrived in the destination › count equals 1',
    },
  },
  ignoreAppend: {
    outcomes: {
      'imap/condstore-modseq': 'failed at imap/condstore-modseq › laptop sees the message it stored › count equals 1',
      'imap/draft-sync': 'failed at imap/draft-sync › laptop sees its own draft, flagged \\Draft › count equals 1',
      'imap/expunge-sync': 'failed at imap/expunge-sync › phone opens the folder and sees two messages › exists equals 2',
      'imap/flag-sync': 'failed at imap/flag-sync › laptop sees the message it stored › count equals 1',
      'imap/move-announced': 'failed at imap/move-announced › laptop sees the message it stored › count equals 1',
      'imap/noop-reports-changes': 'failed at imap/noop-reports-changes › laptop sees the message it added › count equals 1',
      'imap/peek-is-read-only': 'failed at imap/peek-is-read-only › laptop sees the message it stored › count equals 1',
      'imap/uid-stability': 'failed at imap/uid-stability › laptop finds its UID › found equals true',
    },
  },
  moveIsCopyHiddenFromMover: {
    outcomes: {
      'imap/folder-sync': 'failed at imap/folder-sync › phone no longer finds it in INBOX › found equals false',
    },
  },
  reuseOldUidForNewMessage: {
    outcomes: {
      'imap/draft-sync': 'failed at imap/draft-sync › laptop saves a newer version › APPENDUID names the UID the appended message got',
      'imap/expunge-sync': 'failed at imap/expunge-sync › laptop stores a second message › APPENDUID names the UID the appended message got',
      'imap/uid-stability': 'failed at imap/uid-stability › the second message has a higher UID › uid greater_than ${captures.f1.uid}',
    },
  },
  ignoreCreate: {
    outcomes: {
      'imap/condstore-modseq': 'failed at imap/condstore-modseq › laptop stores a message in it › (reply)',
      'imap/expunge-sync': 'failed at imap/expunge-sync › laptop stores a first message › (reply)',
      'imap/flag-sync': 'failed at imap/flag-sync › laptop stores an unread message in it › (reply)',
      'imap/folder-sync': 'failed at imap/folder-sync › laptop lists the folder it created › folders contains projects/2026',
      'imap/move-announced': 'failed at imap/move-announced › laptop stores a message in the first › (reply)',
      'imap/noop-reports-changes': 'failed at imap/noop-reports-changes › phone selects it on the raw wire › (reply)',
      'imap/peek-is-read-only': 'failed at imap/peek-is-read-only › laptop stores an unread message › (reply)',
      'imap/uid-stability': 'failed at imap/uid-stability › laptop opens it › (reply)',
    },
  },
  ignoreRename: {
    outcomes: {
      'imap/folder-sync': 'failed at imap/folder-sync › laptop lists the new name, not the old one › folders contains projects/archive-2026',
    },
  },
  ignoreSubscribe: {
    outcomes: {
      'imap/folder-sync': 'failed at imap/folder-sync › laptop sees its own subscription › subscribed contains projects/archive-2026',
    },
  },
  ignoreMove: {
    outcomes: {
      'imap/folder-sync': 'failed at imap/folder-sync › laptop finds the message it moved in the folder › count equals 1',
      'imap/move-announced': 'failed at imap/move-announced › UID MOVE on the raw wire › copy_left_behind equals false',
    },
  },
  ignoreAppendElsewhere: {
    outcomes: {
      'imap/uid-stability': 'failed at imap/uid-stability › phone finds the message it stored › found equals true',
    },
  },
  ignoreAppendToSent: {
    outcomes: {
      'imap/draft-sync': 'failed at imap/draft-sync › phone sees the sent copy in \\Sent itself › found equals true',
    },
  },
  ignoreExpungeOfOthersMail: {
    outcomes: {
      'imap/draft-sync': 'failed at imap/draft-sync › phone removes the draft › gone equals true',
      'imap/expunge-sync': "failed at imap/expunge-sync › delete the run's folders and messages › cleanup removed everything this run created",
      'imap/flag-sync': "failed at imap/flag-sync › delete the run's folders and messages › cleanup removed everything this run created",
      'imap/folder-sync': "failed at imap/folder-sync › delete the run's folders and messages › cleanup removed everything this run created",
      'imap/idle-push': "failed at imap/idle-push › delete the run's messages › cleanup removed everything this run created",
      'imap/move-announced': "failed at imap/move-announced › delete the run's folders and messages › cleanup removed everything this run created",
      'imap/noop-reports-changes': "failed at imap/noop-reports-changes › delete the run's folders and messages › cleanup removed everything this run created",
      'imap/peek-is-read-only': "failed at imap/peek-is-read-only › delete the run's folders and messages › cleanup removed everything this run created",
      'imap/uid-stability': "failed at imap/uid-stability › delete the run's folders and messages › cleanup removed everything this run created",
    },
    defeatsCleanup: true,
  },
  expungeOnlyLocal: {
    outcomes: {
      'imap/draft-sync': 'failed at imap/draft-sync › phone sees exactly one draft of this run, the new one › count equals 1',
      'imap/expunge-sync': "failed at imap/expunge-sync › phone's NOOP reports the expunge › expunge_count equals 1",
      'imap/idle-push': "failed at imap/idle-push › delete the run's messages › cleanup removed everything this run created",
      'imap/noop-reports-changes': "failed at imap/noop-reports-changes › phone's NOOP carries the EXPUNGE › untagged contains * 1 EXPUNGE",
    },
    defeatsCleanup: true,
  },
  storeDropsFlagged: {
    outcomes: {
      'imap/condstore-modseq': 'failed at imap/condstore-modseq › laptop flags it, and its MODSEQ rises › flags contains \\Flagged',
      'imap/flag-sync': 'failed at imap/flag-sync › laptop marks it read and flagged › flags contains \\Flagged',
    },
  },
  ignoreFlagRemovals: {
    outcomes: {
      'imap/condstore-modseq':
        'failed at imap/condstore-modseq › laptop clears the flag, and its MODSEQ rises again › modseq greater_than ${captures.m1.modseq}',
      'imap/flag-sync': 'failed at imap/flag-sync › laptop clears the flag › flags not_contains \\Flagged',
    },
  },
  peekSeenHiddenFromReader: {
    outcomes: {
      'imap/peek-is-read-only': 'failed at imap/peek-is-read-only › laptop still sees it unread › flags not_contains \\Seen',
    },
  },
  keepDeletedEverywhere: {
    outcomes: {
      'imap/condstore-modseq': "failed at imap/condstore-modseq › delete the run's folders and messages › cleanup removed everything this run created",
      'imap/expunge-sync': "failed at imap/expunge-sync › delete the run's folders and messages › cleanup removed everything this run created",
      'imap/flag-sync': "failed at imap/flag-sync › delete the run's folders and messages › cleanup removed everything this run created",
      'imap/folder-sync': 'failed at imap/folder-sync › laptop no longer lists it › folders not_contains projects/archive-2026',
      'imap/move-announced': "failed at imap/move-announced › delete the run's folders and messages › cleanup removed everything this run created",
      'imap/noop-reports-changes': "failed at imap/noop-reports-changes › delete the run's folders and messages › cleanup removed everything this run created",
      'imap/peek-is-read-only': "failed at imap/peek-is-read-only › delete the run's folders and messages › cleanup removed everything this run created",
      'imap/uid-stability': "failed at imap/uid-stability › delete the run's folders and messages › cleanup removed everything this run created",
    },
    defeatsCleanup: true,
  },
  renameKeepsOld: {
    outcomes: {
      'imap/folder-sync': 'failed at imap/folder-sync › laptop lists the new name, not the old one › folders not_contains projects/2026',
    },
  },
  stripUidValidity: {
    outcomes: {
      'imap/uid-stability': 'failed at imap/uid-stability › laptop opens it › uidvalidity exists true',
    },
  },
  stripUidNextElsewhere: {
    outcomes: {
      'imap/uid-stability': 'failed at imap/uid-stability › phone sees the same UIDVALIDITY and a UIDNEXT past the new message › uidnext exists true',
    },
  },
  stripUidNextOnReselect: {
    outcomes: {
      'imap/uid-stability': 'failed at imap/uid-stability › laptop sees UIDVALIDITY unchanged and UIDNEXT past both › uidnext exists true',
    },
  },
  hideMovedElsewhere: {
    outcomes: {
      'imap/folder-sync': 'failed at imap/folder-sync › phone finds the message in the folder › count equals 1',
      'imap/move-announced': 'failed at imap/move-announced › the message arrived in the destination › count equals 1',
    },
  },
  hideSentCopiesElsewhere: {
    outcomes: {
      'imap/draft-sync': 'failed at imap/draft-sync › laptop sees the sent copy in \\Sent › found equals true',
    },
  },
  draftHiddenElsewhere: {
    outcomes: {
      'imap/draft-sync': 'failed at imap/draft-sync › phone sees the draft, flagged \\Draft, under the UID APPENDUID gave › flags contains \\Draft',
    },
  },
  unsolicitedMissesFlagged: {
    outcomes: {
      'imap/flag-sync': "failed at imap/flag-sync › phone's NOOP brings the change › fetched_flags contains \\Flagged",
    },
  },
  dropUnsolicitedAfterRemoval: {
    outcomes: {
      'imap/flag-sync': "failed at imap/flag-sync › phone's NOOP brings the change again › fetched equals true",
    },
  },
  unsolicitedKeepsRemoved: {
    outcomes: {
      'imap/flag-sync': "failed at imap/flag-sync › phone's NOOP brings the change again › fetched_flags not_contains \\Flagged",
    },
  },
  hideDrafts: {
    // No Drafts mailbox listed at all (no SPECIAL-USE attribute, no Drafts name): RFC 6154's attributes are
    // optional, so the scenario is not judged, as on an account that has none.
    outcomes: {
      'imap/draft-sync': 'skipped',
    },
  },
  refuseRepeatedDelete: {
    outcomes: {},
  },
  stripUidNext: {
    outcomes: {
      'imap/uid-stability': 'failed at imap/uid-stability › laptop opens it › uidnext exists true',
    },
  },
  dropUnsolicitedFetch: {
    outcomes: {
      'imap/flag-sync': "failed at imap/flag-sync › phone's NOOP brings the change › fetched_flags contains \\Seen",
    },
  },
  moveIsCopy: {
    outcomes: {
      'imap/folder-sync': 'failed at imap/folder-sync › laptop no longer finds it in INBOX › found equals false',
      'imap/move-announced': 'failed at imap/move-announced › UID MOVE on the raw wire › copy_left_behind equals false',
    },
  },
  hideFoldersCreatedElsewhere: {
    outcomes: {
      'imap/folder-sync': 'failed at imap/folder-sync › phone lists the new folder › folders contains projects/2026',
    },
  },
  stripDraftOnAppend: {
    outcomes: {
      'imap/draft-sync': 'failed at imap/draft-sync › laptop sees its own draft, flagged \\Draft › flags contains \\Draft',
    },
  },
  corruptFetchedBody: {
    outcomes: {
      'imap/draft-sync': 'failed at imap/draft-sync › phone reads the same content › raw delivered_copy_of ${captures.v1.raw}',
      'imap/folder-sync': 'failed at imap/folder-sync › phone reads it byte for byte, with the same Message-ID › raw delivered_copy_of ${captures.sent.raw}',
      'imap/peek-is-read-only': 'failed at imap/peek-is-read-only › phone reads the whole message with BODY.PEEK[] › raw delivered_copy_of ${captures.msg.raw}',
    },
  },
  swallowIdleNotifications: {
    outcomes: {
      'imap/idle-push': 'failed at imap/idle-push › the server pushes EXISTS to the idling phone › pushed equals true',
    },
  },
  dropFlagUpdates: {
    outcomes: {
      'imap/condstore-modseq': 'failed at imap/condstore-modseq › laptop flags it, and its MODSEQ rises › flags contains \\Flagged',
      'imap/draft-sync': 'failed at imap/draft-sync › laptop removes the old version (\\Deleted, UID EXPUNGE) › gone equals true',
      'imap/expunge-sync': 'failed at imap/expunge-sync › laptop deletes the first message › gone equals true',
      'imap/flag-sync': 'failed at imap/flag-sync › laptop marks it read and flagged › flags contains \\Seen',
      'imap/folder-sync': "failed at imap/folder-sync › delete the run's folders and messages › cleanup removed everything this run created",
      'imap/idle-push': "failed at imap/idle-push › delete the run's messages › cleanup removed everything this run created",
      'imap/move-announced': "failed at imap/move-announced › delete the run's folders and messages › cleanup removed everything this run created",
      'imap/noop-reports-changes': 'failed at imap/noop-reports-changes › laptop removes the message › gone equals true',
      'imap/peek-is-read-only': "failed at imap/peek-is-read-only › delete the run's folders and messages › cleanup removed everything this run created",
      'imap/uid-stability': "failed at imap/uid-stability › delete the run's folders and messages › cleanup removed everything this run created",
    },
    defeatsCleanup: true,
  },
  hideMove: {
    outcomes: {},
  },
  hideSpecialUse: {
    outcomes: {},
  },
  hideIdle: {
    outcomes: {
      'imap/idle-push': 'skipped',
    },
  },
  dropExpungeNotifications: {
    outcomes: {
      'imap/expunge-sync': "failed at imap/expunge-sync › phone's NOOP reports the expunge › expunge_count equals 1",
      'imap/noop-reports-changes': "failed at imap/noop-reports-changes › phone's NOOP carries the EXPUNGE › untagged contains * 1 EXPUNGE",
    },
  },
  peekSetsSeen: {
    outcomes: {
      'imap/flag-sync': 'failed at imap/flag-sync › phone opens the folder and sees the message unread › flags not_contains \\Seen',
      'imap/peek-is-read-only': 'failed at imap/peek-is-read-only › phone itself still sees it unread › flags not_contains \\Seen',
    },
  },
  examineIsSelect: {
    // A mailbox outside the run's folders is opened with EXAMINE, and read only with PEEK: with PEEK intact, a
    // read-write open changes nothing a shipped scenario judges. Together with peekSetsSeen it is what makes the
    // 25 MB example's \Seen check fail (test/integration/big-message-lab.test.ts).
    outcomes: {},
  },
  refuseMove: {
    outcomes: {
      'imap/folder-sync': 'failed at imap/folder-sync › laptop moves the message into the new folder › (reply)',
      'imap/move-announced': 'failed at imap/move-announced › UID MOVE on the raw wire › consistent equals true',
    },
  },
  unstableUidValidity: {
    outcomes: {
      'imap/uid-stability':
        'failed at imap/uid-stability › phone sees the same UIDVALIDITY and a UIDNEXT past the new message › uidvalidity equals ${captures.s1.uidvalidity}',
    },
  },
  keepUidValidityOnRecreate: {
    outcomes: {
      'imap/uid-stability':
        'failed at imap/uid-stability › delete and re-create the folder; no UID is reused under the same UIDVALIDITY › uid_reused equals false',
    },
  },
  staleUidNext: {
    outcomes: {
      'imap/uid-stability':
        'failed at imap/uid-stability › phone sees the same UIDVALIDITY and a UIDNEXT past the new message › uidnext greater_than ${captures.f1.uid}',
    },
  },
  inflateUidNext: {
    outcomes: {
      'imap/uid-stability': 'failed at imap/uid-stability › laptop finds its UID › uid at_least ${captures.s1.uidnext}',
    },
  },
  stripModseq: {
    outcomes: {
      'imap/condstore-modseq': 'failed at imap/condstore-modseq › laptop reads its MODSEQ › modseq exists true',
    },
  },
  modseqNeverRises: {
    outcomes: {
      'imap/condstore-modseq': 'failed at imap/condstore-modseq › laptop flags it, and its MODSEQ rises › modseq greater_than ${captures.m0.modseq}',
    },
  },
  modseqRisesOnce: {
    outcomes: {
      'imap/condstore-modseq':
        'failed at imap/condstore-modseq › laptop clears the flag, and its MODSEQ rises again › modseq greater_than ${captures.m1.modseq}',
    },
  },
  wrongAppendUid: {
    outcomes: {
      'imap/condstore-modseq': 'failed at imap/condstore-modseq › laptop stores a message in it › APPENDUID names the UID the appended message got',
      'imap/draft-sync': 'failed at imap/draft-sync › laptop saves a draft › APPENDUID names the UID the appended message got',
      'imap/expunge-sync': 'failed at imap/expunge-sync › laptop stores a first message › APPENDUID names the UID the appended message got',
      'imap/flag-sync': 'failed at imap/flag-sync › laptop stores an unread message in it › APPENDUID names the UID the appended message got',
      'imap/move-announced': 'failed at imap/move-announced › laptop stores a message in the first › APPENDUID names the UID the appended message got',
      'imap/noop-reports-changes': 'failed at imap/noop-reports-changes › laptop adds a message › APPENDUID names the UID the appended message got',
      'imap/peek-is-read-only': 'failed at imap/peek-is-read-only › laptop stores an unread message › APPENDUID names the UID the appended message got',
      'imap/uid-stability': 'failed at imap/uid-stability › laptop stores a message › APPENDUID names the UID the appended message got',
    },
  },
  staleFlagsElsewhere: {
    outcomes: {
      'imap/condstore-modseq': 'failed at imap/condstore-modseq › the phone sees the same, latest MODSEQ › modseq equals ${captures.m2.modseq}',
      'imap/flag-sync': 'failed at imap/flag-sync › phone sees \\Seen and \\Flagged › flags contains \\Seen',
    },
  },
  flaggedNotSynced: {
    outcomes: {
      'imap/flag-sync': 'failed at imap/flag-sync › phone sees \\Seen and \\Flagged › flags contains \\Flagged',
    },
  },
  removalsNotSynced: {
    outcomes: {
      'imap/flag-sync': 'failed at imap/flag-sync › phone sees the flag gone and the message still read › flags not_contains \\Flagged',
    },
  },
  hideRenamesElsewhere: {
    outcomes: {
      'imap/folder-sync': 'failed at imap/folder-sync › phone sees the new name, not the old one › folders contains projects/archive-2026',
    },
  },
  renameKeepsOldElsewhere: {
    outcomes: {
      'imap/folder-sync': 'failed at imap/folder-sync › phone sees the new name, not the old one › folders not_contains projects/2026',
    },
  },
  hideSubscriptionsElsewhere: {
    outcomes: {
      'imap/folder-sync': 'failed at imap/folder-sync › phone sees the subscription › subscribed contains projects/archive-2026',
    },
  },
  keepDeletedElsewhere: {
    outcomes: {
      'imap/condstore-modseq': "failed at imap/condstore-modseq › delete the run's folders and messages › cleanup removed everything this run created",
      'imap/expunge-sync': "failed at imap/expunge-sync › delete the run's folders and messages › cleanup removed everything this run created",
      'imap/flag-sync': "failed at imap/flag-sync › delete the run's folders and messages › cleanup removed everything this run created",
      'imap/folder-sync': 'failed at imap/folder-sync › phone no longer lists it › folders not_contains projects/archive-2026',
      'imap/move-announced': "failed at imap/move-announced › delete the run's folders and messages › cleanup removed everything this run created",
      'imap/noop-reports-changes': "failed at imap/noop-reports-changes › delete the run's folders and messages › cleanup removed everything this run created",
      'imap/peek-is-read-only': "failed at imap/peek-is-read-only › delete the run's folders and messages › cleanup removed everything this run created",
      'imap/uid-stability': "failed at imap/uid-stability › delete the run's folders and messages › cleanup removed everything this run created",
    },
    defeatsCleanup: true,
  },
  dropExistsElsewhere: {
    outcomes: {
      'imap/idle-push': 'failed at imap/idle-push › the server pushes EXISTS to the idling phone › pushed equals true',
      'imap/noop-reports-changes': "failed at imap/noop-reports-changes › phone's NOOP carries the new EXISTS › untagged contains * 1 EXISTS",
    },
  },
  noRenumberAfterExpunge: {
    outcomes: {
      'imap/expunge-sync': 'failed at imap/expunge-sync › the remaining message is now sequence number 1 › seq equals 1',
    },
  },
};

/**
 * The SMTP suite under each fault of the SMTP fault servers
 * (fixtures/servers/smtp-fault-server.ts), which forward what they accept to
 * the lab, so the round-trip scenarios read it back over the lab's IMAP and
 * POP3 (test/support/smtp-fault-target.ts). Greylisting is a temporary
 * refusal: every scenario it stops is `inconclusive`, never failed.
 *
 * The outcomes are written from a run of the matrix (MAILPROBE_MATRIX_OBSERVED=FILE,
 * keys "smtp:<fault>").
 */
export const SMTP_FAULTS: Readonly<Record<SmtpFault, FaultEntry>> = {
  'open-relay': {
    outcomes: {
      'smtp/no-open-relay': 'failed at smtp/no-open-relay › RCPT TO a domain the host does not serve is refused › ok equals false',
    },
  },
  'unknown-user-accepted': {
    outcomes: {
      'smtp/unknown-recipient': 'failed at smtp/unknown-recipient › RCPT TO an unknown user of the same domain is refused › ok equals false',
    },
  },
  'auth-before-tls': {
    outcomes: {
      'smtp/submission':
        'failed at smtp/submission › no plaintext login before STARTTLS, then STARTTLS, a verified handshake, AUTH offered, login › plaintext_login_before_tls length 0',
    },
  },
  'size-ignored': {
    outcomes: {
      'smtp/size-limit': 'failed at smtp/size-limit › MAIL FROM with SIZE= one octet over the limit is refused › ok equals false',
    },
  },
  'eight-bit-mangled': {
    outcomes: {
      'smtp/eight-bit-body': 'failed at smtp/eight-bit-body › the delivered copy holds the 8-bit octets sent › raw delivered_copy_of ${captures.sent.raw}',
      'smtp/utf8-address': 'failed at smtp/utf8-address › the delivered copy holds the UTF-8 octets sent › raw delivered_copy_of ${captures.sent.raw}',
    },
  },
  greylisting: {
    outcomes: {
      'smtp/eight-bit-body': 'inconclusive',
      'smtp/end-to-end-delivery': 'inconclusive',
      'smtp/no-open-relay': 'inconclusive',
      'smtp/pipelining': 'inconclusive',
      'smtp/submission': 'inconclusive',
      'smtp/submissions': 'inconclusive',
      'smtp/unknown-recipient': 'inconclusive',
      'smtp/utf8-address': 'inconclusive',
    },
  },
  'no-starttls': {
    outcomes: {
      'smtp/eight-bit-body': 'errored ESTARTTLS',
      'smtp/end-to-end-delivery': 'errored ESTARTTLS',
      'smtp/pipelining': 'errored ESTARTTLS',
      'smtp/submission':
        'failed at smtp/submission › no plaintext login before STARTTLS, then STARTTLS, a verified handshake, AUTH offered, login › advertised equals true',
      'smtp/submission-requires-auth': 'errored ESTARTTLS',
      'smtp/utf8-address': 'errored ESTARTTLS',
    },
  },
  'no-auth-after-tls': {
    outcomes: {
      'smtp/eight-bit-body': 'errored EAUTH',
      'smtp/end-to-end-delivery': 'errored EAUTH',
      'smtp/pipelining': 'errored EAUTH',
      'smtp/submission':
        'failed at smtp/submission › no plaintext login before STARTTLS, then STARTTLS, a verified handshake, AUTH offered, login › auth_offered_after_tls equals true',
      'smtp/submissions': 'failed at smtp/submissions › EHLO under implicit TLS › auth not_equals []',
      'smtp/utf8-address': 'errored EAUTH',
    },
  },
  'accepted-not-delivered': {
    outcomes: {
      'smtp/eight-bit-body': 'failed at smtp/eight-bit-body › the message arrives in the INBOX › arrived equals true',
      'smtp/end-to-end-delivery': 'failed at smtp/end-to-end-delivery › the IMAP device finds it in INBOX › arrived equals true',
      'smtp/pipelining': 'failed at smtp/pipelining › the pipelined message arrives in the INBOX › arrived equals true',
      'smtp/submission': 'failed at smtp/submission › the submitted message arrives in the INBOX › arrived equals true',
      'smtp/submissions': 'failed at smtp/submissions › the submitted message arrives in the INBOX › arrived equals true',
      'smtp/utf8-address': 'failed at smtp/utf8-address › the message arrives in the maildrop › arrived equals true',
    },
    defeatsCleanup: true,
  },
  'pipelining-reordered': {
    outcomes: {
      'smtp/pipelining': 'failed at smtp/pipelining › MAIL, RCPT and DATA in one group › reply_classes equals [2,2,3,2]',
    },
  },
  'starttls-after-tls': {
    outcomes: {
      'smtp/submission':
        'failed at smtp/submission › no plaintext login before STARTTLS, then STARTTLS, a verified handshake, AUTH offered, login › starttls_after_upgrade equals false',
    },
  },
  'unknown-user-policy-code': {
    outcomes: {
      'smtp/unknown-recipient':
        'failed at smtp/unknown-recipient › RCPT TO an unknown user of the same domain is refused › error.reply matches ^(550[ -]|5[0-9][0-9][ -]5\\.1\\.1(?![0-9]))',
    },
  },
  'mail-without-auth': {
    outcomes: {
      'smtp/submission-requires-auth': 'failed at smtp/submission-requires-auth › MAIL and RCPT without a login are refused › refused equals true',
    },
  },
  'size-policy-code': {
    outcomes: {
      'smtp/size-limit':
        'failed at smtp/size-limit › MAIL FROM with SIZE= one octet over the limit is refused › error.reply matches ^(552[ -]|5[0-9][0-9][ -]5\\.3\\.4(?![0-9]))',
    },
  },
};

/** What every scenario does against the faithful fake host, transparent proxy or faithful SMTP fault servers. */
export const BASELINE: Readonly<Record<MatrixProtocol, FaultOutcomes>> = {
  pop3: {},
  // The proxy offers no plain port with STARTTLS (it must see the traffic).
  imap: { 'imap/starttls': 'skipped' },
  smtp: {},
};

/**
 * imap/starttls needs a plain port with STARTTLS, which the proxy cannot offer
 * (it must read the traffic), so its faults are fake IMAP servers
 * (test/imap-raw/fake-imap.ts) that each announce one thing wrong.
 */
export interface StarttlsServer {
  /** Announced on the clear connection (STARTTLS is added when `starttls`). */
  readonly capabilities: readonly string[];
  /** Announced after the upgrade (default: the same without LOGINDISABLED). */
  readonly tlsCapabilities?: readonly string[];
  readonly starttls: boolean;
  /** The verdict of imap/starttls against it. */
  readonly outcome: string;
}

const STARTTLS = 'imap/starttls › CAPABILITY, STARTTLS, verified handshake, CAPABILITY, LOGIN';

export const IMAP_STARTTLS_SERVERS: Readonly<Record<string, StarttlsServer>> = {
  faithful: { capabilities: ['IMAP4rev1', 'LOGINDISABLED'], starttls: true, outcome: 'passed' },
  noStarttls: { capabilities: ['IMAP4rev1'], starttls: false, outcome: `failed at ${STARTTLS} › advertised equals true` },
  plaintextLoginBeforeTls: {
    capabilities: ['IMAP4rev1', 'AUTH=PLAIN'],
    starttls: true,
    outcome: `failed at ${STARTTLS} › plaintext_login_before_tls length 0`,
  },
  logindisabledAfterTls: {
    capabilities: ['IMAP4rev1', 'LOGINDISABLED'],
    tlsCapabilities: ['IMAP4rev1', 'LOGINDISABLED'],
    starttls: true,
    outcome: `failed at ${STARTTLS} › logindisabled_after equals false`,
  },
  starttlsAfterTls: {
    capabilities: ['IMAP4rev1', 'LOGINDISABLED'],
    tlsCapabilities: ['IMAP4rev1', 'STARTTLS'],
    starttls: true,
    outcome: `failed at ${STARTTLS} › starttls_after equals false`,
  },
};
