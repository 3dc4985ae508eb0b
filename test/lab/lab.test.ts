import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImapFlow } from 'imapflow';
import { parse } from 'yaml';
import { ENDPOINT_HOST, labDown, labStatus, labUp, readLabEnv, type EndpointName, type LabInfo } from '../../src/lab/index.js';
import { labLayout } from '../../src/lab/paths.js';
import { LineClient, isRoot, refused } from './line-client.js';

// Integration test against the real lab. It needs root (Dovecot and Postfix
// switch users, and missing packages get installed); CI runs as root. Without
// root the suite is skipped rather than failing on the machine's setup.

describe.skipIf(!isRoot)('loopback lab (real Dovecot + Postfix)', () => {
  let stateDir = '';
  let lab: LabInfo;
  let env: Record<string, string> = {};
  let ca: Buffer;
  const logLines: string[] = [];
  const log = (line: string) => logLines.push(line);
  /** Where an endpoint listens: plain imap/pop3 on 127.0.0.2, the rest on 127.0.0.1. */
  const at = (endpoint: EndpointName) => ({ host: lab.hosts[endpoint] as string, port: lab.ports[endpoint] as number });

  beforeAll(async () => {
    stateDir = await mkdtemp('/tmp/mailprobe-lab-test-');
    lab = await labUp({ stateDir, log });
    env = await readLabEnv(lab.envFile);
    ca = await readFile(lab.caFile);
  });

  afterAll(async () => {
    if (!stateDir) return;
    try {
      await labDown({ stateDir });
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
  });

  it('writes the target file in the agreed shape, and passwords only to a 0600 env file', async () => {
    expect(lab.alreadyRunning).toBe(false);
    const text = await readFile(lab.targetFile, 'utf8');
    // The editor schema comment first, then the header a user reads.
    expect(text.split('\n')[0]).toMatch(/^# yaml-language-server: \$schema=\/\S+\/schema\/target\.schema\.json$/);
    expect(text.split('\n')[1]?.startsWith('# Written by `mailprobe lab up`')).toBe(true);
    const target = parse(text) as Record<string, any>;
    expect(Object.keys(target)).toEqual(['name', 'host', 'tls', 'endpoints', 'accounts']);
    expect(target['host']).toBe('127.0.0.1');
    expect(target['tls']).toEqual({ verify: true, ca_file: lab.caFile, servername: 'localhost' });
    expect(target['endpoints']).toEqual({
      smtp: { port: lab.ports['smtp'], security: 'none' },
      submission: { port: lab.ports['submission'], security: 'starttls' },
      smtps: { port: lab.ports['smtps'], security: 'tls' },
      pop3: { host: '127.0.0.2', port: lab.ports['pop3'], security: 'starttls' },
      pop3s: { port: lab.ports['pop3s'], security: 'tls' },
      imap: { host: '127.0.0.2', port: lab.ports['imap'], security: 'starttls' },
      imaps: { port: lab.ports['imaps'], security: 'tls' },
    });
    expect(target['accounts']['primary']).toEqual({
      user: 'alice',
      address: 'alice@lab.test',
      password_env: 'MAILPROBE_LAB_PRIMARY_PASSWORD',
      // Stand-ins, so that --concurrency 4 has four INBOXes on the lab.
      stand_ins: ['dave', 'erin', 'frank'].map((user, i) => ({ user, address: `${user}@lab.test`, password_env: `MAILPROBE_LAB_PRIMARY_${i + 2}_PASSWORD` })),
    });
    expect(Object.keys(target['accounts'])).toEqual(['primary', 'secondary', 'third']);

    const mode = (await stat(lab.envFile)).mode & 0o777;
    expect(mode).toBe(0o600);
    const passwords = lab.accounts.map((a) => env[a.passwordEnv] ?? '');
    expect(passwords.every((p) => p.length >= 16)).toBe(true);
    expect(new Set(passwords).size).toBe(lab.accounts.length);
    expect(lab.accounts.map((a) => a.user)).toEqual(['alice', 'bob', 'carol', 'dave', 'erin', 'frank']);
    const stateJson = await readFile(`${stateDir}/state.json`, 'utf8');
    for (const pw of passwords) {
      expect(text).not.toContain(pw);
      expect(stateJson).not.toContain(pw);
      expect(logLines.join('\n')).not.toContain(pw);
    }
  });

  it('reports both daemons alive and every port listening', async () => {
    const status = await labStatus({ stateDir });
    expect(status.running).toBe(true);
    expect(status.daemons.map((d) => [d.name, d.alive])).toEqual([
      ['dovecot', true],
      ['postfix', true],
    ]);
    expect(status.daemons.every((d) => typeof d.pid === 'number')).toBe(true);
    expect(status.ports.map((p) => p.endpoint).sort()).toEqual(Object.keys(lab.ports).sort());
    expect(status.ports.every((p) => p.listening)).toBe(true);
    expect(Object.fromEntries(status.ports.map((p) => [p.endpoint, p.host]))).toEqual(lab.hosts);
  });

  it('listens for plain IMAP and POP3 on 127.0.0.2 only, everything else on 127.0.0.1 only', async () => {
    expect(lab.hosts).toEqual({
      smtp: '127.0.0.1',
      submission: '127.0.0.1',
      smtps: '127.0.0.1',
      pop3: '127.0.0.2',
      pop3s: '127.0.0.1',
      imap: '127.0.0.2',
      imaps: '127.0.0.1',
    });
    expect(lab.hosts).toEqual(ENDPOINT_HOST);
    // The rendered config, not a connect to the other address: another lab
    // (vitest's global one) may own the same port number there.
    const conf = await readFile(labLayout(stateDir).dovecotConf, 'utf8');
    expect(conf).toMatch(/^listen = 127\.0\.0\.1, 127\.0\.0\.2$/m);
    const listeners = Object.fromEntries([...conf.matchAll(/inet_listener (\w+) \{\s+address = (\S+)\s+port = (\d+)/g)].map((m) => [m[1], `${m[2]}:${m[3]}`]));
    expect(listeners).toEqual(Object.fromEntries((['imap', 'imaps', 'pop3', 'pop3s'] as const).map((e) => [e, `${lab.hosts[e]}:${lab.ports[e]}`])));
  });

  it('hides plaintext login on plain IMAP until STARTTLS (LOGINDISABLED), like a real host', async () => {
    // RFC 9051 §6.2.3 / RFC 3501 §7.2.1: a server that refuses plaintext LOGIN
    // advertises LOGINDISABLED; Dovecot does so only when it does not consider
    // the connection secured, which 127.0.0.1 -> 127.0.0.1 always is.
    const imap = await LineClient.open(at('imap'), null);
    const greeting = await imap.line();
    expect(greeting).toMatch(/^\* OK \[CAPABILITY [^\]]*\bSTARTTLS\b[^\]]*\bLOGINDISABLED\b/);
    imap.send('a1 CAPABILITY');
    const caps = (await imap.until('a1 ')).join('\n');
    expect(caps).toMatch(/\bSTARTTLS\b/);
    expect(caps).toMatch(/\bLOGINDISABLED\b/);
    expect(caps).not.toMatch(/AUTH=PLAIN/);
    imap.send(`a2 LOGIN alice "${env['MAILPROBE_LAB_PRIMARY_PASSWORD']}"`);
    expect((await imap.until('a2 ')).at(-1)).toMatch(/^a2 NO/);
    imap.send('a3 STARTTLS');
    expect((await imap.until('a3 ')).at(-1)).toMatch(/^a3 OK/);
    await imap.startTls(ca);
    imap.send('a4 CAPABILITY');
    const after = (await imap.until('a4 ')).join('\n');
    expect(after).not.toMatch(/LOGINDISABLED/);
    expect(after).toMatch(/AUTH=PLAIN/);
    imap.send(`a5 LOGIN alice "${env['MAILPROBE_LAB_PRIMARY_PASSWORD']}"`);
    expect((await imap.until('a5 ')).at(-1)).toMatch(/^a5 OK/);
    imap.send('a6 LOGOUT');
    imap.close();
  });

  it('refuses USER/PASS on plain POP3 until STLS (RFC 2595), then logs in', async () => {
    const pop = await LineClient.open(at('pop3'), null);
    expect(await pop.line()).toMatch(/^\+OK/);
    pop.send('CAPA');
    const capa = await pop.until('.');
    expect(capa).toContain('STLS');
    expect(capa).not.toContain('USER');
    expect(capa.join('\n')).not.toMatch(/^SASL .*PLAIN/m);
    pop.send('USER alice');
    const user = await pop.line();
    if (user.startsWith('+OK')) {
      pop.send(`PASS ${env['MAILPROBE_LAB_PRIMARY_PASSWORD']}`);
      expect(await pop.line()).toMatch(/^-ERR/);
    } else {
      expect(user).toMatch(/^-ERR/);
    }
    pop.send('STLS');
    expect(await pop.line()).toMatch(/^\+OK/);
    await pop.startTls(ca);
    pop.send('CAPA');
    const after = await pop.until('.');
    expect(after).toContain('USER');
    pop.send('USER alice');
    expect(await pop.line()).toMatch(/^\+OK/);
    pop.send(`PASS ${env['MAILPROBE_LAB_PRIMARY_PASSWORD']}`);
    expect(await pop.line()).toMatch(/^\+OK/);
    pop.send('QUIT');
    pop.close();
  });

  it('greets on the implicit-TLS ports with a certificate that verifies against the lab CA', async () => {
    for (const [endpoint, prefix] of [
      ['imaps', '* OK'],
      ['pop3s', '+OK'],
      ['smtps', '220 '],
    ] as const) {
      const c = await LineClient.open(at(endpoint), { ca });
      const first = endpoint === 'smtps' ? (await c.smtpReply()).at(-1) : await c.line();
      c.close();
      expect(first?.startsWith(prefix), `${endpoint} greeting ${JSON.stringify(first)}`).toBe(true);
    }
  });

  it('upgrades with STARTTLS / STLS on the plain ports, verifying the lab CA', async () => {
    const imap = await LineClient.open(at('imap'), null);
    expect(await imap.line()).toMatch(/^\* OK/);
    imap.send('a1 STARTTLS');
    expect((await imap.until('a1 ')).at(-1)).toMatch(/^a1 OK/);
    await imap.startTls(ca);
    imap.send('a2 CAPABILITY');
    expect((await imap.until('a2 ')).join('\n')).toMatch(/AUTH=PLAIN/);
    imap.close();

    const pop = await LineClient.open(at('pop3'), null);
    expect(await pop.line()).toMatch(/^\+OK/);
    pop.send('STLS');
    expect(await pop.line()).toMatch(/^\+OK/);
    await pop.startTls(ca);
    pop.send(`USER alice`);
    expect(await pop.line()).toMatch(/^\+OK/);
    pop.send(`PASS ${env['MAILPROBE_LAB_PRIMARY_PASSWORD']}`);
    expect(await pop.line()).toMatch(/^\+OK/);
    pop.send('QUIT');
    pop.close();
  });

  it('hides AUTH on submission until STARTTLS, then authenticates alice', async () => {
    const c = await LineClient.open(at('submission'), null);
    expect((await c.smtpReply()).at(-1)).toMatch(/^220 /);
    c.send('EHLO client.lab.test');
    const before = await c.smtpReply();
    expect(before.join('\n')).toMatch(/STARTTLS/);
    expect(before.join('\n')).not.toMatch(/AUTH/);
    c.send('STARTTLS');
    expect((await c.smtpReply()).at(-1)).toMatch(/^220 /);
    await c.startTls(ca);
    c.send('EHLO client.lab.test');
    expect((await c.smtpReply()).join('\n')).toMatch(/250-AUTH .*PLAIN/);
    const token = Buffer.from(`\0alice\0${env['MAILPROBE_LAB_PRIMARY_PASSWORD']}`).toString('base64');
    c.send(`AUTH PLAIN ${token}`);
    expect((await c.smtpReply()).at(-1)).toMatch(/^235 /);
    c.send('QUIT');
    c.close();
  });

  it('refuses relaying and unknown recipients on the SMTP port', async () => {
    const c = await LineClient.open(at('smtp'), null);
    await c.smtpReply();
    c.send('EHLO client.lab.test');
    const ehlo = await c.smtpReply();
    expect(ehlo.join('\n')).not.toMatch(/AUTH/);
    c.send('MAIL FROM:<bob@lab.test>');
    expect((await c.smtpReply()).at(-1)).toMatch(/^250 /);
    c.send('RCPT TO:<someone@example.com>');
    expect((await c.smtpReply()).at(-1)).toMatch(/^550 5\.7\.1/);
    c.send('RCPT TO:<nobody@lab.test>');
    expect((await c.smtpReply()).at(-1)).toMatch(/^550 5\.1\.1/);
    c.send('QUIT');
    c.close();
  });

  it("delivers a message sent over SMTP into alice's INBOX, visible over IMAP and POP3", async () => {
    const marker = `lab-test-${randomBytes(6).toString('hex')}`;
    const c = await LineClient.open(at('smtp'), null);
    await c.smtpReply();
    c.send('EHLO client.lab.test');
    await c.smtpReply();
    c.send('MAIL FROM:<bob@lab.test>');
    expect((await c.smtpReply()).at(-1)).toMatch(/^250 /);
    c.send('RCPT TO:<alice@lab.test>');
    expect((await c.smtpReply()).at(-1)).toMatch(/^250 /);
    c.send('DATA');
    expect((await c.smtpReply()).at(-1)).toMatch(/^354 /);
    c.send(`From: bob@lab.test\r\nTo: alice@lab.test\r\nSubject: ${marker}\r\nMessage-ID: <${marker}@lab.test>\r\n\r\nhello from the lab test\r\n.`);
    expect((await c.smtpReply()).at(-1)).toMatch(/^250 /);
    c.send('QUIT');
    c.close();

    const client = new ImapFlow({
      ...at('imap'),
      secure: false,
      doSTARTTLS: true,
      servername: 'localhost',
      tls: { ca, servername: 'localhost' },
      auth: { user: 'alice', pass: env['MAILPROBE_LAB_PRIMARY_PASSWORD'] ?? '' },
      logger: false,
      disableAutoIdle: true,
      disableAutoEnable: true,
    });
    await client.connect();
    try {
      const boxes = await client.list();
      const special = Object.fromEntries(boxes.filter((b) => b.specialUse).map((b) => [b.specialUse, b.specialUseSource]));
      expect(special).toMatchObject({
        '\\Drafts': 'extension',
        '\\Sent': 'extension',
        '\\Trash': 'extension',
        '\\Junk': 'extension',
      });

      // Delivery is asynchronous (queue manager -> LMTP); poll with a generous bound.
      let found: number[] = [];
      for (let i = 0; i < 100 && found.length === 0; i++) {
        const lock = await client.getMailboxLock('INBOX');
        try {
          found = (await client.search({ header: { 'message-id': marker } }, { uid: true })) || [];
        } finally {
          lock.release();
        }
        if (found.length === 0) await new Promise((r) => setTimeout(r, 200));
      }
      expect(found).toHaveLength(1);
    } finally {
      await client.logout();
    }

    const pop = await LineClient.open(at('pop3s'), { ca });
    await pop.line();
    pop.send('USER alice');
    await pop.line();
    pop.send(`PASS ${env['MAILPROBE_LAB_PRIMARY_PASSWORD']}`);
    expect(await pop.line()).toMatch(/^\+OK/);
    pop.send('UIDL');
    const uidl = await pop.until('.');
    expect(uidl.length).toBeGreaterThanOrEqual(3); // "+OK", at least one message, "."
    pop.send('RETR 1');
    const body = await pop.until('.');
    expect(body.join('\n')).toContain(`Subject: ${marker}`);
    pop.send('QUIT');
    pop.close();
  });

  it('treats a second up as harmless and returns the same lab', async () => {
    const before = await readFile(lab.envFile, 'utf8');
    const again = await labUp({ stateDir });
    expect(again.alreadyRunning).toBe(true);
    expect(again.ports).toEqual(lab.ports);
    expect(again.targetFile).toBe(lab.targetFile);
    expect(await readFile(lab.envFile, 'utf8')).toBe(before);
  });

  it('stops every process, including sessions of still-connected clients, and leaves no listener', async () => {
    // A logged-in IMAP session has its own imap process, which can outlive the
    // Dovecot master (LAB-NOTES 8); down must end it too.
    const held = await LineClient.open(at('imaps'), { ca });
    await held.line();
    held.send(`a1 LOGIN alice "${env['MAILPROBE_LAB_PRIMARY_PASSWORD']}"`);
    expect((await held.until('a1 ')).at(-1)).toMatch(/^a1 OK/);
    held.send('a2 SELECT INBOX');
    expect((await held.until('a2 ')).at(-1)).toMatch(/^a2 OK/);

    const { stopped } = await labDown({ stateDir });
    held.close();
    expect(stopped.some((s) => /dovecot \(pid \d+\)$/.test(s))).toBe(true);
    expect(stopped.some((s) => /\/master \(pid \d+\)$/.test(s))).toBe(true);
    expect(stopped.some((s) => /\/imap \(pid \d+\)$/.test(s))).toBe(true);
    const status = await labStatus({ stateDir });
    expect(status.running).toBe(false);
    expect(status.daemons.every((d) => !d.alive)).toBe(true);
    expect(status.ports.every((p) => !p.listening)).toBe(true);
    for (const endpoint of Object.keys(lab.ports) as EndpointName[]) {
      expect(await refused(at(endpoint).host, at(endpoint).port), endpoint).toBe(true);
    }
    // A second down finds nothing to do.
    expect((await labDown({ stateDir })).stopped).toEqual([]);
  });
});
