import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpFaultServer, type SmtpFault, type SmtpFaultServer, type SmtpRole } from '../../fixtures/servers/smtp-fault-server.js';
import { REPO_ROOT, runSuite } from '../support/run-suite.js';
import { testCerts, type TestCerts } from '../support/test-certs.js';
import { startSmtpFake, type SmtpFake, type SmtpFakeOptions } from './fake-smtp.js';

/**
 * The SMTP suite's session steps against the fault servers, for what the
 * fault matrix does not look at: what mailprobe itself puts on the wire when a
 * server breaks a rule. A relay that accepts a foreign recipient, a host that
 * accepts an unknown user or an oversized declaration must get RSET at once
 * and never DATA; a port that takes AUTH in clear must never see a credential.
 */
const PASSWORD = 'alice-secret-pw';
let certs: TestCerts;
let dir: string;
const servers: SmtpFaultServer[] = [];

beforeAll(async () => {
  certs = await testCerts();
  dir = await mkdtemp(join(tmpdir(), 'mailprobe-smtp-steps-'));
});
afterAll(async () => {
  await certs?.cleanup();
  await rm(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function host(role: SmtpRole, fault?: SmtpFault): Promise<{ server: SmtpFaultServer; targetFile: string }> {
  const server = await startSmtpFaultServer({
    role,
    ...(fault ? { fault } : {}),
    ...(role === 'mx' ? {} : { keys: certs.localhost }),
    users: { alice: PASSWORD },
  });
  servers.push(server);
  const caFile = join(dir, 'ca.pem');
  await writeFile(caFile, certs.ca);
  const endpoint = role === 'mx' ? 'smtp' : role;
  const security = role === 'mx' ? 'none' : role === 'submission' ? 'starttls' : 'tls';
  const targetFile = join(dir, `${role}-${fault ?? 'faithful'}.yaml`);
  await writeFile(
    targetFile,
    [
      'name: smtp fault server',
      'host: 127.0.0.1',
      `tls: { verify: true, ca_file: ${caFile}, servername: localhost }`,
      'endpoints:',
      `  ${endpoint}: { port: ${server.port}, security: ${security} }`,
      'accounts:',
      `  primary: { user: alice, address: alice@${server.domain}, password_env: SMTP_STEPS_PASSWORD }`,
      'timeouts: { command: 3000, greeting: 3000, delivery: 2000 }',
      '',
    ].join('\n'),
  );
  return { server, targetFile };
}

async function run(targetFile: string, scenario: string) {
  const { result } = await runSuite({ targetFile, env: { SMTP_STEPS_PASSWORD: PASSWORD }, paths: [scenario] });
  expect(result.scenarios).toHaveLength(1);
  return result.scenarios[0]!;
}

const suite = (name: string) => join(REPO_ROOT, 'suites', 'smtp', name);

/** The commands the server received after the first one matching `after`. */
function commandsAfter(server: SmtpFaultServer, after: RegExp): string[] {
  const i = server.commands.findIndex((c) => after.test(c));
  expect(i, `the server received a command matching ${after}`).toBeGreaterThanOrEqual(0);
  return server.commands.slice(i + 1);
}

describe('relay, unknown user and SIZE checks never send a message', () => {
  it('the relay check passes on a host that refuses, and the transaction is reset', async () => {
    const { server, targetFile } = await host('mx');
    const result = await run(targetFile, suite('no-open-relay.yaml'));
    expect(result.state).toBe('passed');
    expect(server.commands.some((c) => /^DATA/i.test(c))).toBe(false);
  });

  it('an open relay fails at the RCPT check, citing RFC 5321 §3.6.2, and gets RSET at once, never DATA', async () => {
    const { server, targetFile } = await host('mx', 'open-relay');
    const result = await run(targetFile, suite('no-open-relay.yaml'));
    expect(result.state).toBe('failed');
    if (result.state !== 'failed') return;
    expect(result.failure.rfc).toMatch(/^RFC 5321 §3\.6\.2/);
    expect(result.failure.expected).toBe('false');
    expect(commandsAfter(server, /^RCPT TO:<mailprobe-relay-check-/i)[0]).toBe('RSET');
    expect(server.commands.some((c) => /^DATA/i.test(c))).toBe(false);
    expect(server.messages).toHaveLength(0);
  });

  it('a host that accepts an unknown user fails at RFC 5321 §3.3 and gets RSET at once, never DATA', async () => {
    const { server, targetFile } = await host('mx', 'unknown-user-accepted');
    const result = await run(targetFile, suite('unknown-recipient.yaml'));
    expect(result.state).toBe('failed');
    if (result.state !== 'failed') return;
    expect(result.failure.rfc).toMatch(/^RFC 5321 §3\.3/);
    expect(commandsAfter(server, /^RCPT TO:<mailprobe-no-such-user-/i)[0]).toBe('RSET');
    expect(server.commands.some((c) => /^DATA/i.test(c))).toBe(false);
  });

  it('a host that ignores a declared SIZE over its limit fails at RFC 1870 §6 and gets RSET at once, never DATA', async () => {
    const { server, targetFile } = await host('mx', 'size-ignored');
    const result = await run(targetFile, suite('size-limit.yaml'));
    expect(result.state).toBe('failed');
    if (result.state !== 'failed') return;
    expect(result.failure.rfc).toMatch(/^RFC 1870 §6/);
    const over = `SIZE=${server.sizeLimit + 1}`;
    expect(commandsAfter(server, new RegExp(`^MAIL FROM:.* ${over}`))[0]).toBe('RSET');
    expect(server.commands.some((c) => /^DATA/i.test(c))).toBe(false);
  });

  it('greylisting (450 to a local recipient) makes the unknown-user check inconclusive; a relay refused before it still passes', async () => {
    const { targetFile } = await host('mx', 'greylisting');
    const unknown = await run(targetFile, suite('unknown-recipient.yaml'));
    expect(unknown).toMatchObject({ state: 'inconclusive', reason: expect.stringMatching(/450 4\.7\.1/) });
    expect((await run(targetFile, suite('no-open-relay.yaml'))).state).toBe('passed');
  });
});

describe('the STARTTLS check never sends a credential in clear', () => {
  async function starttlsScenario(): Promise<string> {
    const file = join(dir, 'starttls-only.yaml');
    await writeFile(
      file,
      [
        'name: starttls only',
        'requires: { endpoints: [submission], accounts: [primary] }',
        'steps:',
        '  - name: before and after STARTTLS',
        '    action: smtp.starttls',
        '    with: { account: primary }',
        '    expect:',
        '      - { that: advertised, equals: true }',
        '      - that: plaintext_login_before_tls',
        '        length: 0',
        '        rfc: "RFC 4954 §4"',
        '      - { that: logged_in, equals: true }',
        '',
      ].join('\n'),
    );
    return file;
  }

  it('passes on a port that offers AUTH only after TLS', async () => {
    const { targetFile } = await host('submission');
    expect((await run(targetFile, await starttlsScenario())).state).toBe('passed');
  });

  it('fails where AUTH is offered and taken before TLS; the probe cancels with "*" and no credential crosses the clear connection', async () => {
    const { server, targetFile } = await host('submission', 'auth-before-tls');
    const result = await run(targetFile, await starttlsScenario());
    expect(result.state).toBe('failed');
    if (result.state !== 'failed') return;
    expect(result.failure.rfc).toBe('RFC 4954 §4');
    expect(result.failure.actual).toMatch(/EHLO lists AUTH PLAIN.*AUTH PLAIN answered 334/s);
    const probe = server.commands.indexOf('AUTH PLAIN');
    expect(server.commands[probe + 1]).toBe('*');
    const beforeTls = server.commands.slice(0, server.commands.indexOf('STARTTLS'));
    const secrets = [PASSWORD, Buffer.from(`\0alice\0${PASSWORD}`).toString('base64'), Buffer.from(PASSWORD).toString('base64')];
    for (const line of beforeTls) for (const secret of secrets) expect(line).not.toContain(secret);
  });

  it('a refused login after the upgrade is errored (the account is wrong), not a failed check', async () => {
    const { targetFile } = await host('submission');
    const { result } = await runSuite({ targetFile, env: { SMTP_STEPS_PASSWORD: 'wrong' }, paths: [await starttlsScenario()] });
    expect(result.scenarios[0]).toMatchObject({ state: 'errored', error: { code: 'EAUTH' } });
  });
});

describe('odd answers never let a message through, and verdicts name the real cause', () => {
  const fakes: SmtpFake[] = [];
  afterEach(async () => {
    await Promise.all(fakes.splice(0).map((f) => f.close()));
  });

  async function fakeHost(options: SmtpFakeOptions): Promise<{ fake: SmtpFake; targetFile: string }> {
    const fake = await startSmtpFake(options);
    fakes.push(fake);
    const targetFile = join(dir, `fake-${fake.port}.yaml`);
    await writeFile(
      targetFile,
      [
        'name: scripted smtp fake',
        'host: 127.0.0.1',
        'endpoints:',
        `  smtp: { port: ${fake.port}, security: none }`,
        `  submission: { port: ${fake.port}, security: none }`,
        'accounts:',
        '  primary: { user: alice, address: alice@fake.test, password_env: SMTP_STEPS_PASSWORD }',
        'timeouts: { command: 2000, greeting: 2000, delivery: 1000 }',
        '',
      ].join('\n'),
    );
    return { fake, targetFile };
  }

  async function scenario(name: string, steps: string): Promise<string> {
    const file = join(dir, `${name}.yaml`);
    await writeFile(
      file,
      `name: ${name}\nrequires: { endpoints: [smtp], accounts: [primary] }\nsessions:\n  mx: { protocol: smtp, endpoint: smtp, account: primary }\nsteps:\n${steps}`,
    );
    return file;
  }

  it('an open relay that refuses the RSET loses the connection; the relay check still fails at its own clause, and no DATA is sent', async () => {
    const { fake, targetFile } = await fakeHost({
      on: { RCPT: (s) => s.write('250 2.1.5 Ok\r\n'), RSET: (s) => s.write('502 5.5.1 RSET not here\r\n') },
    });
    const result = await run(targetFile, suite('no-open-relay.yaml'));
    expect(result).toMatchObject({ state: 'failed', failure: { rfc: expect.stringMatching(/^RFC 5321 §3\.6\.2/) } });
    expect(fake.server.received.some((l) => /^DATA/i.test(l))).toBe(false);
    // The connection that took the foreign RCPT was dropped when the server refused to reset it.
    if (result.state !== 'failed') return;
    expect(JSON.stringify(result.failure.transcript)).toContain('RSET was not accepted: dropping the connection');
    expect(fake.server.received.at(-1)).toBe('RSET');
  });

  it('251 (will forward) for the account is no delivery here: RSET at once, so no data can follow', async () => {
    const { fake, targetFile } = await fakeHost({ on: { RCPT: (s) => s.write('251 2.1.5 User not local; will forward to <alice@elsewhere.test>\r\n') } });
    const file = await scenario(
      'forwarded',
      [
        '  - { name: mail, action: smtp.mail, session: mx }',
        '  - name: rcpt',
        '    action: smtp.rcpt',
        '    session: mx',
        '    with: { to: alice@fake.test }',
        '    expect: [{ that: delivered_here, equals: false }, { that: reset, equals: true }]',
        '',
      ].join('\n'),
    );
    const result = await run(targetFile, file);
    expect(result.state).toBe('passed');
    const received = fake.server.received;
    expect(received[received.findIndex((l) => l.startsWith('RCPT TO:')) + 1]).toBe('RSET');
    expect(received.some((l) => /^DATA/i.test(l))).toBe(false);
  });

  it('smtp.auth on a session without TLS sends nothing and could not run (no password crosses a clear connection)', async () => {
    const { fake, targetFile } = await fakeHost({ ehlo: () => '250-fake.test\r\n250 AUTH PLAIN LOGIN\r\n' });
    const file = await scenario('plain-auth', '  - { name: auth, action: smtp.auth, session: mx }\n');
    const result = await run(targetFile, file);
    expect(result).toMatchObject({ state: 'errored', error: { code: 'EAUTH', message: expect.stringMatching(/without TLS/) } });
    expect(fake.server.received.some((l) => /^AUTH/i.test(l))).toBe(false);
  });

  it('a control RCPT the host refuses (a sender or client policy) means the check could not be made: errored, not failed', async () => {
    const { targetFile } = await fakeHost({ on: { RCPT: (s) => s.write('550 5.7.23 <alice@fake.test>: Recipient address rejected: SPF fail\r\n') } });
    const result = await run(targetFile, suite('unknown-recipient.yaml'));
    expect(result).toMatchObject({ state: 'errored', error: { code: 'EPOLICY' } });
  });

  it('a port that greets with 220 but knows neither EHLO nor HELO is the wrong port (errored), not an SMTP failure', async () => {
    const { targetFile } = await fakeHost({ on: { EHLO: (s) => s.write('500 what?\r\n'), HELO: (s) => s.write('500 what?\r\n') } });
    const result = await run(targetFile, suite('no-open-relay.yaml'));
    expect(result).toMatchObject({ state: 'errored', error: { code: 'EWRONG_PROTOCOL' } });
  });

  it('a 554 greeting is the host turning this client away: errored EREFUSED, not a broken rule', async () => {
    const { targetFile } = await fakeHost({ greeting: '554 5.7.1 Client host blocked using a block list\r\n' });
    const result = await run(targetFile, suite('no-open-relay.yaml'));
    expect(result).toMatchObject({ state: 'errored', error: { code: 'EREFUSED' } });
  });
});
