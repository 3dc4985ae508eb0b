import { z } from 'zod';
import { Pop3Client } from '../protocols/pop3/client.js';
import { Pop3ReplyError } from '../protocols/pop3/errors.js';
import type { ActionContext } from './context.js';
import { connectOptionsFor } from './run-target.js';
import { defineAction } from './define-action.js';
import { plaintextMechanisms } from './plaintext-before-tls.js';
import { capabilityName } from '../core/text.js';

/**
 * Checks the STLS promise of RFC 2595 on a plain POP3 port step by step,
 * which a session with `security: starttls` would do silently: before the
 * upgrade no plaintext password is taken (see plaintext-before-tls.ts for how
 * that is found out without sending one), CAPA lists STLS, STLS is accepted,
 * the TLS handshake verifies (the transport errors otherwise), and login works
 * afterwards.
 */
export const pop3Stls = defineAction({
  name: 'pop3.stls',
  summary: 'On a plain POP3 port: no plaintext password is taken before STLS, CAPA lists STLS, the upgrade verifies, and login works after it (RFC 2595)',
  params: z.strictObject({
    endpoint: z.enum(['pop3']).default('pop3'),
    account: z.string().describe('Account role to log in as after the upgrade'),
  }),
  async run(ctx: ActionContext, params) {
    const endpoint = ctx.endpoint(params.endpoint);
    const account = ctx.account(params.account);
    const connectPlain = (label: string) =>
      Pop3Client.connect(connectOptionsFor(endpoint, { timeouts: ctx.target.timeouts, transcript: ctx.transcript, signal: ctx.signal }, label, 'none'));
    const plaintext = await plaintextOffered(await connectPlain('plaintext-probe'), account.user);
    const client = await connectPlain('stls');
    try {
      const before = client.capabilities.map(capabilityName);
      const advertised = before.includes('STLS');
      const found = { advertised, plaintext_login_before_tls: plaintext, capabilities_before: before };
      if (!advertised) return { ...found, upgraded: false, logged_in: false };
      const tls = await client.stls();
      // Recorded, not judged: with verification on, a certificate that does not verify has
      // already stopped the handshake (errored, with a hint); with `insecure` it was not asked for.
      ctx.setProperty('tls_certificate_verified', String(tls.authorized));
      const after = (await client.capa()).map(capabilityName);
      const loggedIn = await client.login(account.user, ctx.password(params.account)).then(
        () => true,
        (err: unknown) => {
          // Refused credentials ([AUTH], RFC 3206) are the target's problem: could not run. Any other
          // refusal after the upgrade is the server's answer, for the expectation to judge.
          if (err instanceof Pop3ReplyError && !err.temporary && err.responseCode?.toUpperCase() !== 'AUTH') return false;
          throw err;
        },
      );
      await client.quit().catch(() => client.drop());
      return {
        ...found,
        upgraded: true,
        tls_protocol: tls.protocol,
        certificate_verified: tls.authorized,
        capabilities_after: after,
        stls_after_upgrade: after.includes('STLS'),
        logged_in: loggedIn,
      };
    } finally {
      if (!client.closed) client.drop();
    }
  },
});

/**
 * What the clear connection `probe` offers for a plaintext password, one line
 * each; empty when it offers none. Closes `probe`: after a +OK to USER it is
 * waiting for a PASS that must never come.
 */
async function plaintextOffered(probe: Pop3Client, user: string): Promise<string[]> {
  try {
    const offered = plaintextMechanisms(probe.saslMechanisms).map((m) => `CAPA lists SASL ${m}`);
    const reply = await probe.userOnly(user);
    if (reply.ok) offered.push(`USER ${user} answered +OK${reply.text ? ` ${reply.text}` : ''} (it asks for PASS in clear)`);
    return offered;
  } finally {
    await probe.quit().catch(() => probe.drop());
  }
}
