import { z } from 'zod';
import { ImapReplyError } from '../protocols/imap/errors.js';
import { astringPart, ImapRawClient, searchResults, type ImapResponse, type UntaggedResponse } from '../protocols/imap/raw/index.js';
import { RunProblem } from '../protocols/outcomes.js';
import type { ActionContext } from './context.js';
import { connectOptionsFor } from './run-target.js';
import { defineAction } from './define-action.js';
import { mailboxParam, resolveMailbox } from './imap-mailbox.js';
import { plaintextMechanisms } from './plaintext-before-tls.js';

/**
 * Wire-level IMAP checks on mailprobe's raw tagged-command client, for what
 * imapflow hides or changes: the exact untagged responses to a command, the
 * capabilities before STARTTLS, and the server's own answer to MOVE (imapflow
 * would emulate a missing MOVE with COPY + STORE + EXPUNGE).
 */
const upper = (caps: readonly string[]) => caps.map((c) => c.toUpperCase());

function untaggedSummary(untagged: readonly UntaggedResponse[]) {
  const exists = untagged.filter((u) => u.kind === 'EXISTS').map((u) => u.number);
  return {
    untagged: untagged.map((u) => u.raw),
    kinds: [...new Set(untagged.map((u) => u.kind))],
    ...(exists.length > 0 ? { exists: exists.at(-1) } : {}),
    expunged: untagged.filter((u) => u.kind === 'EXPUNGE').map((u) => u.number),
  };
}

/**
 * A refusal on the raw wire is the server's answer, judged like any other: NO or BAD
 * fails the step (or, with a temporary response code, is inconclusive), never "could not run".
 */
function requireOk(command: string, response: ImapResponse): void {
  if (response.status === 'OK') return;
  if (response.status === 'NO' || response.status === 'BAD') throw new ImapReplyError(command, response.status, response.text, response.code?.split(' ')[0]);
  throw new RunProblem('EIMAP_REFUSED', `${command} was answered ${response.status} ${response.text}`);
}

/**
 * What the clear connection offers for a plaintext password before STARTTLS, one
 * line each; empty when nothing. IMAP LOGIN carries the password in the command
 * itself, so the only refusal that protects it is the one announced beforehand:
 * LOGINDISABLED (RFC 9051 §6.2.3, RFC 2595 §3.2). Read from CAPABILITY alone; no
 * LOGIN or AUTHENTICATE is sent (see plaintext-before-tls.ts).
 */
function plaintextOffered(capabilities: readonly string[]): string[] {
  const offered = capabilities.includes('LOGINDISABLED') ? [] : ['LOGIN is allowed (no LOGINDISABLED in CAPABILITY)'];
  const mechanisms = capabilities.filter((c) => c.startsWith('AUTH=')).map((c) => c.slice('AUTH='.length));
  return [...offered, ...plaintextMechanisms(mechanisms).map((m) => `CAPABILITY lists AUTH=${m}`)];
}

export const imapStarttls = defineAction({
  name: 'imap.starttls',
  summary:
    'On a plain IMAP port: no plaintext password is taken before STARTTLS (LOGINDISABLED), STARTTLS is listed, the upgrade verifies, login works after it (RFC 9051 §6.2.1, §6.2.3, RFC 2595)',
  params: z.strictObject({
    endpoint: z.enum(['imap']).default('imap'),
    account: z.string().describe('Account role to log in as after the upgrade'),
  }),
  async run(ctx: ActionContext, params) {
    const endpoint = ctx.endpoint(params.endpoint);
    const account = ctx.account(params.account);
    const client = await ImapRawClient.connect(
      connectOptionsFor(endpoint, { timeouts: ctx.target.timeouts, transcript: ctx.transcript, signal: ctx.signal }, 'starttls', 'none'),
    );
    try {
      const before = upper(await client.capability());
      const advertised = before.includes('STARTTLS');
      const found = { advertised, plaintext_login_before_tls: plaintextOffered(before), logindisabled_before: before.includes('LOGINDISABLED') };
      if (!advertised) return { ...found, upgraded: false, logged_in: false };
      const started = await client.starttls();
      if (started.status !== 'OK') return { ...found, upgraded: false, starttls_reply: `${started.status} ${started.text}`, logged_in: false };
      // Recorded, not judged: with verification on, a certificate that does not verify has
      // already stopped the handshake (errored, with a hint); with `insecure` it was not asked for.
      ctx.setProperty('tls_certificate_verified', String(client.tlsInfo?.authorized ?? false));
      const after = upper(await client.capability());
      // A server still saying LOGINDISABLED after TLS refuses LOGIN; that is its answer, not an error.
      const login = after.includes('LOGINDISABLED')
        ? { status: 'NO' as const, code: undefined }
        : await client.login(account.user, ctx.password(params.account));
      if (login.status !== 'OK' && /^AUTHENTICATIONFAILED\b/i.test(login.code ?? '')) {
        // Refused credentials (RFC 5530) are the target's problem: could not run.
        throw new RunProblem('EAUTH', `login as ${account.user} failed: ${login.code}`, 'auth');
      }
      await client.logout().catch(() => client.drop());
      return {
        ...found,
        upgraded: true,
        certificate_verified: client.tlsInfo?.authorized ?? false,
        tls_protocol: client.tlsInfo?.protocol ?? null,
        logindisabled_after: after.includes('LOGINDISABLED'),
        starttls_after: after.includes('STARTTLS'),
        logged_in: login.status === 'OK',
      };
    } finally {
      if (!client.closed) client.drop();
    }
  },
});

export const imapRawSelect = defineAction({
  name: 'imap.raw-select',
  summary: 'SELECT a mailbox on the raw connection; returns the exact untagged responses',
  protocol: 'imap',
  params: z.strictObject({ mailbox: mailboxParam }),
  async run(ctx: ActionContext, params) {
    const box = await resolveMailbox(await ctx.session('imap'), params.mailbox);
    const raw = await ctx.session('imap-raw');
    // Outside the run's folders, look without changing anything (EXAMINE clears no \Recent).
    const verb = box.kind === 'run' ? 'SELECT' : 'EXAMINE';
    const response = await raw.command([`${verb} `, astringPart(box.path)]);
    requireOk(`${verb} ${box.path}`, response);
    const uidvalidity = response.untagged.find((u) => u.code?.toUpperCase().startsWith('UIDVALIDITY'))?.code?.split(' ')[1];
    return { path: box.path, ...untaggedSummary(response.untagged), ...(uidvalidity ? { uidvalidity } : {}) };
  },
});

export const imapRawNoop = defineAction({
  name: 'imap.raw-noop',
  summary: 'NOOP on the raw connection: the exact untagged responses (EXISTS, EXPUNGE, FETCH) the server sends',
  protocol: 'imap',
  params: z.strictObject({}),
  async run(ctx: ActionContext) {
    const raw = await ctx.session('imap-raw');
    const response = await raw.noop();
    requireOk('NOOP', response);
    return untaggedSummary(response.untagged);
  },
});

export const imapRawMove = defineAction({
  name: 'imap.raw-move',
  summary: 'Send UID MOVE on the raw connection whether or not MOVE is announced, and check the answer agrees with the CAPABILITY list (RFC 6851)',
  protocol: 'imap',
  params: z.strictObject({ mailbox: mailboxParam, uid: z.number().int().positive(), to: mailboxParam }),
  async run(ctx: ActionContext, params) {
    const ws = await ctx.session('imap');
    const from = await resolveMailbox(ws, params.mailbox);
    const to = await resolveMailbox(ws, params.to);
    if (from.kind !== 'run' || to.kind !== 'run') {
      // A MOVE a server might wrongly execute stays inside the run's own folders.
      throw new RunProblem('EUNSAFE_MOVE', 'imap.raw-move works only between folders under the run root');
    }
    const raw = await ctx.session('imap-raw');
    const advertised = upper(raw.capabilities.length > 0 ? raw.capabilities : await raw.capability()).includes('MOVE');
    requireOk(`SELECT ${from.path}`, await raw.select(from.path));
    const response = await raw.command([`UID MOVE ${params.uid} `, astringPart(to.path)]);
    const accepted = response.status === 'OK';
    // A MOVE answered OK must have taken the message out of the source (a COPY would not).
    const left = accepted ? await raw.command([`UID SEARCH UID ${params.uid}`]) : undefined;
    const stillInSource = left ? searchResults(left.untagged).includes(params.uid) : false;
    return {
      copy_left_behind: accepted && stillInSource,
      advertised,
      status: response.status,
      reply: `${response.status} ${response.code ? `[${response.code}] ` : ''}${response.text}`.trim(),
      // RFC 6851 §3: MOVE is a command only when the MOVE capability says so.
      consistent: advertised === accepted,
    };
  },
});
