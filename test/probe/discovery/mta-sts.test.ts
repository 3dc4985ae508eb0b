import { describe, expect, it } from 'vitest';
import { mxMatchesPattern, parseMtaStsPolicy } from '../../../src/probe/discovery/mta-sts.js';

describe('parseMtaStsPolicy', () => {
  it('reads version, mode, every mx and max_age, with LF or CRLF lines, ignoring unknown keys', () => {
    const text = 'version: STSv1\r\nmode: enforce\r\nmx: mail.example.test\nmx: *.Example.NET.\nextension: ignored\nmax_age: 604800\n';
    expect(parseMtaStsPolicy(text)).toEqual({
      ok: true,
      policy: { version: 'STSv1', mode: 'enforce', mx: ['mail.example.test', '*.example.net'], maxAge: 604800 },
    });
  });

  it('accepts mode none without an mx line', () => {
    expect(parseMtaStsPolicy('version: STSv1\nmode: none\nmax_age: 86400\n')).toEqual({
      ok: true,
      policy: { version: 'STSv1', mode: 'none', mx: [], maxAge: 86400 },
    });
  });

  it.each([
    ['a wrong version', 'version: STSv2\nmode: enforce\nmx: a.example.test\nmax_age: 1\n', /version "STSv2" is not STSv1/],
    ['no version', 'mode: enforce\nmx: a.example.test\nmax_age: 1\n', /no "version: STSv1" line/],
    ['an unknown mode', 'version: STSv1\nmode: report\nmx: a.example.test\nmax_age: 1\n', /mode "report" is not enforce, testing or none/],
    ['max_age above one year', 'version: STSv1\nmode: enforce\nmx: a.example.test\nmax_age: 31557601\n', /max_age "31557601"/],
    ['max_age not a number', 'version: STSv1\nmode: enforce\nmx: a.example.test\nmax_age: -5\n', /max_age "-5"/],
    ['no max_age', 'version: STSv1\nmode: enforce\nmx: a.example.test\n', /no "max_age" line/],
    ['no mx in enforce mode', 'version: STSv1\nmode: enforce\nmax_age: 86400\n', /no valid "mx" line/],
    ['a wildcard inside a label', 'version: STSv1\nmode: testing\nmx: mail*.example.test\nmax_age: 86400\n', /mx "mail\*\.example\.test"/],
    ['an HTML page', '<html><body>Not here</body></html>\n', /is not "key: value"/],
  ])('refuses %s', (_name, text, problem) => {
    const parsed = parseMtaStsPolicy(text);
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? [] : parsed.problems).toContainEqual(expect.stringMatching(problem));
  });
});

describe('mxMatchesPattern', () => {
  it('matches a name exactly, case and trailing dot aside', () => {
    expect(mxMatchesPattern('MX1.Example.Test.', 'mx1.example.test')).toBe(true);
    expect(mxMatchesPattern('mx2.example.test', 'mx1.example.test')).toBe(false);
  });
  it('matches "*." one label deep only', () => {
    expect(mxMatchesPattern('mx1.example.test', '*.example.test')).toBe(true);
    expect(mxMatchesPattern('example.test', '*.example.test')).toBe(false);
    expect(mxMatchesPattern('a.mx1.example.test', '*.example.test')).toBe(false);
    expect(mxMatchesPattern('mx1.other.test', '*.example.test')).toBe(false);
  });
});
