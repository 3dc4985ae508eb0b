import { z } from 'zod';
import { composeMessage } from '../protocols/smtp/compose.js';
import { RequirementFailure } from '../protocols/outcomes.js';
import type { ActionContext } from './context.js';
import { defineAction } from './define-action.js';

/**
 * RFC 9051 §2.3.1.1: UIDs strictly ascend within a UIDVALIDITY, and a UID is
 * never reused under the same UIDVALIDITY. After a folder is deleted and
 * created again under the same name the server may keep UIDVALIDITY, but then
 * the UIDs it hands out must still be above every UID it gave before.
 */
export const imapRecreateCheck = defineAction({
  name: 'imap.recreate-check',
  plans: (p, ctx) => [
    { kind: 'delete', what: `folder ${ctx.runRoot}/${String(p.folder)}` },
    { kind: 'create', what: `folder ${ctx.runRoot}/${String(p.folder)} again, and a message in it with Message-ID ${ctx.messageIdPattern}` },
  ],
  leavesMail: true,
  summary: 'DELETE and CREATE a run folder again, APPEND to it, and check no UID is reused under an unchanged UIDVALIDITY',
  protocol: 'imap',
  params: z.strictObject({
    folder: z.string().min(1),
    uidvalidity: z.union([z.string(), z.number()]).describe('UIDVALIDITY of the folder before'),
    last_uid: z.number().int().positive().describe('Highest UID the folder had before'),
    account: z.string(),
  }),
  async run(ctx: ActionContext, params) {
    const ws = await ctx.session('imap');
    const path = await ws.path(params.folder);
    const account = ctx.account(params.account);
    // The folder must not be the selected one while it is deleted.
    await ws.open('INBOX', 'read');
    await ws.session.deleteMailbox(path);
    ctx.record.folder(path);
    await ws.session.createMailbox(path);
    const message = await composeMessage({
      runId: ctx.runId,
      from: account.address,
      to: [account.address],
      subject: `mailprobe uid probe ${ctx.runId}`,
      text: 'UID probe.\n',
    });
    ctx.record.message({ mailbox: path, messageId: message.messageId });
    await ws.session.append(path, message.raw, []);
    const box = await ws.open(path, 'read');
    const uids = await ws.ownUids(path);
    const uid = uids.at(-1) ?? 0;
    // No UIDVALIDITY is no answer, never "unchanged": undefined must not equal undefined.
    if (box.uidValidity === undefined) throw missingUidValidity(path);
    const same = box.uidValidity === String(params.uidvalidity);
    return {
      uidvalidity: box.uidValidity,
      uidvalidity_changed: !same,
      uid,
      uid_reused: same && uid <= params.last_uid,
    };
  },
});

/** A SELECT without UIDVALIDITY: the comparison cannot be made, and the server broke a MUST. */
function missingUidValidity(path: string): RequirementFailure {
  return new RequirementFailure({
    description: 'SELECT reports the mailbox UIDVALIDITY',
    passed: false,
    expected: `OK [UIDVALIDITY n] in the answer to SELECT ${path}`,
    actual: 'no UIDVALIDITY (absent, or a value imapflow could not read)',
    rfc: 'RFC 3501 §6.3.1: REQUIRED OK untagged responses: UNSEEN, PERMANENTFLAGS, UIDNEXT, UIDVALIDITY',
  });
}
