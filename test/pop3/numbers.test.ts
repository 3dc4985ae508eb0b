import { afterEach, describe, expect, it } from 'vitest';
import { Pop3Client } from '../../src/protocols/pop3/client.js';
import { Pop3ProtocolError } from '../../src/protocols/pop3/errors.js';
import { classifyError } from '../../src/runner/classify.js';
import { Transcript } from '../../src/transport/transcript.js';
import { rejection } from '../support/expect-helpers.js';
import type { FakeLineServer } from '../support/fake-line-server.js';
import { startFakePop3 } from './fake-pop3.js';

/**
 * RFC 1939 §4: message-numbers and sizes are decimal, the first message is
 * "1"; §5: STAT's drop listing and LIST's scan listing are numbers. Anything
 * else (negative, overflowing, signed, an exponent) is a malformed reply:
 * a failed check citing the clause, never a value.
 */
const servers: FakeLineServer[] = [];
const clients: Pop3Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.drop();
  for (const s of servers.splice(0)) await s.close();
});

async function loggedIn(overrides: Record<string, string>): Promise<Pop3Client> {
  const server = await startFakePop3({ password: 'pw', messages: [Buffer.from('Subject: a\r\n\r\nbody\r\n')] });
  servers.push(server);
  for (const [verb, reply] of Object.entries(overrides)) server.on(verb, (s) => s.write(reply));
  const client = await Pop3Client.connect({ host: server.host, port: server.port, security: 'none', transcript: new Transcript(), session: 'laptop' });
  clients.push(client);
  await client.login('alice', 'pw', 'user');
  return client;
}

describe('POP3 numbers follow RFC 1939', () => {
  it.each([
    ['an overflowing size', '+OK 2 99999999999999999999999\r\n', /99999999999999999999999 is not a size in octets/],
    ['a negative count', '+OK -1 100\r\n', /"-1" is not a number of messages/],
    ['a signed count', '+OK +2 100\r\n', /"\+2" is not a number of messages/],
    ['an exponent', '+OK 2 1e3\r\n', /"1e3" is not a size in octets/],
  ])('STAT with %s is a failed malformed-reply check', async (_what, reply, problem) => {
    const client = await loggedIn({ STAT: reply });
    const error = await rejection(client.stat(), Pop3ProtocolError);
    expect(error.code).toBe('EPOP3_MALFORMED');
    expect(error.message).toMatch(problem);
    expect(error.clause).toMatch(/^RFC 1939 §5: STAT/);
    const outcome = classifyError(error);
    expect(outcome).toMatchObject({ kind: 'failed', check: { passed: false, rfc: error.clause } });
  });

  it.each([
    ['a negative size', '+OK\r\n1 -5\r\n.\r\n', /"-5" is not a size in octets/],
    ['message number 0', '+OK\r\n0 120\r\n.\r\n', /0 is not a message-number \(the least is 1\)/],
    ['an overflowing message number', '+OK\r\n18446744073709551616 120\r\n.\r\n', /18446744073709551616 is not a message-number/],
  ])('LIST with %s is a failed malformed-reply check', async (_what, reply, problem) => {
    const client = await loggedIn({ LIST: reply });
    const error = await rejection(client.list(), Pop3ProtocolError);
    expect(error.code).toBe('EPOP3_MALFORMED');
    expect(error.message).toMatch(problem);
    expect(classifyError(error)).toMatchObject({ kind: 'failed', check: { rfc: error.clause } });
  });

  it('UIDL with message number 0 is a failed malformed-reply check', async () => {
    const client = await loggedIn({ UIDL: '+OK\r\n0 abc\r\n.\r\n' });
    const error = await rejection(client.uidl(), Pop3ProtocolError);
    expect(error.message).toMatch(/0 is not a message-number/);
    expect(error.clause).toMatch(/^RFC 1939 §4/);
  });

  it('well-formed numbers, with text after the STAT size, still parse', async () => {
    const client = await loggedIn({ STAT: '+OK 1 9007199254740991 octets\r\n', LIST: '+OK\r\n1 0\r\n.\r\n' });
    expect(await client.stat()).toEqual({ count: 1, size: 9007199254740991 });
    expect(await client.list()).toEqual([{ msg: 1, size: 0 }]);
  });
});
