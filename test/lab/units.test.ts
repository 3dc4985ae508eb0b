import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { endianness, tmpdir } from 'node:os';
import { describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { LAB_ACCOUNTS, labEnvText, passwdFile, ssha512 } from '../../src/lab/accounts.js';
import { parseEnvFile } from '../../src/target/env-file.js';
import { isReadyGreeting, readGreeting } from '../../src/lab/greeting.js';
import { ensurePackages, installCommandLine, LAB_PACKAGES } from '../../src/lab/install.js';
import { DEFAULT_LAB_DIR, defaultLabDir, labLayout } from '../../src/lab/paths.js';
import { dovecotAddresses, ENDPOINT_HOST, ENDPOINTS, freePort, portIsFree, type LabPorts } from '../../src/lab/ports.js';
import { decodeProcAddress } from '../../src/lab/procs.js';
import { renderTargetFile } from '../../src/lab/target-file.js';
import { renderTemplate, renderTemplateFile, TEMPLATE_DIR } from '../../src/lab/templates.js';
import { LabError } from '../../src/lab/errors.js';
import { parseServerList } from '../../src/lab/servers/index.js';
import { cyrus } from '../../src/lab/servers/cyrus.js';
import { courier } from '../../src/lab/servers/courier.js';
import { extraVirtualMailboxes } from '../../src/lab/lab.js';
import { pinsCompanion } from '../../src/lab/unpack.js';
import { readState, writeState } from '../../src/lab/state.js';
import { runCli } from '../support/cli.js';
import { loadTargetFile } from '../../src/target/index.js';
import { testCerts } from '../support/test-certs.js';

const REPO_ROOT = resolve(import.meta.dirname, '..', '..');

const ports: LabPorts = { smtp: 10025, submission: 10587, smtps: 10465, pop3: 10110, pop3s: 10995, imap: 10143, imaps: 10993 };

describe('defaultLabDir', () => {
  it('uses MAILPROBE_LAB_DIR when set, /tmp/mailprobe-lab otherwise', () => {
    expect(defaultLabDir({})).toBe(DEFAULT_LAB_DIR);
    expect(defaultLabDir({ MAILPROBE_LAB_DIR: '  ' })).toBe(DEFAULT_LAB_DIR);
    expect(defaultLabDir({ MAILPROBE_LAB_DIR: '/srv/lab/' })).toBe('/srv/lab');
  });
});

describe('labLayout', () => {
  it('rejects paths that cannot go unquoted into daemon configs', () => {
    for (const bad of ['relative/dir', '/tmp/has space', '/tmp/' + 'x'.repeat(80), '/']) {
      expect(() => labLayout(bad), bad).toThrow(LabError);
    }
    expect(labLayout('/tmp/lab').authSocket).toBe('/tmp/lab/dovecot/run/auth-postfix');
  });
});

describe('install hint', () => {
  it('names the exact apt-get command for the missing packages', () => {
    expect(installCommandLine(LAB_PACKAGES)).toBe(
      "sudo sh -c 'apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends " +
        "dovecot-core dovecot-imapd dovecot-pop3d postfix'",
    );
  });

  it('tells a non-root user what to install instead of trying', async () => {
    const spy = vi.spyOn(process, 'getuid').mockReturnValue(1000);
    try {
      const err = await ensurePackages('/nonexistent/install.log', () => {}, ['mailprobe-no-such-package']).catch((e) => e);
      expect(err).toBeInstanceOf(LabError);
      expect(err.code).toBe('ELAB_PACKAGES_MISSING');
      expect(err.message).toContain(installCommandLine(['mailprobe-no-such-package']));
    } finally {
      spy.mockRestore();
    }
  });
});

describe('target file', () => {
  it('starts with the editor schema comment, naming the shipped target schema', async () => {
    const text = renderTargetFile(ports, '/tmp/lab/tls/ca.pem');
    const first = text.split('\n')[0] ?? '';
    const m = /^# yaml-language-server: \$schema=(\S+)$/.exec(first);
    expect(m, first).not.toBeNull();
    // An absolute path, so that a copy of the file anywhere on this machine keeps its editor support.
    const schemaFile = m![1]!;
    expect(isAbsolute(schemaFile)).toBe(true);
    expect(schemaFile).toBe(join(REPO_ROOT, 'schema', 'target.schema.json'));
    const schema = JSON.parse(await readFile(schemaFile, 'utf8')) as { properties?: Record<string, unknown> };
    expect(Object.keys(schema.properties ?? {})).toEqual(expect.arrayContaining(['host', 'endpoints', 'accounts']));
  });

  it('has exactly the agreed keys and a header comment', () => {
    const text = renderTargetFile(ports, '/tmp/lab/tls/ca.pem');
    expect(text.split('\n')[1]).toMatch(/^# Written by `mailprobe lab up`/);
    expect(text).toMatch(/template for a real host/);
    const doc = parse(text) as Record<string, any>;
    expect(doc).toEqual({
      name: 'mailprobe lab',
      host: '127.0.0.1',
      tls: { verify: true, ca_file: '/tmp/lab/tls/ca.pem', servername: 'localhost' },
      endpoints: {
        smtp: { port: 10025, security: 'none' },
        submission: { port: 10587, security: 'starttls' },
        smtps: { port: 10465, security: 'tls' },
        pop3: { host: '127.0.0.2', port: 10110, security: 'starttls' },
        pop3s: { port: 10995, security: 'tls' },
        imap: { host: '127.0.0.2', port: 10143, security: 'starttls' },
        imaps: { port: 10993, security: 'tls' },
      },
      accounts: {
        primary: {
          user: 'alice',
          address: 'alice@lab.test',
          password_env: 'MAILPROBE_LAB_PRIMARY_PASSWORD',
          // Stand-ins, so that --concurrency 4 has four INBOXes on the lab.
          stand_ins: [
            { user: 'dave', address: 'dave@lab.test', password_env: 'MAILPROBE_LAB_PRIMARY_2_PASSWORD' },
            { user: 'erin', address: 'erin@lab.test', password_env: 'MAILPROBE_LAB_PRIMARY_3_PASSWORD' },
            { user: 'frank', address: 'frank@lab.test', password_env: 'MAILPROBE_LAB_PRIMARY_4_PASSWORD' },
          ],
        },
        secondary: { user: 'bob', address: 'bob@lab.test', password_env: 'MAILPROBE_LAB_SECONDARY_PASSWORD' },
        third: { user: 'carol', address: 'carol@lab.test', password_env: 'MAILPROBE_LAB_THIRD_PASSWORD' },
      },
    });
  });

  it('gives only the plain imap and pop3 endpoints their own host, in the flow-map layout', () => {
    const text = renderTargetFile(ports, '/tmp/lab/tls/ca.pem');
    expect(text).toMatch(/^ {2}pop3: +\{ host: 127\.0\.0\.2, port: 10110, security: starttls \}$/m);
    expect(text).toMatch(/^ {2}imap: +\{ host: 127\.0\.0\.2, port: 10143, security: starttls \}$/m);
    expect(text.match(/host: 127\.0\.0\.2/g)).toHaveLength(2);
    expect(text).toMatch(/^ {2}imaps: +\{ port: 10993, security: tls \}$/m);
  });

  it('loads through the target loader with 127.0.0.2 for plain imap/pop3 only', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mailprobe-lab-unit-'));
    const certs = await testCerts();
    try {
      // The loader reads the CA file and wants a PEM certificate in it.
      await writeFile(join(dir, 'ca.pem'), certs.ca);
      await writeFile(join(dir, 'target.yaml'), renderTargetFile(ports, join(dir, 'ca.pem')));
      const target = await loadTargetFile(join(dir, 'target.yaml'));
      const hosts = Object.fromEntries(ENDPOINTS.map((e) => [e, target.endpoints[e]?.host]));
      expect(hosts).toEqual(ENDPOINT_HOST);
    } finally {
      await rm(dir, { recursive: true, force: true });
      await certs.cleanup();
    }
  });
});

describe("Courier's lab module", () => {
  it('writes a target file with every endpoint on 127.0.0.4 and the courier.lab.test accounts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mailprobe-lab-unit-'));
    const certs = await testCerts();
    try {
      await writeFile(join(dir, 'ca.pem'), certs.ca);
      await writeFile(join(dir, 'target-courier.yaml'), courier.renderTarget(ports, join(dir, 'ca.pem')));
      const target = await loadTargetFile(join(dir, 'target-courier.yaml'));
      expect(Object.fromEntries(ENDPOINTS.map((e) => [e, target.endpoints[e]?.host]))).toEqual(Object.fromEntries(ENDPOINTS.map((e) => [e, '127.0.0.4'])));
      expect(Object.fromEntries(ENDPOINTS.map((e) => [e, target.endpoints[e]?.port]))).toEqual(ports);
      const text = await readFile(join(dir, 'target-courier.yaml'), 'utf8');
      expect(text).toMatch(/^ {2}primary: +\{ user: alice, +address: alice@courier\.lab\.test, +password_env: MAILPROBE_LAB_PRIMARY_PASSWORD,$/m);
      expect(courier.targetFile(labLayout('/tmp/lab-x'))).toBe('/tmp/lab-x/target-courier.yaml');
      // Its known deviations load as the target loader reads them: check, reason and clause (test/lab/courier.test.ts holds their evidence).
      expect(target.deviations.map((d) => [d.check, d.reason, d.rfc])).toEqual(
        ['uidnext-in-select', 'uidnext-in-phone-select', 'uidnext-in-reselect'].map((id) => [
          `imap/uid-stability#${id}`,
          'Courier sends UIDNEXT only in STATUS, never in the SELECT response',
          'RFC 3501 §6.3.1: UIDNEXT is among the REQUIRED OK untagged responses to SELECT',
        ]),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
      await certs.cleanup();
    }
  });

  it("merges a server's virtual mailbox domain into Dovecot's virtual_mailbox_domains and maps", () => {
    expect(extraVirtualMailboxes([{ main: '', master: '' }])).toEqual({ extra_virtual_domains: '', extra_virtual_maps: '' });
    expect(
      extraVirtualMailboxes([
        { main: '', master: '' },
        { main: '', master: '', virtualMailbox: { domain: 'courier.lab.test', mapFile: '/s/pf/courier-recipients' } },
      ]),
    ).toEqual({ extra_virtual_domains: ', courier.lab.test', extra_virtual_maps: ', texthash:/s/pf/courier-recipients' });
  });

  it('takes an unpacked package built for the installed companion: same version, or a Depends pinned to it', () => {
    // courier-imap carries its own version and pins courier-base's; cyrus-imapd has cyrus-common's.
    const imapDepends = 'courier-base (= 1.0.16-3+b6), debconf | debconf-2.0, gamin, libc6 (>= 2.34)';
    expect(pinsCompanion('5.0.13+1.0.16-3+b6', imapDepends, 'courier-base', '1.0.16-3+b6')).toBe(true);
    expect(pinsCompanion('5.0.13+1.0.16-3+b6', imapDepends, 'courier-base', '1.0.16-3+b7')).toBe(false);
    expect(pinsCompanion('5.0.13+1.0.16-3+b6', 'courier-base (>= 1.0.16-3+b6)', 'courier-base', '1.0.16-3+b6')).toBe(false);
    expect(pinsCompanion('3.6.1-4+deb12u5', 'cyrus-common (= 3.6.1-4+deb12u5)', 'cyrus-common', '3.6.1-4+deb12u5')).toBe(true);
    expect(pinsCompanion('3.6.1-4+deb12u4', 'cyrus-common (= 3.6.1-4+deb12u4)', 'cyrus-common', '3.6.1-4+deb12u5')).toBe(false);
  });

  it("renders Courier's settings on 127.0.0.4 with Debian's verdict-shaping defaults kept and TLS required before login", async () => {
    const imapd = await renderTemplateFile('courier/imapd.tmpl', { host: '127.0.0.4', imap_port: 1143, gam_client_id: 'mailprobe-x' });
    expect(imapd).toMatch(/^ADDRESS=127\.0\.0\.4$/m);
    expect(imapd).toMatch(/^PORT=1143$/m);
    expect(imapd).toMatch(/^IMAP_ENHANCEDIDLE=1$/m);
    expect(imapd).toMatch(/^GAM_CLIENT_ID=mailprobe-x$/m);
    // No SPECIAL-USE, no CONDSTORE: Debian's capability list, as on a real Courier host.
    expect(imapd).toMatch(/^IMAP_CAPABILITY="IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE"$/m);
    const ssl = await renderTemplateFile('courier/imapd-ssl.tmpl', { host: '127.0.0.4', imaps_port: 1993, dhparams_line: '' });
    expect(ssl).toMatch(/^SSLADDRESS=127\.0\.0\.4$/m);
    expect(ssl).toMatch(/^IMAP_TLS_REQUIRED=1$/m);
    expect(ssl).toMatch(/^TLS_CERTFILE=\/etc\/courier\/server\.pem$/m);
    const pop3ssl = await renderTemplateFile('courier/pop3d-ssl.tmpl', { host: '127.0.0.4', pop3s_port: 1995, dhparams_line: '' });
    expect(pop3ssl).toMatch(/^POP3_TLS_REQUIRED=1$/m);
    const auth = await renderTemplateFile('courier/authdaemonrc.tmpl', { daemons: 3 });
    expect(auth).toMatch(/^authmodulelist="authuserdb"$/m);

    const part = await renderTemplateFile('courier/master.cf.part.tmpl', {
      host: '127.0.0.4',
      smtp_port: 2025,
      submission_port: 2587,
      smtps_port: 2465,
      sasl_name: 'courier-smtpd',
    });
    const services = part.split('\n').filter((l) => /^\S+\s+inet\s/.test(l));
    expect(services.map((l) => l.split(/\s+/)[0])).toEqual(['127.0.0.4:2025', '127.0.0.4:2587', '127.0.0.4:2465']);
    for (const line of services) expect(line.split(/\s+/)[4], line).toBe('n');
    expect(part.match(/smtpd_sasl_path=courier-smtpd/g)).toHaveLength(2);
  });
});

describe("Cyrus's target file and the lab state", () => {
  it('loads through the target loader with every endpoint on 127.0.0.3 and the cyrus.lab.test accounts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mailprobe-lab-unit-'));
    const certs = await testCerts();
    try {
      await writeFile(join(dir, 'ca.pem'), certs.ca);
      await writeFile(join(dir, 'target-cyrus.yaml'), cyrus.renderTarget({ ...ports, lmtp: 10024 }, join(dir, 'ca.pem')));
      const target = await loadTargetFile(join(dir, 'target-cyrus.yaml'));
      expect(Object.fromEntries(ENDPOINTS.map((e) => [e, target.endpoints[e]?.host]))).toEqual(Object.fromEntries(ENDPOINTS.map((e) => [e, '127.0.0.3'])));
      expect(Object.fromEntries(ENDPOINTS.map((e) => [e, target.endpoints[e]?.port]))).toEqual(ports);
      const text = await readFile(join(dir, 'target-cyrus.yaml'), 'utf8');
      expect(text).not.toMatch(/lmtp/);
      expect(text).toMatch(/^ {2}primary: +\{ user: alice, +address: alice@cyrus\.lab\.test, +password_env: MAILPROBE_LAB_PRIMARY_PASSWORD,$/m);
      // No known deviations: smtp/utf8-address's failure there departs from no clause (test/lab/cyrus.test.ts).
      expect(target.deviations).toEqual([]);
      expect(text).not.toMatch(/deviations/);
    } finally {
      await rm(dir, { recursive: true, force: true });
      await certs.cleanup();
    }
  });

  it("round-trips further servers' ports and PIDs in state.json, and reads a state written before them", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mailprobe-lab-unit-'));
    try {
      const file = join(dir, 'state.json');
      const base = { version: 1 as const, instance: 'i', ports, dovecotPid: 100, postfixPid: 200, startedAt: 't' };
      await writeState(file, { ...base, servers: { cyrus: { ports: { imap: 1, lmtp: 2 }, pids: { master: 300, syslog: null } } } });
      expect((await readState(file))?.servers).toEqual({ cyrus: { ports: { imap: 1, lmtp: 2 }, pids: { master: 300, syslog: null } } });
      await writeFile(file, JSON.stringify(base));
      expect(await readState(file)).toEqual({ ...base, servers: {} });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('endpoint addresses', () => {
  it('puts plain IMAP and POP3 on 127.0.0.2 and everything else on 127.0.0.1', () => {
    expect(ENDPOINT_HOST).toEqual({
      smtp: '127.0.0.1',
      submission: '127.0.0.1',
      smtps: '127.0.0.1',
      pop3: '127.0.0.2',
      pop3s: '127.0.0.1',
      imap: '127.0.0.2',
      imaps: '127.0.0.1',
    });
    expect(dovecotAddresses()).toEqual({
      listen: '127.0.0.1, 127.0.0.2',
      imap_address: '127.0.0.2',
      imaps_address: '127.0.0.1',
      pop3_address: '127.0.0.2',
      pop3s_address: '127.0.0.1',
    });
  });

  it('probes free ports on the address the endpoint binds', async () => {
    const { createServer } = await import('node:net');
    const port = await freePort('127.0.0.2');
    const server = createServer();
    await new Promise<void>((r) => server.listen({ host: '127.0.0.2', port, exclusive: true }, r));
    try {
      expect(await portIsFree('127.0.0.2', port)).toBe(false);
    } finally {
      await new Promise((r) => server.close(r));
    }
    expect(await portIsFree('127.0.0.2', port)).toBe(true);
  });

  it('decodes /proc/net/tcp{,6} addresses', () => {
    const le = (hex: string) =>
      hex
        .match(/.{8}/g)!
        .map((w) => w.match(/../g)!.reverse().join(''))
        .join('');
    const raw = (hex: string) => (endianness() === 'LE' ? le(hex) : hex);
    expect(decodeProcAddress(raw('7F000002'))).toBe('127.0.0.2');
    expect(decodeProcAddress(raw('00000000'))).toBe('0.0.0.0');
    expect(decodeProcAddress(raw('00000000000000000000000000000000'))).toBe('::');
    expect(decodeProcAddress(raw('00000000000000000000FFFF7F000001'))).toBe('127.0.0.1');
  });
});

describe('passwords', () => {
  const passwords = new Map(LAB_ACCOUNTS.map((a, i) => [a.passwordEnv, `pw-${i}-secret`] as const));

  it('stores Dovecot {SSHA512} hashes that verify, never the password', () => {
    const salt = Buffer.from('0123456789abcdef');
    const hash = ssha512('s3cret', salt);
    const raw = Buffer.from(hash.slice('{SSHA512}'.length), 'base64');
    expect(raw.subarray(64)).toEqual(salt);
    expect(raw.subarray(0, 64)).toEqual(createHash('sha512').update('s3cret').update(salt).digest());
    const file = passwdFile(passwords);
    expect(
      file
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(':')[0]),
    ).toEqual(['alice', 'bob', 'carol', 'dave', 'erin', 'frank']);
    for (const pw of passwords.values()) expect(file).not.toContain(pw);
  });

  it('round-trips lab.env', () => {
    // The lab writes what the one env-file parser (the CLI's --env-file) reads back.
    const parsed = parseEnvFile(labEnvText(passwords), 'lab.env');
    expect(parsed).toEqual(Object.fromEntries(passwords));
  });
});

describe('greetings', () => {
  it("accepts only the protocol's ready greeting", () => {
    expect(isReadyGreeting('imap', '* OK [CAPABILITY IMAP4rev1] ready\r\n')).toBe(true);
    expect(isReadyGreeting('imap', '* BYE shutting down\r\n')).toBe(false);
    expect(isReadyGreeting('pop3', '+OK Dovecot ready.\r\n')).toBe(true);
    expect(isReadyGreeting('pop3', '-ERR no\r\n')).toBe(false);
    expect(isReadyGreeting('smtp', '220-mail.lab.test ESMTP\r\n220 mailprobe-lab\r\n')).toBe(true);
    expect(isReadyGreeting('smtp', '554 5.3.2 not now\r\n')).toBe(false);
    expect(isReadyGreeting('smtp', '220-only a continuation\r\n')).toBe(false);
  });
});

describe("reading a lab port's greeting", () => {
  /** A plain-text server on the lab's SMTP address that writes `chunks` to each client, one after another. */
  async function greeter(chunks: readonly string[]): Promise<{ server: Server; port: number }> {
    const server = createServer((socket) => {
      socket.on('error', () => {});
      let i = 0;
      const next = (): void => {
        if (i < chunks.length && !socket.destroyed) socket.write(chunks[i++] as string, () => setTimeout(next, 5));
      };
      next();
    });
    await new Promise<void>((resolve) => server.listen(0, ENDPOINT_HOST.smtp, resolve));
    return { server, port: (server.address() as { port: number }).port };
  }

  it('reads a multi-line SMTP greeting to its last line, even when it arrives in pieces', async () => {
    const { server, port } = await greeter(['220-mail.lab', '.test ESMTP\r\n', '220 mailprobe-lab\r\n']);
    try {
      const text = await readGreeting('smtp', port, '');
      expect(text).toBe('220-mail.lab.test ESMTP\r\n220 mailprobe-lab\r\n');
      expect(isReadyGreeting('smtp', text)).toBe(true);
    } finally {
      server.close();
    }
  });

  it('gives up on a silent port within its timeout (generous bound)', async () => {
    const { server, port } = await greeter([]);
    try {
      const started = Date.now();
      await expect(readGreeting('smtp', port, '', 200)).rejects.toThrow(/greeting|200 ms/);
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      server.close();
    }
  });
});

describe('templates', () => {
  it('fails on a missing or an unused value', () => {
    expect(renderTemplate('t', 'a={{a}}', { a: 1 })).toBe('a=1');
    expect(() => renderTemplate('t', 'a={{a}}', {})).toThrow(/no value for \{\{a\}\}/);
    expect(() => renderTemplate('t', 'a={{a}}', { a: 1, b: 2 })).toThrow(/never used: b/);
  });

  it('renders the shipped daemon configs with loopback-only listeners', async () => {
    const dovecot = await renderTemplateFile('dovecot.conf.tmpl', {
      instance_name: 'i',
      base_dir: '/s/run',
      state_dir: '/s/lib',
      log_file: '/s/log',
      tls_cert: '/s/c',
      tls_key: '/s/k',
      ssl_dh_line: '',
      passwd_file: '/s/p',
      mail_uid: 999,
      mail_gid: 999,
      mail_dir: '/s/mail',
      imap_port: ports.imap,
      imaps_port: ports.imaps,
      pop3_port: ports.pop3,
      pop3s_port: ports.pop3s,
      ...dovecotAddresses(),
    });
    expect(dovecot).toMatch(/^listen = 127\.0\.0\.1, 127\.0\.0\.2$/m);
    expect(dovecot).toMatch(/^auth_username_format = %Ln$/m);
    expect(dovecot).toMatch(/^pop3_uidl_format = /m);
    for (const box of ['Drafts', 'Sent', 'Trash', 'Junk']) {
      expect(dovecot).toMatch(new RegExp(`mailbox ${box} \\{\\s+special_use = \\\\${box}\\s+auto = subscribe`));
    }
    // Plain imap/pop3 on 127.0.0.2, so Dovecot does not count 127.0.0.1 -> 127.0.0.1 as secured.
    const listeners = [...dovecot.matchAll(/inet_listener (\w+) \{\s+address = (\S+)/g)].map((m) => [m[1], m[2]]);
    expect(Object.fromEntries(listeners)).toEqual({
      imap: '127.0.0.2',
      imaps: '127.0.0.1',
      pop3: '127.0.0.2',
      pop3s: '127.0.0.1',
    });

    const main = await renderTemplateFile('main.cf.tmpl', {
      config_dir: '/s/pf',
      queue_dir: '/s/q',
      data_dir: '/s/d',
      log_file: '/s/log/postfix.log',
      log_dir: '/s/log',
      recipients_file: '/s/r',
      mail_dir: '/s/mail',
      mail_uid: 991,
      mail_gid: 992,
      tls_cert: '/s/c',
      tls_key: '/s/k',
      // Dovecot alone adds nothing to Postfix (servers/dovecot.ts).
      server_main_cf: '',
      ...extraVirtualMailboxes([{ main: '', master: '' }]),
    });
    expect(main).toMatch(/^virtual_mailbox_domains = lab\.test$/m);
    expect(main).toMatch(/^virtual_mailbox_maps = texthash:\/s\/r$/m);
    expect(main).toMatch(/^inet_interfaces = 127\.0\.0\.1$/m);
    expect(main).toMatch(/^default_transport = error:/m);
    expect(main).toMatch(/^relay_transport = error:/m);
    expect(main).toMatch(/^smtpd_peername_lookup = no$/m);
    expect(main).toMatch(/^virtual_transport = virtual$/m);
    expect(main).toMatch(/^virtual_mailbox_base = \/s\/mail$/m);
    expect(main).toMatch(/^virtual_uid_maps = static:991$/m);
    expect(
      main
        .split('\n')
        .filter((l) => !l.startsWith('#'))
        .join('\n'),
    ).not.toMatch(/permit_mynetworks/);
    // The SMTP suite's rules, as the lab states them (test/lab/smtp-rules.test.ts sees them on the wire).
    expect(main).toMatch(/^smtpd_relay_restrictions = reject_unauth_destination$/m);
    expect(main).toMatch(/^unknown_virtual_mailbox_reject_code = 550$/m);
    expect(main).toMatch(/^relay_domains_reject_code = 550$/m);
    expect(main).toMatch(/^message_size_limit = \d+$/m);
    expect(main).toMatch(/^smtputf8_enable = yes$/m);

    const master = await renderTemplateFile('master.cf.tmpl', {
      smtp_port: ports.smtp,
      submission_port: ports.submission,
      smtps_port: ports.smtps,
      auth_socket: '/s/run/auth-postfix',
      server_master_cf: '',
    });
    const inet = master
      .split('\n')
      .filter((l) => /^\S+\s+inet\s/.test(l))
      .map((l) => l.split(/\s+/)[0]);
    expect(inet).toEqual([`127.0.0.1:${ports.smtp}`, `127.0.0.1:${ports.submission}`, `127.0.0.1:${ports.smtps}`]);
    // chroot (5th column) is off for every service, so absolute socket paths work.
    const services = master.split('\n').filter((l) => /^\S/.test(l) && !l.startsWith('#'));
    expect(services.length).toBeGreaterThan(10);
    for (const line of services) expect(line.split(/\s+/)[4], line).toBe('n');
    expect(master).toMatch(/^postlog\s+unix-dgram/m);
    // Submission hides AUTH until STARTTLS and requires TLS before mail.
    const submission = master.slice(master.indexOf(`127.0.0.1:${ports.submission}`), master.indexOf(`127.0.0.1:${ports.smtps}`));
    expect(submission).toMatch(/-o smtpd_tls_auth_only=yes/);
    expect(submission).toMatch(/-o smtpd_tls_security_level=encrypt/);
  });

  it("renders Cyrus's configs with every listener on 127.0.0.3 and its own -C on every command", async () => {
    const conf = await renderTemplateFile('cyrus/cyrus.conf.tmpl', {
      host: '127.0.0.3',
      common_bin: '/usr/lib/cyrus/bin',
      server_bin: '/s/cyrus/root/usr/lib/cyrus/bin',
      imapd_conf: '/s/cyrus/imapd.conf',
      imap_port: 1143,
      imaps_port: 1993,
      pop3_port: 1110,
      pop3s_port: 1995,
      lmtp_port: 1024,
    });
    const cmds = [...conf.matchAll(/cmd="([^"]*)"/g)].map((m) => m[1] as string);
    expect(cmds.length).toBeGreaterThanOrEqual(7);
    // The master does not hand its -C to its children.
    for (const cmd of cmds) expect(cmd, cmd).toMatch(/^\/\S+ .*-C \/s\/cyrus\/imapd\.conf/);
    expect([...conf.matchAll(/listen="([^"]*)"/g)].map((m) => m[1])).toEqual([
      '127.0.0.3:1143',
      '127.0.0.3:1993',
      '127.0.0.3:1110',
      '127.0.0.3:1995',
      '127.0.0.3:1024',
    ]);
    expect(conf).toMatch(/lmtpd -a -C/);

    const imapd = await renderTemplateFile('cyrus/imapd.conf.tmpl', {
      config_dir: '/s/cyrus/lib',
      spool_dir: '/s/cyrus/spool',
      proc_dir: '/s/cyrus/run/proc',
      lock_dir: '/s/cyrus/run/lock',
      socket_dir: '/s/cyrus/run/socket',
      syslog_prefix: 'p',
      sasldb: '/s/cyrus/sasldb2',
      tls_cert: '/s/c',
      tls_key: '/s/cyrus/k',
    });
    // Debian compiles /run/cyrus in: both paths must be the lab's.
    expect(imapd).toMatch(/^proc_path: \/s\/cyrus\/run\/proc$/m);
    expect(imapd).toMatch(/^mboxname_lockpath: \/s\/cyrus\/run\/lock$/m);
    expect(imapd).toMatch(/^allowplaintext: no$/m);
    expect(imapd).toMatch(/^autocreate_quota: 0$/m);
    expect(imapd).toMatch(/^autocreate_inbox_folders: Drafts\|Sent\|Trash$/m);
    // Cyrus's defaults that shape verdicts are not overridden.
    expect(imapd).not.toMatch(/^(delete_mode|expunge_mode|altnamespace|unixhierarchysep):/m);

    const part = await renderTemplateFile('cyrus/master.cf.part.tmpl', {
      host: '127.0.0.3',
      smtp_port: 2025,
      submission_port: 2587,
      smtps_port: 2465,
      sasl_realm: 'localhost',
    });
    expect(
      part
        .split('\n')
        .filter((l) => /^\S+\s+inet\s/.test(l))
        .map((l) => l.split(/\s+/)[0]),
    ).toEqual(['127.0.0.3:2025', '127.0.0.3:2587', '127.0.0.3:2465']);
    for (const line of part.split('\n').filter((l) => /^\S+\s+inet\s/.test(l))) expect(line.split(/\s+/)[4], line).toBe('n');
  });

  it('parses --servers: Dovecot always first, in the known order; unknown names refused with the known names', () => {
    expect(parseServerList('dovecot')).toEqual(['dovecot']);
    expect(parseServerList('dovecot,cyrus')).toEqual(['dovecot', 'cyrus']);
    expect(parseServerList(' Cyrus , dovecot,cyrus')).toEqual(['dovecot', 'cyrus']);
    expect(parseServerList('cyrus')).toEqual(['dovecot', 'cyrus']);
    expect(parseServerList('courier')).toEqual(['dovecot', 'courier']);
    expect(parseServerList('courier,dovecot,cyrus')).toEqual(['dovecot', 'cyrus', 'courier']);
    const refused = (text: string) => {
      try {
        parseServerList(text);
      } catch (err) {
        expect(err).toBeInstanceOf(LabError);
        expect((err as LabError).code).toBe('ELAB_USAGE');
        return (err as Error).message;
      }
      throw new Error(`accepted ${text}`);
    };
    expect(refused('dovecot,exim')).toBe('unknown server "exim" in --servers (known: dovecot, cyrus, courier)');
    expect(refused(' , ')).toMatch(/at least one name/);
  });

  it('lab up --servers with an unknown name is exit 2 naming the known ones, before anything is created', async () => {
    const stateDir = join(tmpdir(), `mailprobe-lab-usage-${process.pid}`);
    for (const [servers, message] of [
      ['dovecot,exim', /^mailprobe lab up: unknown server "exim" in --servers \(known: dovecot, cyrus, courier\)$/m],
      [' , ', /^mailprobe lab up: --servers needs at least one name/m],
    ] as const) {
      const res = await runCli(['lab', 'up', '--servers', servers], { env: { MAILPROBE_LAB_DIR: stateDir } });
      expect(res.code, res.stderr).toBe(2);
      expect(res.stderr).toMatch(message);
      expect(res.stdout).toBe('');
      expect(existsSync(stateDir)).toBe(false);
    }
  });

  it('ships no key or certificate in the template folder', async () => {
    const courierFiles = ['authdaemonrc', 'imapd', 'imapd-ssl', 'pop3d', 'pop3d-ssl', 'start.sh', 'master.cf.part'].map((f) => `courier/${f}.tmpl`);
    for (const f of ['dovecot.conf.tmpl', 'main.cf.tmpl', 'master.cf.tmpl', 'cyrus/imapd.conf.tmpl', 'cyrus/cyrus.conf.tmpl', ...courierFiles]) {
      expect(await readFile(join(TEMPLATE_DIR, f), 'utf8')).not.toMatch(/BEGIN [A-Z ]*(PRIVATE KEY|CERTIFICATE)/);
    }
    expect(ENDPOINTS).toHaveLength(7);
  });
});
