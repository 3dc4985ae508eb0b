import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { labDown, labStatus, labUp, readLabEnv, type LabInfo, type LabServerInfo } from '../../src/lab/index.js';
import { commandLine } from '../../src/lab/procs.js';
import { cyrusPaths } from '../../src/lab/servers/cyrus.js';
import { labLayout } from '../../src/lab/paths.js';
import { LineClient, isRoot, refused, imapLogin } from './line-client.js';

// Integration test of `lab up --servers dovecot,cyrus` in its own state dir: it
// installs what is missing (cyrus-common, sasl2-bin; cyrus-imapd and cyrus-pop3d
// downloaded and unpacked privately), starts Dovecot, Cyrus and Postfix, and
// checks Cyrus on the wire. Needs root, like test/lab/lab.test.ts; CI runs as root.

// What the shipped suites give on Cyrus, and the evidence for its one failure, is in
// test/integration/server-matrix.test.ts, against the test lab's Cyrus.

describe.skipIf(!isRoot)('lab with Cyrus IMAP (lab up --servers dovecot,cyrus)', () => {
  let stateDir = '';
  let lab: LabInfo;
  let cyrus: LabServerInfo;
  let env: Record<string, string> = {};
  let ca: Buffer;
  const logLines: string[] = [];
  const at = (name: string) => ({ host: cyrus.hosts[name] as string, port: cyrus.ports[name] as number });
  const password = (role: 'primary' | 'secondary' | 'third') => env[`MAILPROBE_LAB_${role.toUpperCase()}_PASSWORD`] ?? '';

  beforeAll(async () => {
    stateDir = await mkdtemp('/tmp/mailprobe-lab-cyrus-');
    const started = Date.now();
    lab = await labUp({ stateDir, servers: ['dovecot', 'cyrus'], log: (l) => logLines.push(l) });
    logLines.push(`(test) lab up with cyrus took ${Date.now() - started} ms`);
    process.stderr.write(`[cyrus lab] ${logLines.join('\n[cyrus lab] ')}\n`);
    cyrus = lab.servers.find((s) => s.name === 'cyrus') as LabServerInfo;
    env = await readLabEnv(lab.envFile);
    ca = await readFile(lab.caFile);
  }, 300_000);

  afterAll(async () => {
    if (!stateDir) return;
    try {
      await labDown({ stateDir });
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
  });

  it('writes target-cyrus.yaml beside target.yaml, in the same shape, on 127.0.0.3', async () => {
    expect(lab.servers.map((s) => s.name)).toEqual(['dovecot', 'cyrus']);
    expect(cyrus.targetFile).toBe(join(stateDir, 'target-cyrus.yaml'));
    const text = await readFile(cyrus.targetFile, 'utf8');
    expect(text.split('\n')[0]).toBe((await readFile(lab.targetFile, 'utf8')).split('\n')[0]);
    const target = parse(text) as Record<string, any>;
    expect(Object.keys(target)).toEqual(['name', 'host', 'tls', 'endpoints', 'accounts']);
    expect(target['host']).toBe('127.0.0.3');
    expect(target['tls']).toEqual({ verify: true, ca_file: lab.caFile, servername: 'localhost' });
    expect(target['endpoints']).toEqual({
      smtp: { port: cyrus.ports['smtp'], security: 'none' },
      submission: { port: cyrus.ports['submission'], security: 'starttls' },
      smtps: { port: cyrus.ports['smtps'], security: 'tls' },
      pop3: { port: cyrus.ports['pop3'], security: 'starttls' },
      pop3s: { port: cyrus.ports['pop3s'], security: 'tls' },
      imap: { port: cyrus.ports['imap'], security: 'starttls' },
      imaps: { port: cyrus.ports['imaps'], security: 'tls' },
    });
    expect(target['accounts']['primary']).toEqual({
      user: 'alice',
      address: 'alice@cyrus.lab.test',
      password_env: 'MAILPROBE_LAB_PRIMARY_PASSWORD',
      // Stand-ins, so that --concurrency 4 has four INBOXes on the lab.
      stand_ins: ['dave', 'erin', 'frank'].map((user, i) => ({
        user,
        address: `${user}@cyrus.lab.test`,
        password_env: `MAILPROBE_LAB_PRIMARY_${i + 2}_PASSWORD`,
      })),
    });
    // target.yaml stays Dovecot's.
    expect((parse(await readFile(lab.targetFile, 'utf8')) as Record<string, any>)['host']).toBe('127.0.0.1');
    for (const pw of Object.values(env)) {
      expect(text).not.toContain(pw);
      expect(await readFile(join(stateDir, 'cyrus', 'imapd.conf'), 'utf8')).not.toContain(pw);
      expect(logLines.join('\n')).not.toContain(pw);
    }
  });

  it('greets as Cyrus on every Cyrus port, and as the lab Postfix on its SMTP ports, all on 127.0.0.3', async () => {
    for (const [name, tls, pattern] of [
      ['imap', false, /^\* OK \[CAPABILITY [^\]]*\] localhost Cyrus IMAP 3\.6/],
      ['imaps', true, /^\* OK \[CAPABILITY [^\]]*\] localhost Cyrus IMAP 3\.6/],
      ['pop3', false, /^\+OK localhost Cyrus POP3 3\.6/],
      ['pop3s', true, /^\+OK localhost Cyrus POP3 3\.6/],
      ['lmtp', false, /^220 localhost Cyrus LMTP 3\.6/],
      ['smtp', false, /^220 mail\.lab\.test ESMTP mailprobe-lab/],
      ['submission', false, /^220 mail\.lab\.test ESMTP mailprobe-lab/],
      ['smtps', true, /^220 mail\.lab\.test ESMTP mailprobe-lab/],
    ] as const) {
      expect(cyrus.hosts[name], name).toBe('127.0.0.3');
      const c = await LineClient.open(at(name), tls ? { ca } : null);
      expect(await c.line(), name).toMatch(pattern);
      c.close();
    }
    const status = await labStatus({ stateDir });
    expect(status.running).toBe(true);
    expect(status.daemons.map((d) => [d.name, d.alive])).toEqual([
      ['dovecot', true],
      ['postfix', true],
      ['cyrus', true],
      ['cyrus syslog', true],
    ]);
    expect(status.ports.filter((p) => p.server === 'cyrus').map((p) => [p.endpoint, p.host, p.listening])).toEqual(
      Object.keys(cyrus.ports).map((n) => [n, '127.0.0.3', true]),
    );
  });

  it('advertises LOGINDISABLED and refuses LOGIN before STARTTLS, then logs in after it', async () => {
    const c = await LineClient.open(at('imap'), null);
    expect(await c.line()).toMatch(/STARTTLS LOGINDISABLED/);
    expect(await imapLogin(c, 'alice', password('primary'))).toMatch(/^l1 NO/);
    c.send('s1 STARTTLS');
    expect((await c.until('s1 ')).at(-1)).toMatch(/^s1 OK/);
    await c.startTls(ca);
    c.send('c1 CAPABILITY');
    const caps = (await c.until('c1 ')).join('\n');
    expect(caps).not.toMatch(/LOGINDISABLED/);
    expect(caps).toMatch(/AUTH=PLAIN/);
    expect(await imapLogin(c, 'alice', password('primary'))).toMatch(/^l1 OK/);
    c.send('z LOGOUT');
    c.close();

    const p = await LineClient.open(at('pop3'), null);
    await p.line();
    p.send('USER alice');
    expect(await p.line()).toMatch(/^-ERR/);
    p.close();
  });

  it('logs in over imaps and pop3s, and a wrong password is refused', async () => {
    const c = await LineClient.open(at('imaps'), { ca });
    await c.line();
    expect(await imapLogin(c, 'alice', `${password('primary')}x`)).toMatch(/^l1 NO/);
    expect(await imapLogin(c, 'alice', password('primary'))).toMatch(/^l1 OK/);
    c.close();

    const p = await LineClient.open(at('pop3s'), { ca });
    await p.line();
    p.send('USER bob');
    expect(await p.line()).toMatch(/^\+OK/);
    p.send(`PASS ${password('secondary')}`);
    expect(await p.line()).toMatch(/^\+OK/);
    p.send('QUIT');
    p.close();
  });

  it('has Drafts, Sent and Trash with their special-use flags at the first login (RFC 6154)', async () => {
    // carol has never logged in before this test: Cyrus autocreates her folders now.
    const c = await LineClient.open(at('imaps'), { ca });
    await c.line();
    expect(await imapLogin(c, 'carol', password('third'))).toMatch(/^l1 OK/);
    c.send('l2 LIST "" "*" RETURN (SPECIAL-USE)');
    const lines = await c.until('l2 ');
    expect(lines.at(-1)).toMatch(/^l2 OK/);
    // Cyrus sends the special-use attributes lower-case (LAB-NOTES 13): compared without case.
    const special = Object.fromEntries(
      lines
        .map((l) => /^\* LIST \(([^)]*)\) "\/" (\S+)$/.exec(l))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => [m[2], ((m[1] as string).match(/\\(drafts|sent|trash|junk|archive|all|flagged)\b/i)?.[0] ?? '').toLowerCase()]),
    );
    expect(special).toEqual({ INBOX: '', Drafts: '\\drafts', Sent: '\\sent', Trash: '\\trash' });
    c.close();
  });

  it("delivers a message sent over Cyrus's submission endpoint into Cyrus's INBOX, not Dovecot's", async () => {
    const marker = `cyrus-lab-test-${randomBytes(6).toString('hex')}`;
    const c = await LineClient.open(at('submission'), null);
    await c.smtpReply();
    c.send('EHLO client.lab.test');
    expect((await c.smtpReply()).join('\n')).not.toMatch(/AUTH/);
    c.send('STARTTLS');
    expect((await c.smtpReply()).at(-1)).toMatch(/^220 /);
    await c.startTls(ca);
    c.send('EHLO client.lab.test');
    expect((await c.smtpReply()).join('\n')).toMatch(/AUTH PLAIN LOGIN|AUTH LOGIN PLAIN/);
    c.send(`AUTH PLAIN ${Buffer.from(`\0alice\0${password('primary')}`).toString('base64')}`);
    expect((await c.smtpReply()).at(-1)).toMatch(/^235 /);
    c.send('MAIL FROM:<alice@cyrus.lab.test>');
    expect((await c.smtpReply()).at(-1)).toMatch(/^250 /);
    c.send('RCPT TO:<alice@cyrus.lab.test>');
    expect((await c.smtpReply()).at(-1)).toMatch(/^250 /);
    c.send('DATA');
    expect((await c.smtpReply()).at(-1)).toMatch(/^354 /);
    c.send(`From: alice@cyrus.lab.test\r\nTo: alice@cyrus.lab.test\r\nSubject: ${marker}\r\nMessage-ID: <${marker}@lab.test>\r\n\r\nhello Cyrus\r\n.`);
    expect((await c.smtpReply()).at(-1)).toMatch(/^250 /);
    c.send('QUIT');
    c.close();

    const search = async (where: { host: string; port: number }): Promise<string> => {
      const i = await LineClient.open(where, { ca });
      await i.line();
      expect(await imapLogin(i, 'alice', password('primary'))).toMatch(/^l1 OK/);
      i.send('e1 EXAMINE INBOX');
      await i.until('e1 ');
      i.send(`s1 UID SEARCH HEADER Message-ID "${marker}"`);
      const hit = (await i.until('s1 ')).find((l) => l.startsWith('* SEARCH')) ?? '';
      i.close();
      return hit.replace(/^\* SEARCH\s*/, '');
    };
    // Delivery is asynchronous (queue manager -> LMTP); poll with a generous bound.
    let found = '';
    for (let i = 0; i < 100 && found === ''; i++) {
      found = await search(at('imaps'));
      if (found === '') await new Promise((r) => setTimeout(r, 200));
    }
    expect(found).toMatch(/^\d+$/);
    const dovecotImaps = lab.servers[0] as LabServerInfo;
    expect(await search({ host: dovecotImaps.hosts['imaps'] as string, port: dovecotImaps.ports['imaps'] as number })).toBe('');
  });

  it('treats a second up (with or without --servers) as harmless, keeping Cyrus', async () => {
    const again = await labUp({ stateDir });
    expect(again.alreadyRunning).toBe(true);
    expect(again.servers.map((s) => s.name)).toEqual(['dovecot', 'cyrus']);
    expect(again.servers[1]?.ports).toEqual(cyrus.ports);
  });

  it('ends every Cyrus process by PID at lab down, sessions of connected clients included', async () => {
    const held = await LineClient.open(at('imaps'), { ca });
    await held.line();
    expect(await imapLogin(held, 'bob', password('secondary'))).toMatch(/^l1 OK/);
    const paths = cyrusPaths(labLayout(stateDir));
    const cyrusProcs = async () => {
      const found: string[] = [];
      for (const pid of (await readdir('/proc')).filter((e) => /^\d+$/.test(e))) {
        const cmd = await commandLine(Number(pid));
        if (cmd.includes(paths.imapdConf) || cmd.includes(paths.log)) found.push(`${pid} ${cmd}`);
      }
      return found;
    };
    expect((await cyrusProcs()).length).toBeGreaterThanOrEqual(4); // master, syslog sink, idled, imapd of the held session

    const { stopped } = await labDown({ stateDir });
    held.close();
    expect(stopped.some((s) => /^\/usr\/lib\/cyrus\/bin\/master \(pid \d+\)$/.test(s))).toBe(true);
    expect(stopped.some((s) => /\/cyrus\/root\/usr\/lib\/cyrus\/bin\/imapd \(pid \d+\)$/.test(s))).toBe(true);
    expect(stopped.some((s) => /^perl \(pid \d+\)$/.test(s))).toBe(true);
    expect(await cyrusProcs()).toEqual([]);
    for (const name of Object.keys(cyrus.ports)) expect(await refused(at(name).host, at(name).port), name).toBe(true);
    const status = await labStatus({ stateDir });
    expect(status.running).toBe(false);
    expect(status.daemons.every((d) => !d.alive)).toBe(true);
  });
});
