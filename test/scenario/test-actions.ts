import { z } from 'zod';
import type { ActionSignatures } from '../../src/actions/define-action.js';

/**
 * A small, stable stand-in for the real registry, so the fixture corpus's
 * expected messages do not change whenever an action gains a parameter.
 */
export const testActions: ActionSignatures = {
  'smtp.send': {
    summary: 'send a message',
    params: z.strictObject({
      account: z.string(),
      to: z.array(z.string().min(3)).min(1),
      subject: z.string().default('mailprobe test'),
      port: z.number().int().optional(),
      headers: z.record(z.string(), z.string()).optional(),
    }),
  },
  'pop3.stat': { summary: 'STAT', protocol: 'pop3', params: z.strictObject({}) },
  'pop3.uidl': { summary: 'UIDL', protocol: 'pop3', params: z.strictObject({}) },
  'pop3.retr': {
    summary: 'RETR',
    protocol: 'pop3',
    params: z.strictObject({ msg: z.number().int().min(1), limits: z.strictObject({ maxBytes: z.number().int().positive() }).optional() }),
  },
  'pop3.dele': { summary: 'DELE', protocol: 'pop3', params: z.strictObject({ msg: z.number().int().min(1) }) },
  'pop3.cleanup': { summary: "delete the run's messages", protocol: 'pop3', params: z.strictObject({}), cleansUp: true },
  'imap.select': { summary: 'SELECT', protocol: 'imap', params: z.strictObject({ mailbox: z.string() }) },
  sleep: { summary: 'wait', params: z.strictObject({ ms: z.number().int().min(0) }) },
};
