import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { FakeMailHost } from '../../fixtures/servers/fake-mail-host.js';
import type { TestCertificate } from '../../fixtures/servers/test-cert.js';
import { ACCOUNTS, startHost, withTempCert } from './setup.js';
import { WireClient, linesOf } from './wire-client.js';

describe('fake host TLS and target file', () => {
  let cert: TestCertificate;
  let cleanup: () => Promise<void>;
  let host: FakeMailHost | undefined;
  beforeAll(async () => {
    ({ cert, cleanup } = await withTempCert());
  });
  afterEach(async () => {
    await host?.close();
    host = undefined;
  });
  afterAll(() => cleanup());

  it('STLS: advertised in CAPA, upgrades with a verified certificate, login works after it', async () => {
    host = await startHost({}, cert);
    const { client } = await WireClient.open(host.pop3Port);
    expect(linesOf((await client.multi('CAPA')).body)).toContain('STLS');
    expect(await client.cmd('STLS')).toMatch(/^\+OK/);
    await client.startTls(cert.ca);
    expect(client.encrypted).toBe(true);
    expect(linesOf((await client.multi('CAPA')).body)).not.toContain('STLS');
    expect(await client.cmd('STLS')).toMatch(/^-ERR/);
    expect(await client.login('alice', 'alice-secret')).toMatch(/^\+OK/);
    expect(await client.cmd('STAT')).toBe('+OK 0 0');
  });

  it('STLS: commands pipelined after STLS in plaintext are discarded, not run under TLS', async () => {
    host = await startHost({}, cert);
    const { client } = await WireClient.open(host.pop3Port);
    client.write('STLS\r\nUSER alice\r\nPASS alice-secret\r\n');
    expect(await client.readLine()).toMatch(/^\+OK/);
    await client.startTls(cert.ca);
    // Had the injected USER/PASS run, the first reply here would be theirs and we would be logged in.
    expect(await client.cmd('STAT')).toMatch(/^-ERR/);
  });

  it('POP3S: implicit TLS verifies against the CA by IP and by name, and does not offer STLS', async () => {
    host = await startHost({}, cert);
    const { client, greeting } = await WireClient.open(host.pop3sPort!, { ca: cert.ca });
    expect(greeting).toMatch(/^\+OK/);
    expect(linesOf((await client.multi('CAPA')).body)).not.toContain('STLS');
    expect(await client.login('bob', 'bob pass with spaces')).toMatch(/^\+OK/);

    // No servername: Node checks the IP SAN against 127.0.0.1.
    const byIp = tlsConnect({ host: '127.0.0.1', port: host.pop3sPort!, ca: cert.ca });
    await new Promise<void>((resolve, reject) => {
      byIp.once('secureConnect', () => resolve());
      byIp.once('error', reject);
    });
    expect(byIp.authorized).toBe(true);
    byIp.destroy();

    // Without the CA the handshake must fail: the certificate really is from our throwaway CA.
    const untrusted = tlsConnect({ host: '127.0.0.1', port: host.pop3sPort!, servername: 'localhost' });
    const error = await new Promise<Error>((resolve) => untrusted.once('error', resolve));
    expect(error.message).toMatch(/certificate/i);
  });

  it('writes a target file with exactly the documented keys, with TLS', async () => {
    host = await startHost({}, cert);
    const dir = await mkdtemp(join(tmpdir(), 'mailprobe-target-'));
    try {
      const file = join(dir, 'fake.yaml');
      await host.writeTarget(file, { caFile: cert.caFile, passwordEnvPrefix: 'T_' });
      expect(parse(await readFile(file, 'utf8'))).toEqual({
        name: 'fake mail host',
        host: '127.0.0.1',
        tls: { verify: true, ca_file: cert.caFile, servername: 'localhost' },
        endpoints: {
          smtp: { port: host.smtpPort, security: 'none' },
          submission: { port: host.smtpPort, security: 'none' },
          pop3: { port: host.pop3Port, security: 'starttls' },
          pop3s: { port: host.pop3sPort, security: 'tls' },
        },
        accounts: {
          primary: { user: 'alice', address: 'alice@fake.test', password_env: 'T_PRIMARY_PASSWORD' },
          secondary: { user: 'bob', address: 'bob@fake.test', password_env: 'T_SECONDARY_PASSWORD' },
        },
      });
      expect(host.passwordEnv('T_')).toEqual({
        T_PRIMARY_PASSWORD: ACCOUNTS.alice.password,
        T_SECONDARY_PASSWORD: ACCOUNTS.bob.password,
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('writes a target file without TLS: no tls block, no pop3s, plain pop3, default prefix', async () => {
    host = await startHost();
    const dir = await mkdtemp(join(tmpdir(), 'mailprobe-target-'));
    try {
      const file = join(dir, 'fake.yaml');
      await host.writeTarget(file);
      const text = await readFile(file, 'utf8');
      expect(text).not.toContain('alice-secret');
      const doc = parse(text);
      expect(Object.keys(doc)).toEqual(['name', 'host', 'endpoints', 'accounts']);
      expect(doc.endpoints).toEqual({
        smtp: { port: host.smtpPort, security: 'none' },
        submission: { port: host.smtpPort, security: 'none' },
        pop3: { port: host.pop3Port, security: 'none' },
      });
      expect(doc.accounts.primary.password_env).toBe('MAILPROBE_FAKE_PRIMARY_PASSWORD');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
