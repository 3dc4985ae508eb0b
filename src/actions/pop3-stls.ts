import { z } from 'zod';
import { Pop3Client } from '../protocols/pop3/client.js';
import { Pop3ReplyError } from '../protocols/pop3/errors.js';
import type { ActionContext } from './context.js';
import { connectOptionsFor } from '../runner/run-target.js';
import { defineAction } from './define-action.js';

/**
 * Checks the STLS promise of RFC 2595 §4 on a plain POP3 port step by step,
 * which a session with `security: starttls` would do silently: CAPA lists STLS,
 * STLS is accepted, the TLS handshake verifies, and login works afterwards.
 */
export const pop3Stls = defineAction({
  name: 'pop3.stls',
  summary: 'On a plain POP3 port: CAPA lists STLS, the upgrade verifies, and login works after it (RFC 2595)',
  params: z.strictObject({
    endpoint: z.enum(['pop3']).default('pop3'),
    account: z.string().describe('Account role to log in as after the upgrade'),
  }),
  async run(ctx: ActionContext, params) {
    const endpoint = ctx.endpoint(params.endpoint);
    const account = ctx.account(params.account);
    const client = await Pop3Client.connect(connectOptionsFor(endpoint, { timeouts: ctx.target.timeouts, transcript: ctx.transcript, signal: ctx.signal }, 'stls', 'none'));
    try {
      const before = client.capabilities.map((c) => c.split(' ')[0]!.toUpperCase());
      const advertised = before.includes('STLS');
      if (!advertised) return { advertised, capabilities_before: before, upgraded: false, logged_in: false };
      const tls = await client.stls();
      const after = (await client.capa()).map((c) => c.split(' ')[0]!.toUpperCase());
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
        advertised,
        capabilities_before: before,
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
