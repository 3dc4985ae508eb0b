import { z } from 'zod';
import type { ActionContext } from './context.js';
import { defineAction } from './define-action.js';
import { findSpecialUse } from './imap-mailbox.js';

/** Folder actions. Every folder they create, rename or delete is under the run's root. */
const folderParam = z.string().min(1).describe('Folder under the run root, "/" between levels, e.g. "projects/2026"');

export const imapCapability = defineAction({
  name: 'imap.capability',
  summary: 'The capabilities this session saw after login',
  protocol: 'imap',
  params: z.strictObject({}),
  async run(ctx: ActionContext) {
    const ws = await ctx.session('imap');
    return { capabilities: ws.session.capabilities };
  },
});

export const imapLayout = defineAction({
  name: 'imap.layout',
  summary: "The server's personal namespace prefix and hierarchy delimiter (NAMESPACE, else LIST), and the run's root folder",
  protocol: 'imap',
  params: z.strictObject({}),
  async run(ctx: ActionContext) {
    const ws = await ctx.session('imap');
    const layout = await ws.layout();
    ctx.setProperty('imap.delimiter', layout.delimiter);
    ctx.setProperty('imap.namespace_prefix', layout.prefix);
    return { ...layout };
  },
});

export const imapCreate = defineAction({
  name: 'imap.create',
  plans: (p, ctx) => [{ kind: 'create', what: `folder ${ctx.runRoot}/${String(p.folder)} (and any missing parent under the run root)` }],
  leavesMail: true,
  summary: 'CREATE a folder under the run root (parents are created too)',
  protocol: 'imap',
  params: z.strictObject({ folder: folderParam }),
  async run(ctx: ActionContext, params) {
    const ws = await ctx.session('imap');
    const parts = params.folder.split('/').filter(Boolean);
    // Every level it creates is under the run's root: only that subtree is listed.
    const listed = await ws.listRunTree();
    const existing = new Set(listed.filter((m) => m.listed && !m.flags.some((f) => f.toLowerCase() === '\\nonexistent')).map((m) => m.path));
    // Some servers do not create missing parents (RFC 9051 §6.3.4 leaves it open), so create each
    // missing level; creating one that exists is an error (§6.3.4), so those are left alone.
    let created = '';
    for (let i = 1; i <= parts.length; i++) {
      created = await ws.path(parts.slice(0, i).join('/'));
      const path = created;
      // Recorded before it is sent: a CREATE that times out may still have made the folder.
      ctx.record.folder(path);
      if (existing.has(path)) continue;
      // imapflow subscribes what it creates; should the UNSUBSCRIBE below not happen, cleanup removes it.
      ctx.record.subscribed(path);
      await ws.session.createMailbox(path);
      // imapflow subscribes every mailbox it creates; a scenario subscribes on purpose, with imap.subscribe.
      await ws.session.unsubscribe(path);
    }
    return { path: created };
  },
});

export const imapRename = defineAction({
  name: 'imap.rename',
  plans: (p, ctx) => [{ kind: 'change', what: `rename folder ${ctx.runRoot}/${String(p.folder)} to ${ctx.runRoot}/${String(p.to)}` }],
  summary: 'RENAME a folder under the run root to another name under it',
  protocol: 'imap',
  params: z.strictObject({ folder: folderParam, to: folderParam }),
  async run(ctx: ActionContext, params) {
    const ws = await ctx.session('imap');
    const from = await ws.path(params.folder);
    const to = await ws.path(params.to);
    ctx.record.folder(to);
    await ws.session.renameMailbox(from, to);
    ctx.record.renamed(from, to, (await ws.layout()).delimiter);
    return { from, path: to };
  },
});

export const imapDelete = defineAction({
  name: 'imap.delete',
  plans: (p, ctx) => [{ kind: 'delete', what: `folder ${ctx.runRoot}/${String(p.folder)}` }],
  summary: 'DELETE a folder under the run root',
  protocol: 'imap',
  params: z.strictObject({ folder: folderParam }),
  async run(ctx: ActionContext, params) {
    const ws = await ctx.session('imap');
    const path = await ws.path(params.folder);
    await ws.session.deleteMailbox(path);
    ctx.record.folderGone(path);
    return { path };
  },
});

export const imapSubscribe = defineAction({
  name: 'imap.subscribe',
  plans: (p, ctx) => [{ kind: 'change', what: `${p.subscribe === false ? 'unsubscribe' : 'subscribe'} folder ${ctx.runRoot}/${String(p.folder)}` }],
  summary: 'SUBSCRIBE (or UNSUBSCRIBE with subscribe: false) a folder under the run root',
  protocol: 'imap',
  params: z.strictObject({ folder: folderParam, subscribe: z.boolean().default(true) }),
  async run(ctx: ActionContext, params) {
    const ws = await ctx.session('imap');
    const path = await ws.path(params.folder);
    // Recorded before it is sent, like a CREATE: cleanup unsubscribes it and checks by name that it is gone.
    if (params.subscribe) ctx.record.subscribed(path);
    if (params.subscribe) await ws.session.subscribe(path);
    else await ws.session.unsubscribe(path);
    return { path };
  },
});

export const imapList = defineAction({
  name: 'imap.list',
  summary: 'LIST the folders under the run root as this session sees them, with their subscription state',
  protocol: 'imap',
  params: z.strictObject({}),
  async run(ctx: ActionContext) {
    const ws = await ctx.session('imap');
    const { root, delimiter } = await ws.layout();
    // Only the run's subtree (LIST "" "<root>*", then LSUB or LIST-EXTENDED SUBSCRIBED with the same pattern).
    const listed = await ws.listRunTree(`LIST (under ${root})`);
    const folders: string[] = [];
    const subscribed: string[] = [];
    for (const mailbox of listed) {
      const relative = await ws.relative(mailbox.path);
      if (relative === undefined || relative === '') continue;
      if (mailbox.listed) folders.push(relative);
      if (mailbox.subscribed) subscribed.push(relative);
    }
    folders.sort();
    subscribed.sort();
    return { folders, subscribed, count: folders.length, delimiter };
  },
});

export const imapFindSpecialUse = defineAction({
  name: 'imap.special-use',
  summary: 'Find a special-use mailbox (RFC 6154), and say whether SPECIAL-USE or a name guess found it',
  protocol: 'imap',
  params: z.strictObject({
    use: z
      .string()
      .regex(/^\\[A-Za-z]+$/)
      .describe('e.g. \\Drafts'),
  }),
  async run(ctx: ActionContext, params) {
    const ws = await ctx.session('imap');
    const found = await findSpecialUse(ws, params.use);
    if (found) ctx.setProperty(`special_use.${params.use.slice(1).toLowerCase()}`, `${found.path} (found by ${found.foundBy})`);
    return found
      ? { found: true, path: found.path, found_by: found.foundBy, extension: ws.session.has('SPECIAL-USE') }
      : { found: false, extension: ws.session.has('SPECIAL-USE') };
  },
});
