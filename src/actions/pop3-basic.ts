import { z } from 'zod';
import type { Pop3Client } from '../protocols/pop3/client.js';
import type { ActionContext } from './context.js';
import { defineAction } from './define-action.js';
import { capabilityName } from '../core/text.js';

/** POP3 commands that read state and never change the maildrop. */
const none = z.strictObject({});
const optionalMsg = z.strictObject({ msg: z.number().int().positive().optional().describe('Message number; all messages when absent') });

export const pop3Capa = defineAction({
  name: 'pop3.capa',
  summary: 'CAPA (RFC 2449): list the capabilities the server announces now',
  protocol: 'pop3',
  params: none,
  async run(ctx: ActionContext) {
    const session = await ctx.session('pop3');
    const capabilities = await session.client.capa();
    const names = capabilities.map(capabilityName);
    return { capabilities, names, stls: names.includes('STLS') };
  },
});

export const pop3Stat = defineAction({
  name: 'pop3.stat',
  summary: 'STAT: message count and maildrop size in octets',
  protocol: 'pop3',
  params: none,
  async run(ctx: ActionContext) {
    const session = await ctx.session('pop3');
    return session.client.stat();
  },
});

export const pop3List = defineAction({
  name: 'pop3.list',
  summary: 'LIST [msg]: sizes of one or all messages',
  protocol: 'pop3',
  params: optionalMsg,
  async run(ctx: ActionContext, params) {
    const session = await ctx.session('pop3');
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
    const session = await ctx.session('pop3');
    if (params.msg !== undefined) return session.client.uidlOne(params.msg);
    const messages = await session.client.uidl();
    return { messages, count: messages.length, uids: messages.map((m) => m.uid) };
  },
});

/** A command that changes session state and returns nothing to judge but its +OK. */
function stateCommand(name: string, summary: string, send: (client: Pop3Client) => Promise<void> | void) {
  return defineAction({
    name,
    summary,
    protocol: 'pop3',
    params: none,
    async run(ctx: ActionContext) {
      const session = await ctx.session('pop3');
      await send(session.client);
      return {};
    },
  });
}

export const pop3Noop = stateCommand('pop3.noop', 'NOOP', (c) => c.noop());
export const pop3Rset = stateCommand('pop3.rset', 'RSET: un-mark every message marked deleted in this session', (c) => c.rset());
export const pop3Quit = stateCommand('pop3.quit', 'QUIT: end the session; the server commits deletions (UPDATE state)', (c) => c.quit());
export const pop3Drop = stateCommand('pop3.drop', 'Close the connection without QUIT, as a lost network would', (c) => c.drop());
