import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { labDown, labStatus, labUp, readLabEnv, type LabInfo, type LabServerInfo } from '../../src/lab/index.js';
import { commandLine, environVar } from '../../src/lab/procs.js';
import { COURIER_ACCOUNTS, courierPaths } from '../../src/lab/servers/courier.js';
import { labLayout } from '../../src/lab/paths.js';
import { LineClient, isRoot, refused, imapLogin } from './line-client.js';

// Integration test of `lab up --servers dovecot,courier` in its own state dir: it
// installs what is missing (courier-base, courier-authdaemon, courier-authlib-userdb,
// gamin; courier-imap and courier-pop downloaded and unpacked privately), starts
// Dovecot, Courier and Postfix, and checks Courier on the wire. Needs root, like
// test/lab/lab.test.ts; CI runs as root.

async function pop3Login(p: LineClient, user: string, password: string): Promise<string> {
  p.send(`USER ${user}`);
  const user1 = await p.line();
  if (!user1.startsWith('+OK')) return user1;
  p.send(`PASS ${password}`);
  return p.line();
}

/** A POP3 multi-line reply after its status line, up to the "." line. */
async function pop3Lines(p: LineClient): Promise<string[]> {
  const out: string[] = [];
  for (;;) {
    const l = await p.line();
    if (l === '.') return out;
    out.push(l);
  }
}

/**
 * The wire evidence for each cell of Courier's column in the cross-server
 * matrix (test/integration/server-matrix.test.ts, which runs the shipped
 * suites on the test lab's Courier) that is not a plain pass:
 * - imap/uid-stability passes with three known deviations, which the lab's
 *   target-courier.yaml lists (uidnext-in-select, uidnext-in-phone-select,
 *   uidnext-in-reselect): Courier's SELECT sends no [UIDNEXT], on the first
 *   connection, on a second one and on a re-SELECT (RFC 3501 §6.3.1 lists
 *   UIDNEXT among the "REQUIRED OK untagged responses"); STATUS does give it.
 * - imap/draft-sync is skipped: a new Courier account has no Drafts mailbox
 *   and Courier has no SPECIAL-USE, whose attributes RFC 6154 calls optional
 *   ("new optional mailbox attributes that a server may include"). It failed
 *   the host for that once, which blamed a compliant server.
 * - smtp/utf8-address passes. It failed once by the harness's misjudgement:
 *   the message was delivered, but the harness read it over POP3 without the
 *   UTF8 command Courier advertises (RFC 6856), so Courier showed a "Cannot
 *   display Unicode content" notice in its place. POP3 sessions now send UTF8
 *   before the login when CAPA offers it; the evidence shows both readings.
 * - imap/condstore-modseq is skipped, rightly: Courier has no CONDSTORE.
 */
/** The checks target-courier.yaml lists as known deviations; each one fails on Courier, none is fixed. */
const EXPECTED_DEVIATIONS = ['imap/uid-stability#uidnext-in-select', 'imap/uid-stability#uidnext-in-phone-select', 'imap/uid-stability#uidnext-in-reselect'];

describe.skipIf(!isRoot)('lab with Courier-IMAP (lab up --servers dovecot,courier)', () => {
  let stateDir = '';
  let lab: LabInfo;
  let courier: LabServerInfo;
  let env: Record<string, string> = {};
  let ca: Buffer;
  const logLines: string[] = [];
  const at = (name: string) => ({ host: courier.hosts[name] as string, port: courier.ports[name] as number });
  const password = (role: 'primary' | 'secondary' | 'third') => env[`MAILPROBE_LAB_${role.toUpperCase()}_PASSWORD`] ?? '';

  /** Log in over submission (STARTTLS) as `user` and send one message; returns the final reply to DATA. */
  async function submit(user: string, pw: string, envelope: { from: string; to: string; smtputf8?: boolean }, message: string): Promise<string> {
    const c = await LineClient.open(at('submission'), null);
    await c.smtpReply();
    c.send('EHLO client.lab.test');
    await c.smtpReply();
    c.send('STARTTLS');
    expect((await c.smtpReply()).at(-1)).toMatch(/^220 /);
    await c.startTls(ca);
    c.send('EHLO client.lab.test');
    await c.smtpReply();
    c.send(`AUTH PLAIN ${Buffer.from(`\0${user}\0${pw}`).toString('base64')}`);
    expect((await c.smtpReply()).at(-1)).toMatch(/^235 /);
    c.send(`MAIL FROM:<${envelope.from}>${envelope.smtputf8 ? ' SMTPUTF8' : ''}`);
    expect((await c.smtpReply()).at(-1)).toMatch(/^250 /);
    c.send(`RCPT TO:<${envelope.to}>`);
    expect((await c.smtpReply()).at(-1)).toMatch(/^250 /);
    c.send('DATA');
    expect((await c.smtpReply()).at(-1)).toMatch(/^354 /);
    c.send(`${message}\r\n.`);
    const reply = (await c.smtpReply()).at(-1) as string;
    c.send('QUIT');
    c.close();
    return reply;
  }

  /** UID SEARCH for a Message-ID in INBOX over imaps at `where` (EXAMINE: read-only). */
  async function searchInbox(where: { host: string; port: number }, user: string, pw: string, marker: string): Promise<string> {
    const i = await LineClient.open(where, { ca });
    await i.line();
    expect(await imapLogin(i, user, pw)).toMatch(/^l1 OK/);
    i.send('e1 EXAMINE INBOX');
    await i.until('e1 ');
    i.send(`s1 UID SEARCH HEADER Message-ID "${marker}"`);
    const hit = (await i.until('s1 ')).find((l) => l.startsWith('* SEARCH')) ?? '';
    i.close();
    return hit.replace(/^\* SEARCH\s*/, '');
  }

  async function courierProcs(): Promise<string[]> {
    const paths = courierPaths(labLayout(stateDir));
    const found: string[] = [];
    for (const pid of (await readdir('/proc')).filter((e) => /^\d+$/.test(e))) {
      const cmd = await commandLine(Number(pid));
      if (cmd === '') continue;
      if (cmd.includes(paths.dir) || (await environVar(Number(pid), 'MAILPROBE_LAB_COURIER')) === paths.dir) found.push(`${pid} ${cmd}`);
    }
    return found;
  }

  beforeAll(async () => {
    stateDir = await mkdtemp('/tmp/mailprobe-lab-courier-');
    const started = Date.now();
    lab = await labUp({ stateDir, servers: ['dovecot', 'courier'], log: (l) => logLines.push(l) });
    logLines.push(`(test) lab up with courier took ${Date.now() - started} ms`);
    process.stderr.write(`[courier lab] ${logLines.join('\n[courier lab] ')}\n`);
    courier = lab.servers.find((s) => s.name === 'courier') as LabServerInfo;
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

  it('writes target-courier.yaml beside target.yaml, in the same shape, on 127.0.0.4; no password in any file it wrote', async () => {
    expect(lab.servers.map((s) => s.name)).toEqual(['dovecot', 'courier']);
    expect(courier.targetFile).toBe(join(stateDir, 'target-courier.yaml'));
    const text = await readFile(courier.targetFile, 'utf8');
    expect(text.split('\n')[0]).toBe((await readFile(lab.targetFile, 'utf8')).split('\n')[0]);
    const target = parse(text) as Record<string, any>;
    expect(Object.keys(target)).toEqual(['name', 'host', 'tls', 'endpoints', 'accounts', 'deviations']);
    expect(target['host']).toBe('127.0.0.4');
    expect(target['deviations']).toEqual(
      EXPECTED_DEVIATIONS.map((check) => ({
        check,
        reason: 'Courier sends UIDNEXT only in STATUS, never in the SELECT response',
        rfc: 'RFC 3501 §6.3.1: UIDNEXT is among the REQUIRED OK untagged responses to SELECT',
      })),
    );
    expect(target['endpoints']).toEqual({
      smtp: { port: courier.ports['smtp'], security: 'none' },
      submission: { port: courier.ports['submission'], security: 'starttls' },
      smtps: { port: courier.ports['smtps'], security: 'tls' },
      pop3: { port: courier.ports['pop3'], security: 'starttls' },
      pop3s: { port: courier.ports['pop3s'], security: 'tls' },
      imap: { port: courier.ports['imap'], security: 'starttls' },
      imaps: { port: courier.ports['imaps'], security: 'tls' },
    });
    expect(target['accounts']['primary']).toEqual({
      user: 'alice',
      address: 'alice@courier.lab.test',
      password_env: 'MAILPROBE_LAB_PRIMARY_PASSWORD',
      // Stand-ins, so that --concurrency 4 has four INBOXes on the lab.
      stand_ins: ['dave', 'erin', 'frank'].map((user, i) => ({
        user,
        address: `${user}@courier.lab.test`,
        password_env: `MAILPROBE_LAB_PRIMARY_${i + 2}_PASSWORD`,
      })),
    });
    expect((parse(await readFile(lab.targetFile, 'utf8')) as Record<string, any>)['host']).toBe('127.0.0.1');
    const paths = courierPaths(labLayout(stateDir));
    // The userdb holds SHA-512 crypt hashes, never a password.
    const userdb = await readFile(paths.userdb, 'utf8');
    expect(
      userdb
        .split('\n')
        .filter(Boolean)
        .map((l) => /systempw=\$6\$/.test(l)),
    ).toEqual(COURIER_ACCOUNTS.map(() => true));
    const written = [text, userdb, await readFile(paths.startScript, 'utf8'), logLines.join('\n')];
    for (const f of ['imapd', 'imapd-ssl', 'pop3d', 'pop3d-ssl', 'authdaemonrc']) written.push(await readFile(join(paths.etcDir, f), 'utf8'));
    for (const pw of Object.values(env)) for (const content of written) expect(content).not.toContain(pw);
  });

  it('greets as Courier on every Courier port, and as the lab Postfix on its SMTP ports, all on 127.0.0.4', async () => {
    for (const [name, tls, pattern] of [
      ['imap', false, /^\* OK \[CAPABILITY [^\]]*\] Courier-IMAP ready\./],
      ['imaps', true, /^\* OK \[CAPABILITY [^\]]*\] Courier-IMAP ready\./],
      ['pop3', false, /^\+OK Hello there\./],
      ['pop3s', true, /^\+OK Hello there\./],
      ['smtp', false, /^220 mail\.lab\.test ESMTP mailprobe-lab/],
      ['submission', false, /^220 mail\.lab\.test ESMTP mailprobe-lab/],
      ['smtps', true, /^220 mail\.lab\.test ESMTP mailprobe-lab/],
    ] as const) {
      expect(courier.hosts[name], name).toBe('127.0.0.4');
      const c = await LineClient.open(at(name), tls ? { ca } : null);
      expect(await c.line(), name).toMatch(pattern);
      c.close();
    }
    const status = await labStatus({ stateDir });
    expect(status.running).toBe(true);
    expect(status.daemons.map((d) => [d.name, d.alive])).toEqual([
      ['dovecot', true],
      ['postfix', true],
      ['courier authdaemond', true],
      ['courier imapd', true],
      ['courier imapd-ssl', true],
      ['courier pop3d', true],
      ['courier pop3d-ssl', true],
    ]);
    expect(status.ports.filter((p) => p.server === 'courier').map((p) => [p.endpoint, p.host, p.listening])).toEqual(
      Object.keys(courier.ports).map((n) => [n, '127.0.0.4', true]),
    );
  });

  it('advertises LOGINDISABLED and refuses LOGIN before STARTTLS, then logs in after it; POP3 likewise around STLS', async () => {
    const c = await LineClient.open(at('imap'), null);
    expect(await c.line()).toMatch(/STARTTLS LOGINDISABLED/);
    expect(await imapLogin(c, 'alice', password('primary'))).toMatch(/^l1 NO/);
    c.send('s1 STARTTLS');
    expect((await c.until('s1 ')).at(-1)).toMatch(/^s1 OK/);
    await c.startTls(ca);
    c.send('c1 CAPABILITY');
    const caps = (await c.until('c1 ')).join('\n');
    expect(caps).not.toMatch(/LOGINDISABLED|STARTTLS/);
    expect(caps).toMatch(/AUTH=PLAIN/);
    expect(await imapLogin(c, 'alice', password('primary'))).toMatch(/^l1 OK/);
    c.send('z LOGOUT');
    c.close();

    const p = await LineClient.open(at('pop3'), null);
    await p.line();
    p.send('USER alice');
    expect(await p.line()).toMatch(/^-ERR/);
    p.send('STLS');
    expect(await p.line()).toMatch(/^\+OK/);
    await p.startTls(ca);
    expect(await pop3Login(p, 'alice', password('primary'))).toMatch(/^\+OK/);
    p.send('QUIT');
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
    expect(await pop3Login(p, 'bob', `${password('secondary')}x`)).toMatch(/^-ERR/);
    p.close();
    const q = await LineClient.open(at('pop3s'), { ca });
    await q.line();
    expect(await pop3Login(q, 'bob', password('secondary'))).toMatch(/^\+OK/);
    q.send('QUIT');
    q.close();
  });

  it("keeps Courier's defaults: the INBOX. namespace with '.', no SPECIAL-USE, no CONDSTORE, no Drafts at first login", async () => {
    // carol has never logged in before this test.
    const c = await LineClient.open(at('imaps'), { ca });
    await c.line();
    expect(await imapLogin(c, 'carol', password('third'))).toMatch(/^l1 OK/);
    c.send('c1 CAPABILITY');
    const caps = (await c.until('c1 ')).find((l) => l.startsWith('* CAPABILITY')) ?? '';
    expect(caps).toMatch(/ IDLE/);
    expect(caps).not.toMatch(/SPECIAL-USE|CONDSTORE|XLIST/);
    c.send('n1 NAMESPACE');
    expect((await c.until('n1 ')).find((l) => l.startsWith('* NAMESPACE'))).toBe('* NAMESPACE (("INBOX." ".")) NIL (("#shared." ".")("shared." "."))');
    c.send('l2 LIST "" "*"');
    const list = await c.until('l2 ');
    expect(list.at(-1)).toMatch(/^l2 OK/);
    expect(list.filter((l) => l.startsWith('* LIST'))).toEqual(['* LIST (\\Unmarked \\HasNoChildren) "." "INBOX"']);
    c.send('z LOGOUT');
    c.close();
  });

  it("delivers a message sent over Courier's submission endpoint into Courier's Maildir, not Dovecot's; AUTH asks Courier's userdb", async () => {
    // A wrong password is refused by Postfix through authdaemond (535), before any mail.
    const bad = await LineClient.open(at('smtps'), { ca });
    await bad.smtpReply();
    bad.send('EHLO client.lab.test');
    expect((await bad.smtpReply()).join('\n')).toMatch(/AUTH (PLAIN LOGIN|LOGIN PLAIN)/);
    bad.send(`AUTH PLAIN ${Buffer.from(`\0alice\0${password('primary')}x`).toString('base64')}`);
    expect((await bad.smtpReply()).at(-1)).toMatch(/^535 /);
    bad.close();

    const marker = `courier-lab-test-${randomBytes(6).toString('hex')}`;
    const reply = await submit(
      'alice',
      password('primary'),
      { from: 'alice@courier.lab.test', to: 'alice@courier.lab.test' },
      `From: alice@courier.lab.test\r\nTo: alice@courier.lab.test\r\nSubject: ${marker}\r\nMessage-ID: <${marker}@lab.test>\r\n\r\nhello Courier\r\n`,
    );
    expect(reply).toMatch(/^250 /);
    // Delivery is asynchronous (queue manager -> virtual(8)); poll with a generous bound.
    let found = '';
    for (let i = 0; i < 100 && found === ''; i++) {
      found = await searchInbox(at('imaps'), 'alice', password('primary'), marker);
      if (found === '') await new Promise((r) => setTimeout(r, 200));
    }
    expect(found).toMatch(/^\d+$/);
    const paths = courierPaths(labLayout(stateDir));
    const maildir = join(paths.mailBase, 'alice', 'Maildir');
    const texts: string[] = [];
    for (const sub of ['new', 'cur']) for (const f of await readdir(join(maildir, sub))) texts.push(await readFile(join(maildir, sub, f), 'utf8'));
    expect(texts.some((t) => t.includes(`Message-ID: <${marker}@lab.test>`))).toBe(true);
    const dovecotImaps = lab.servers[0] as LabServerInfo;
    expect(
      await searchInbox({ host: dovecotImaps.hosts['imaps'] as string, port: dovecotImaps.ports['imaps'] as number }, 'alice', password('primary'), marker),
    ).toBe('');
  });

  it('pushes new mail to an IDLE session within seconds (IMAP_ENHANCEDIDLE with gamin, not the 60 s poll)', async () => {
    const c = await LineClient.open(at('imaps'), { ca });
    await c.line();
    expect(await imapLogin(c, 'bob', password('secondary'))).toMatch(/^l1 OK/);
    c.send('s1 SELECT INBOX');
    const selected = await c.until('s1 ');
    const before = Number(/^\* (\d+) EXISTS$/.exec(selected.find((l) => / EXISTS$/.test(l)) ?? '')?.[1] ?? NaN);
    c.send('i1 IDLE');
    expect(await c.line()).toMatch(/^\+ /);
    const marker = `courier-idle-${randomBytes(6).toString('hex')}`;
    const sentAt = Date.now();
    expect(
      await submit(
        'bob',
        password('secondary'),
        { from: 'bob@courier.lab.test', to: 'bob@courier.lab.test' },
        `From: bob@courier.lab.test\r\nTo: bob@courier.lab.test\r\nSubject: ${marker}\r\nMessage-ID: <${marker}@lab.test>\r\n\r\nidle\r\n`,
      ),
    ).toMatch(/^250 /);
    // Generous bound (a shared, noisy machine): Courier pushes in well under a second
    // here; Debian's default (IMAP_ENHANCEDIDLE=0) would poll every 60 s.
    let exists = '';
    while (exists === '') {
      const l = await c.line(20_000);
      if (/^\* \d+ EXISTS$/.test(l)) exists = l;
    }
    const waited = Date.now() - sentAt;
    process.stderr.write(`[courier lab] IDLE EXISTS ${waited} ms after the submission's 250\n`);
    expect(Number(/^\* (\d+) EXISTS$/.exec(exists)?.[1])).toBe(before + 1);
    expect(waited).toBeLessThan(20_000);
    c.send('DONE');
    expect((await c.until('i1 ')).at(-1)).toMatch(/^i1 OK/);
    // The run's own message goes again.
    c.send(`u1 UID SEARCH HEADER Message-ID "${marker}"`);
    const uid = ((await c.until('u1 ')).find((l) => l.startsWith('* SEARCH')) ?? '').replace(/^\* SEARCH\s*/, '');
    expect(uid).toMatch(/^\d+$/);
    c.send(`d1 UID STORE ${uid} +FLAGS.SILENT (\\Deleted)`);
    await c.until('d1 ');
    c.send(`x1 UID EXPUNGE ${uid}`);
    expect((await c.until('x1 ')).at(-1)).toMatch(/^x1 OK/);
    c.close();
  }, 60_000);

  it("has the wire evidence of each cell of Courier's matrix column that is not a plain pass", async () => {
    const c = await LineClient.open(at('imaps'), { ca });
    await c.line();
    expect(await imapLogin(c, 'carol', password('third'))).toMatch(/^l1 OK/);
    // imap/uid-stability (Courier's deviation): SELECT carries UIDVALIDITY but no [UIDNEXT]; STATUS has it.
    c.send('s1 SELECT INBOX');
    const select = await c.until('s1 ');
    expect(select.at(-1)).toMatch(/^s1 OK \[READ-WRITE\]/);
    expect(select.some((l) => /^\* OK \[UIDVALIDITY \d+\]/.test(l))).toBe(true);
    expect(select.some((l) => /UIDNEXT/.test(l))).toBe(false);
    c.send('t1 STATUS INBOX (UIDNEXT UIDVALIDITY)');
    expect((await c.until('t1 ')).find((l) => l.startsWith('* STATUS'))).toMatch(/^\* STATUS "?INBOX"? \(UIDNEXT \d+ UIDVALIDITY \d+\)$/);
    // uidnext-in-reselect: a SELECT of the mailbox already selected has none either.
    c.send('s2 SELECT INBOX');
    const reselect = await c.until('s2 ');
    expect(reselect.at(-1)).toMatch(/^s2 OK/);
    expect(reselect.some((l) => /UIDNEXT/.test(l))).toBe(false);
    // uidnext-in-phone-select: nor does a second connection's SELECT (the scenario's "phone").
    const phone = await LineClient.open(at('imaps'), { ca });
    await phone.line();
    expect(await imapLogin(phone, 'carol', password('third'))).toMatch(/^l1 OK/);
    phone.send('s1 SELECT INBOX');
    const phoneSelect = await phone.until('s1 ');
    expect(phoneSelect.at(-1)).toMatch(/^s1 OK/);
    expect(phoneSelect.some((l) => /^\* OK \[UIDVALIDITY \d+\]/.test(l))).toBe(true);
    expect(phoneSelect.some((l) => /UIDNEXT/.test(l))).toBe(false);
    phone.send('z LOGOUT');
    phone.close();
    // imap/draft-sync (skipped): no SPECIAL-USE and no Drafts mailbox on a fresh
    // account, yet a client may make one, as mail clients do on such hosts.
    c.send('l1 LIST "" "*"');
    expect((await c.until('l1 ')).filter((l) => /Drafts/i.test(l))).toEqual([]);
    const drafts = `INBOX.mailprobe-drafts-${randomBytes(4).toString('hex')}`;
    c.send(`c1 CREATE ${drafts}`);
    expect((await c.until('c1 ')).at(-1)).toMatch(/^c1 OK/);
    c.send(`d1 DELETE ${drafts}`);
    expect((await c.until('d1 ')).at(-1)).toMatch(/^d1 OK/);
    c.send('z LOGOUT');
    c.close();

    // smtp/utf8-address (once the harness's misjudgement): the message arrives, but a POP3
    // client that has not sent UTF8 (which Courier's CAPA offers) is shown a notice in its
    // place; one that sends UTF8 before the login, as the harness now does, sees the message.
    const marker = `courier-utf8-${randomBytes(6).toString('hex')}`;
    expect(
      await submit(
        'carol',
        password('third'),
        { from: 'carol@courier.lab.test', to: 'carol@courier.lab.test', smtputf8: true },
        `From: Prüfung <prüfung@courier.lab.test>\r\nTo: carol@courier.lab.test\r\nSubject: ${marker} Grüße\r\nMessage-ID: <${marker}@lab.test>\r\n` +
          'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nGrüße\r\n',
      ),
    ).toMatch(/^250 /);
    let found = '';
    for (let i = 0; i < 100 && found === ''; i++) {
      found = await searchInbox(at('imaps'), 'carol', password('third'), marker);
      if (found === '') await new Promise((r) => setTimeout(r, 200));
    }
    expect(found).toMatch(/^\d+$/);
    const top = async (utf8: boolean): Promise<{ capa: string[]; headers: string[]; n: string }> => {
      const p = await LineClient.open(at('pop3s'), { ca });
      await p.line();
      p.send('CAPA');
      expect(await p.line()).toMatch(/^\+OK/);
      const capa = await pop3Lines(p);
      if (utf8) {
        p.send('UTF8');
        expect(await p.line()).toMatch(/^\+OK/);
      }
      expect(await pop3Login(p, 'carol', password('third'))).toMatch(/^\+OK/);
      p.send('STAT');
      const n = (await p.line()).split(' ')[1] as string;
      p.send(`TOP ${n} 0`);
      expect(await p.line()).toMatch(/^\+OK/);
      const headers = await pop3Lines(p);
      if (utf8) {
        // The evidence is read; the test's own message goes again.
        p.send(`DELE ${n}`);
        expect(await p.line()).toMatch(/^\+OK/);
      }
      p.send('QUIT');
      await p.line();
      p.close();
      return { capa, headers, n };
    };
    const plain = await top(false);
    expect(plain.capa).toContain('UTF8 USER');
    expect(plain.headers).toContain('Subject: Cannot display Unicode content');
    expect(plain.headers.some((l) => l.includes(marker))).toBe(false);
    const withUtf8 = await top(true);
    expect(withUtf8.n).toBe(plain.n);
    expect(withUtf8.headers).toContain(`Message-ID: <${marker}@lab.test>`);
  }, 300_000);

  it('treats a second up (with or without --servers) as harmless, keeping Courier', async () => {
    const again = await labUp({ stateDir });
    expect(again.alreadyRunning).toBe(true);
    expect(again.servers.map((s) => s.name)).toEqual(['dovecot', 'courier']);
    expect(again.servers[1]?.ports).toEqual(courier.ports);
  });

  it('ends every Courier process by PID at lab down: authdaemond and its children, couriertls, sessions and gam_server', async () => {
    // An IDLE session over implicit TLS: couriertls, imapd and gam_server (which daemonised itself) run for it.
    const held = await LineClient.open(at('imaps'), { ca });
    await held.line();
    expect(await imapLogin(held, 'bob', password('secondary'))).toMatch(/^l1 OK/);
    held.send('s1 SELECT INBOX');
    await held.until('s1 ');
    held.send('i1 IDLE');
    expect(await held.line()).toMatch(/^\+ /);
    const before = await courierProcs();
    for (const what of [
      / \/usr\/libexec\/gam_server$/,
      /couriertls -server/,
      /\/courier\/root\/usr\/bin\/imapd /,
      / \/usr\/lib\/courier\/courier-authlib\/authdaemond$/,
    ]) {
      expect(
        before.some((l) => what.test(l)),
        `${what} in\n${before.join('\n')}`,
      ).toBe(true);
    }

    const { stopped } = await labDown({ stateDir });
    held.close();
    expect(stopped.some((s) => /^\/usr\/lib\/courier\/courier-authlib\/authdaemond \(pid \d+\)$/.test(s))).toBe(true);
    expect(stopped.some((s) => /^\/usr\/libexec\/gam_server \(pid \d+\)$/.test(s))).toBe(true);
    expect(stopped.filter((s) => /^\/usr\/sbin\/couriertcpd \(pid \d+\)$/.test(s))).toHaveLength(4);
    expect(await courierProcs()).toEqual([]);
    for (const name of Object.keys(courier.ports)) expect(await refused(at(name).host, at(name).port), name).toBe(true);
    const status = await labStatus({ stateDir });
    expect(status.running).toBe(false);
    expect(status.daemons.every((d) => !d.alive)).toBe(true);
  });
});
