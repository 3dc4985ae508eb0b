import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FakeMailHost } from '../../fixtures/servers/fake-mail-host.js';
import { DOTTED_BODY, PLAIN_BODY, message, startHost } from './setup.js';
import { WireClient, linesOf, unstuff } from './wire-client.js';

// The well-behaved server: the RFC 1939 behaviour the shipped scenarios rely on.
describe('fake POP3 server, no faults', () => {
  let host: FakeMailHost;
  const session = async (user = 'alice', password = 'alice-secret'): Promise<WireClient> => {
    const { client, greeting } = await WireClient.open(host.pop3Port);
    expect(greeting).toMatch(/^\+OK /);
    expect(await client.login(user, password)).toMatch(/^\+OK /);
    return client;
  };

  beforeEach(async () => {
    host = await startHost();
    host.deliver('alice', message('one', PLAIN_BODY));
    host.deliver('alice', message('two', PLAIN_BODY));
  });
  afterEach(() => host.close());

  it('commits DELE only at QUIT: a dropped connection leaves the message', async () => {
    const [first, second] = host.maildrop('alice');
    const a = await session();
    expect(await a.cmd('DELE 1')).toMatch(/^\+OK/);
    expect(host.maildrop('alice')).toHaveLength(2);
    await a.drop();
    await host.pop3Idle();
    expect(host.maildrop('alice').map((m) => m.uid)).toEqual([first!.uid, second!.uid]);

    const b = await session();
    expect(await b.cmd('STAT')).toMatch(/^\+OK 2 /);
    expect(await b.cmd('DELE 1')).toMatch(/^\+OK/);
    expect(await b.quit()).toMatch(/^\+OK/);
    expect(host.maildrop('alice').map((m) => m.uid)).toEqual([second!.uid]);
  });

  it('RSET clears deletion marks', async () => {
    const a = await session();
    await a.cmd('DELE 1');
    await a.cmd('DELE 2');
    expect(await a.cmd('STAT')).toMatch(/^\+OK 0 0$/);
    expect(await a.cmd('RSET')).toMatch(/^\+OK/);
    expect(await a.cmd('STAT')).toMatch(/^\+OK 2 /);
    expect((await a.multi('RETR 1')).status).toMatch(/^\+OK/);
    await a.quit();
    expect(host.maildrop('alice')).toHaveLength(2);
  });

  it('refuses RETR, LIST, TOP, UIDL and DELE of a message marked deleted', async () => {
    const a = await session();
    await a.cmd('DELE 1');
    expect(await a.cmd('RETR 1')).toMatch(/^-ERR/);
    expect(await a.cmd('LIST 1')).toMatch(/^-ERR/);
    expect(await a.cmd('TOP 1 0')).toMatch(/^-ERR/);
    expect(await a.cmd('UIDL 1')).toMatch(/^-ERR/);
    expect(await a.cmd('DELE 1')).toMatch(/^-ERR/);
    expect(linesOf((await a.multi('LIST')).body).map((l) => l.split(' ')[0])).toEqual(['2']);
    expect(linesOf((await a.multi('UIDL')).body).map((l) => l.split(' ')[0])).toEqual(['2']);
    expect(await a.cmd('RETR 3')).toMatch(/^-ERR/);
  });

  it('reports LIST and STAT sizes equal to the RETR octets, and TOP n k', async () => {
    host.deliver('alice', Buffer.from('Subject: bare LF\n\nline one\nline two\n'));
    const a = await session();
    const listed = linesOf((await a.multi('LIST')).body).map((l) => Number(l.split(' ')[1]));
    expect(listed).toHaveLength(3);
    let total = 0;
    for (const [i, size] of listed.entries()) {
      const retr = await a.multi(`RETR ${i + 1}`);
      const bytes = unstuff(retr.body);
      expect(bytes.length).toBe(size);
      expect(retr.status).toBe(`+OK ${size} octets`);
      total += bytes.length;
    }
    expect(await a.cmd('STAT')).toBe(`+OK 3 ${total}`);
    // Bare LF is sent as CRLF, and the size counts the CRLF form.
    expect(unstuff((await a.multi('RETR 3')).body).toString()).toBe('Subject: bare LF\r\n\r\nline one\r\nline two\r\n');
    expect((await a.multi('TOP 3 1')).body.toString()).toBe('Subject: bare LF\r\n\r\nline one\r\n');
    expect((await a.multi('TOP 3 0')).body.toString()).toBe('Subject: bare LF\r\n\r\n');
  });

  it('dot-stuffs RETR and TOP so the body round-trips byte-exact', async () => {
    const raw = message('dots', DOTTED_BODY);
    host.deliver('alice', raw);
    const a = await session();
    const retr = await a.multi('RETR 3');
    const lines = linesOf(retr.body);
    expect(lines).toContain('..hidden line');
    expect(lines).toContain('...two dots');
    expect(lines).toContain('..');
    expect(unstuff(retr.body).equals(raw)).toBe(true);
    const top = await a.multi(`TOP 3 ${DOTTED_BODY.length}`);
    expect(unstuff(top.body).equals(raw)).toBe(true);
  });

  it('keeps UIDL stable across sessions and message numbers stable within one', async () => {
    const a = await session();
    const uidl1 = (await a.multi('UIDL')).body.toString();
    expect(await a.cmd('UIDL 2')).toBe(`+OK ${linesOf(Buffer.from(uidl1))[1]}`);
    host.deliver('alice', message('late', PLAIN_BODY));
    // Mail arriving mid-session is not visible until the next session.
    expect(await a.cmd('STAT')).toMatch(/^\+OK 2 /);
    await a.quit();
    const b = await session();
    const uidl2 = linesOf((await b.multi('UIDL')).body);
    expect(uidl2.slice(0, 2)).toEqual(linesOf(Buffer.from(uidl1)));
    expect(uidl2).toHaveLength(3);
  });

  it('frames commands split across writes and pipelined in one write', async () => {
    const { client } = await WireClient.open(host.pop3Port);
    const script = 'USER alice\r\nPASS alice-secret\r\nSTAT\r\nNOOP\r\nLIST 2\r\nUIDL\r\nQUIT\r\n';
    // One byte at a time exercises every split point, including inside the CRLF.
    for (const ch of script) client.write(ch);
    expect(await client.readLine()).toMatch(/^\+OK/);
    expect(await client.readLine()).toMatch(/^\+OK maildrop locked/);
    expect(await client.readLine()).toMatch(/^\+OK 2 \d+$/);
    expect(await client.readLine()).toBe('+OK');
    expect(await client.readLine()).toMatch(/^\+OK 2 \d+$/);
    expect(await client.readLine()).toMatch(/^\+OK/);
    expect(linesOf(await client.readMulti())).toHaveLength(2);
    expect(await client.readLine()).toMatch(/^\+OK/);
    await client.waitClosed();

    const { client: piped } = await WireClient.open(host.pop3Port);
    piped.write('USER alice\r\nPASS alice-secret\r\nDELE 1\r\nSTAT\r\nQUIT\r\n');
    const replies = [];
    for (let i = 0; i < 5; i++) replies.push(await piped.readLine());
    expect(replies[3]).toMatch(/^\+OK 1 /);
    expect(replies[4]).toMatch(/^\+OK/);
    await piped.waitClosed();
    expect(host.maildrop('alice')).toHaveLength(1);
  });

  it('locks the maildrop: a second login gets [IN-USE] until the first session ends', async () => {
    const a = await session();
    const { client: b } = await WireClient.open(host.pop3Port);
    expect(await b.login('alice', 'alice-secret')).toMatch(/^-ERR \[IN-USE\]/);
    // Other maildrops are not affected.
    const bob = await session('bob', 'bob pass with spaces');
    await bob.quit();
    await a.drop();
    await host.maildropUnlocked('alice');
    expect(await b.login('alice', 'alice-secret')).toMatch(/^\+OK/);
  });

  it('rejects bad credentials with [AUTH] and supports AUTH PLAIN (RFC 5034)', async () => {
    const { client } = await WireClient.open(host.pop3Port);
    expect(await client.login('alice', 'wrong')).toMatch(/^-ERR \[AUTH\]/);
    expect(await client.login('nobody', 'alice-secret')).toMatch(/^-ERR \[AUTH\]/);
    expect(await client.cmd('STAT')).toMatch(/^-ERR/);
    const plain = (authz: string, user: string, pass: string): string => Buffer.from(`${authz}\0${user}\0${pass}`).toString('base64');
    expect(await client.cmd(`AUTH PLAIN ${plain('', 'alice', 'nope')}`)).toMatch(/^-ERR \[AUTH\]/);
    expect(await client.cmd('AUTH PLAIN')).toBe('+ ');
    expect(await client.cmd('*')).toMatch(/^-ERR/);
    expect(await client.cmd('AUTH PLAIN')).toBe('+ ');
    expect(await client.cmd(plain('', 'bob', 'bob pass with spaces'))).toMatch(/^\+OK/);
    expect(await client.cmd('STAT')).toBe('+OK 0 0');
    await client.quit();

    const { client: c2 } = await WireClient.open(host.pop3Port);
    expect(await c2.cmd(`AUTH PLAIN ${plain('alice', 'alice', 'alice-secret')}`)).toMatch(/^\+OK/);
  });

  it('advertises CAPA per RFC 2449, without STLS when no certificate is configured', async () => {
    const { client } = await WireClient.open(host.pop3Port);
    const capa = await client.multi('CAPA');
    expect(capa.status).toMatch(/^\+OK/);
    const caps = linesOf(capa.body);
    expect(caps).toEqual(expect.arrayContaining(['TOP', 'UIDL', 'USER', 'RESP-CODES', 'SASL PLAIN']));
    expect(caps).not.toContain('STLS');
    expect(await client.cmd('STLS')).toMatch(/^-ERR/);
    expect(host.pop3sPort).toBeUndefined();
  });
});
