import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTarget } from '../../src/runner/load-inputs.js';
import { LoadError } from '../../src/core/diagnostics.js';
import { parseEnvFile } from '../../src/target/env-file.js';
import { loadTargetFile, loadTargetSource } from '../../src/target/load.js';
import { DEFAULT_TIMEOUTS } from '../../src/target/model.js';
import { collectSecrets, resolveAccountPassword, SecretError } from '../../src/target/secrets.js';

const targets = path.resolve('fixtures/scenarios/targets');

describe('loading a good target', () => {
  it('resolves endpoints, tls overrides, CA text, accounts and timeouts', async () => {
    const file = path.join(targets, 'good/lab.yaml');
    const t = await loadTargetFile(file);
    expect(t.name).toBe('mailprobe lab');
    expect(t.host).toBe('127.0.0.1');
    const caFile = path.join(targets, 'good/ca.pem');
    const ca = readFileSync(caFile, 'utf8');
    expect(t.tls).toEqual({ verify: true, insecure: false, caFile, ca, servername: 'localhost' });
    expect(Object.keys(t.endpoints)).toEqual(['smtp', 'submission', 'smtps', 'pop3', 'pop3s', 'imap', 'imaps']);
    expect(t.endpoints.submission).toMatchObject({ name: 'submission', protocol: 'smtp', host: '127.0.0.1', port: 10587, security: 'starttls', tls: t.tls });
    expect(t.endpoints.submission?.source).toEqual({ file, line: 10, col: 15 });
    // An endpoint that speaks about verification decides it alone; other fields are inherited.
    expect(t.endpoints.pop3s).toMatchObject({
      host: 'pop.lab.test',
      protocol: 'pop3',
      tls: { verify: false, insecure: true, caFile, servername: 'localhost' },
    });
    expect(t.endpoints.imaps?.tls).toEqual({ verify: true, insecure: false, caFile, ca, servername: 'imap.lab.test' });
    expect(t.accounts.primary).toEqual({
      role: 'primary',
      user: 'alice',
      address: 'alice@lab.test',
      passwordEnv: 'MAILPROBE_LAB_PRIMARY_PASSWORD',
      source: { file, line: 17, col: 14 },
    });
    expect(t.timeouts).toEqual({ ...DEFAULT_TIMEOUTS, greeting: 2000 });
    expect(t.capabilitiesRequired).toEqual({ pop3: ['UIDL', 'TOP'] });
  });

  it('treats verify: false as insecure, so reports can say so', () => {
    const t = loadTargetSource('name: t\nhost: h\ntls: { verify: false }\nendpoints: { pop3: { port: 110, security: none } }\naccounts: {}\n', 't.yaml', '/');
    expect(t.tls).toEqual({ verify: false, insecure: true });
    expect(t.timeouts).toEqual(DEFAULT_TIMEOUTS);
  });
});

describe('bad target corpus', () => {
  const dir = path.join(targets, 'bad');
  const cases = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort();

  it('has at least 8 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(8);
  });

  it.each(cases)('%s', async (name) => {
    const file = path.join(dir, name);
    const [head = '', ...lines] = readFileSync(file.replace(/\.yaml$/, '.expected'), 'utf8')
      .trimEnd()
      .split('\n');
    const err = await loadTargetFile(file).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(LoadError);
    expect((err as LoadError).code).toBe(head.replace(/^#\s*/, ''));
    expect((err as LoadError).diagnostics.map((d) => `${d.pos.line}:${d.pos.col}: ${d.message}`)).toEqual(lines);
  });

  it('never repeats a password written into the file in its messages', async () => {
    const err = (await loadTargetFile(path.join(dir, 'password-in-file.yaml')).catch((e: unknown) => e)) as LoadError;
    expect(err.message).not.toContain('hunter2');
    for (const d of err.diagnostics) expect(d.message).not.toContain('hunter2');
    const err2 = (await loadTargetFile(path.join(dir, 'bad-password-env.yaml')).catch((e: unknown) => e)) as LoadError;
    for (const d of err2.diagnostics) expect(d.message).not.toContain('s3cret');
  });

  // What `mailprobe run` and `validate` print: each diagnostic with its code frame.
  it.each([
    ['password-in-file.yaml', ['hunter2']],
    ['password-block.yaml', ['S3cret!pass']],
    ['password-flow.yaml', ['S3cret!pass']],
    ['bad-password-env.yaml', ['s3cret pass!']],
    ['password-env-not-a-name.yaml', ['Hunter2', 'hunter2_pw']],
  ])('prints %s with [redacted] in the frame and never the secret', async (name, secrets) => {
    const err = await loadTargetFile(path.join(dir, name)).catch((e: unknown) => e);
    const printed = (await loadTarget(path.join(dir, name))).problems.join('\n\n');
    expect(printed).toContain('[redacted]');
    expect(printed).toMatch(/> +\d+ \| .*(password|password_env): \[redacted\]/);
    for (const s of secrets) expect(printed).not.toContain(s);
    for (const s of secrets) expect((err as LoadError).message).not.toContain(s);
  });
});

describe('secrets', () => {
  const account = { role: 'primary', user: 'alice', address: 'a@x.test', passwordEnv: 'PRIMARY_PW', source: { file: 't', line: 1, col: 1 } };

  it('reads the password from the given env', () => {
    expect(resolveAccountPassword(account, { PRIMARY_PW: 'pw1' })).toBe('pw1');
  });

  it('names the missing variable, with a stable code', () => {
    for (const env of [{}, { PRIMARY_PW: '' }]) {
      let err: unknown;
      try {
        resolveAccountPassword(account, env);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(SecretError);
      expect(err).toMatchObject({ code: 'ESECRET_MISSING', variable: 'PRIMARY_PW' });
      expect((err as Error).message).toContain('PRIMARY_PW');
    }
  });

  it('collects every password that is set, once', async () => {
    const t = await loadTargetFile(path.join(targets, 'good/lab.yaml'));
    expect(collectSecrets(t, { MAILPROBE_LAB_PRIMARY_PASSWORD: 'p1', MAILPROBE_LAB_SECONDARY_PASSWORD: 'p1', OTHER: 'x' })).toEqual(['p1']);
    expect(collectSecrets(t, { MAILPROBE_LAB_PRIMARY_PASSWORD: 'p1', MAILPROBE_LAB_SECONDARY_PASSWORD: 'p2' }).sort()).toEqual(['p1', 'p2']);
  });
});

describe('parseEnvFile', () => {
  it('reads KEY=value lines, comments, export and quotes', () => {
    const text = '# lab secrets\n\nA=1\nexport B = two words \nC="quoted = yes"\nD=\'single\'\nE=\nF=a=b\r\n';
    expect(parseEnvFile(text)).toEqual({ A: '1', B: 'two words', C: 'quoted = yes', D: 'single', E: '', F: 'a=b' });
  });

  it('reports bad lines by position without echoing values', () => {
    let err: unknown;
    try {
      parseEnvFile('OK=1\njust-a-secret-value\n1BAD=secret2\n', 'lab.env');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LoadError);
    const diags = (err as LoadError).diagnostics;
    expect(diags.map((d) => `${d.pos.file}:${d.pos.line}:${d.pos.col}`)).toEqual(['lab.env:2:1', 'lab.env:3:1']);
    for (const d of diags) expect(d.message).not.toMatch(/secret/);
  });
});
