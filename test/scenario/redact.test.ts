import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../src/input/errors.js';
import { isSecretKey, redactSecrets } from '../../src/input/redact.js';

const lines = (src: string) => redactSecrets(src).map((l) => l.text);

describe('redactSecrets (code frames never show secret values)', () => {
  it('masks block-style values, quoted or not, keeping the key and comments out of it', () => {
    expect(lines("user: alice\npassword: hunter2\n  smtp_password: \"S3cret!pass\"\nToken: 'a''b'\n")).toEqual([
      'user: alice',
      'password: [redacted]',
      '  smtp_password: [redacted]',
      'Token: [redacted]',
      '',
    ]);
  });

  it('masks flow-style values and leaves the other keys readable', () => {
    expect(lines('primary: { user: alice, address: a@b, password: "S3cret!pass" }')).toEqual(['primary: { user: alice, address: a@b, password: [redacted] }']);
    expect(lines("a: { pass: x,y, api_key: 'k}', secret: s , user: u }")).toEqual([
      'a: { pass: [redacted], api_key: [redacted], secret: [redacted] , user: u }',
    ]);
    expect(lines('- { "passwd": "q\\"uote", x: 1 }')).toEqual(['- { "passwd": [redacted], x: 1 }']);
  });

  it('masks values continued on later lines (block scalars, next-line values, open quotes)', () => {
    expect(lines('a:\n  password: |\n    line1\n    line2\n  user: bob\n')).toEqual([
      'a:',
      '  password: |',
      '    [redacted]',
      '    [redacted]',
      '  user: bob',
      '',
    ]);
    expect(lines('a:\n  token:\n    abc\n  user: bob')).toEqual(['a:', '  token:', '    [redacted]', '  user: bob']);
    expect(lines('secret: "abc\n  def" # c\nuser: bob')).toEqual(['secret: [redacted]', '  [redacted] # c', 'user: bob']);
  });

  it('masks password_env only when it is not an environment variable name', () => {
    expect(lines('x: { password_env: MAIL_PW }\npassword_env: Hunter2\npassword_env: "s3cret pass!"')).toEqual([
      'x: { password_env: MAIL_PW }',
      'password_env: [redacted]',
      'password_env: [redacted]',
    ]);
  });

  it('leaves ordinary keys and values alone', () => {
    const src = 'name: passes the token test\nbypass: yes\ncompass: north\nsteps: [{ action: pop3.capa }]';
    expect(lines(src)).toEqual(src.split('\n'));
  });

  it('recognises secret key names', () => {
    for (const k of ['password', 'PASSWORD', 'pass', 'passwd', 'secret', 'token', 'api_key', 'apiKey', 'smtp_password', 'client-secret', 'authToken'])
      expect(isSecretKey(k), k).toBe(true);
    for (const k of ['password_env', 'user', 'bypass', 'compass', 'tokens_seen', 'name']) expect(isSecretKey(k), k).toBe(false);
  });
});

describe('formatDiagnostic masks secrets in its frame', () => {
  it('keeps the caret under the same key after a masked value', () => {
    const src = 'accounts:\n  p: { password: "a much longer secret", usr: alice }\n';
    const col = src.split('\n')[1]!.indexOf('usr') + 1;
    const out = formatDiagnostic({ pos: { file: 't.yaml', line: 2, col }, message: 'unknown key' }, src);
    expect(out).toBe(
      ['t.yaml:2:' + col + ': unknown key', '  1 | accounts:', '> 2 |   p: { password: [redacted], usr: alice }', `    | ${' '.repeat(29)}^`].join('\n'),
    );
    expect(out).not.toContain('secret"');
  });

  it('masks the context line too', () => {
    const src = 'password: hunter2\nbad: 1\n';
    const out = formatDiagnostic({ pos: { file: 't.yaml', line: 2, col: 1 }, message: 'boom' }, src);
    expect(out).toContain('  1 | password: [redacted]');
    expect(out).not.toContain('hunter2');
  });
});
