import { z } from 'zod';
import type { ActionContext } from './context.js';
import { defineAction } from './define-action.js';

/** POP3 commands that read state and never change the maildrop. */
const none = z.strictObject({});
const optionalMsg = z.strictObject({ msg: z.number().int().positive().optional().describe('Message number; all messages when absent') });

export const pop3Capa = defineAction({
  name: 'pop3.capa',
  summary: 'CAPA (RFC 2449): list the capabilities the server announces now',
  protocol: 'pop3',
  params: none,
  async run(ctx: ActionContext) {
    const session = await ctx.pop3();
    const capabilities = await session.client.capa();
    const names = capabilities.map((c) => c.split(' ')[0]!.toUpperCase());
    return { capabilities, names, stls: names.includes('STLS') };
  },
});

export const pop3Stat = defineAction({
  name: 'pop3.stat',
  summary: 'STAT: message count and maildrop size in octets',
  protocol: 'pop3',
  params: none,
  async run(ctx: ActionContext) {
    const session = await ctx.pop3();
    return session.client.stat();
  },
});

export const pop3List = defineAction({
  name: 'pop3.list',
  summary: 'LIST [msg]: sizes of one or all messages',
  protocol: 'pop3',
  params: optionalMsg,
  async run(ctx: ActionContext, params) {
    const session = await ctx.pop3();
    if (params.msg !== undefined) return session.client.listOne(params.msg);
    const messages = await session.client.list();
    return { messages, count: messages.length, total_size: messages.reduce((sum, m) => sum + m.size, 0) };
  },
});

export const pop3Uidl = defineAction({
  name: 'pop3.uidl',
  summary: 'UIDL [msg]: unique ids of one or all messages',
  protocol: 'pop3',
  params: optionalMsg,
  async run(ctx: ActionContext, params) {
    const session = await ctx.pop3();
    if (params.msg !== undefined) return session.client.uidlOne(params.msg);
    const messages = await session.client.uidl();
    return { messages, count: messages.length, uids: messages.map((m) => m.uid) };
  },
});

export const pop3Noop = defineAction({
  name: 'pop3.noop',
  summary: 'NOOP',
  protocol: 'pop3',
  params: none,
  async run(ctx: ActionContext) {
    const session = await ctx.pop3();
    await session.client.noop();
    return {};
  },
});

export const pop3Rset = defineAction({
  name: 'pop3.rset',
  summary: 'RSET: un-mark every message marked deleted in this session',
  protocol: 'pop3',
  params: none,
  async run(ctx: ActionContext) {
    const session = await ctx.pop3();
    await session.client.rset();
    return {};
  },
});

export const pop3Quit = defineAction({
  name: 'pop3.quit',
  summary: 'QUIT: end the session; the server commits deletions (UPDATE state)',
  protocol: 'pop3',
  params: none,
  async run(ctx: ActionContext) {
    const session = await ctx.pop3();
    await session.client.quit();
    return {};
  },
});

export const pop3Drop = defineAction({
  name: 'pop3.drop',
  summary: 'Close the connection without QUIT, as a lost network would',
  protocol: 'pop3',
  params: none,
  async run(ctx: ActionContext) {
    const session = await ctx.pop3();
    session.client.drop();
    return {};
  },
});
