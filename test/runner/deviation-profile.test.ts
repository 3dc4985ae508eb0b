import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { actionSignatures } from '../../src/actions/registry.js';
import { LoadError } from '../../src/core/diagnostics.js';
import { checkDeviationProfile } from '../../src/runner/deviation-profile.js';
import { loadScenarioFile, loadScenarioSource } from '../../src/scenario/load.js';
import type { Scenario } from '../../src/scenario/model.js';
import { loadTargetSource } from '../../src/target/load.js';

/** A target file's `deviations:`: the schema at its places, then the entries against the scenarios a run loaded. */
const TARGET = [
  'name: courier',
  'host: 127.0.0.1',
  'endpoints: { imaps: { port: 993, security: tls } }',
  'accounts: { primary: { user: a, address: a@x.test, password_env: A_PASSWORD } }',
  'deviations:',
];
const target = (entries: string[]) => loadTargetSource([...TARGET, ...entries].join('\n') + '\n', 't.yaml', '/');

function problemsOf(entries: string[]): string[] {
  try {
    target(entries);
  } catch (err) {
    if (err instanceof LoadError) return err.diagnostics.map((d) => `${d.pos.line}:${d.pos.col}: ${d.message}`);
    throw err;
  }
  throw new Error('expected a LoadError');
}

let scenarios: Scenario[];
beforeAll(async () => {
  const opts = { root: path.resolve('suites'), actions: actionSignatures };
  scenarios = await Promise.all(['imap/uid-stability.yaml', 'pop3/rset.yaml'].map((f) => loadScenarioFile(path.resolve('suites', f), opts)));
});

const lines = (d: { pos: { line: number; col: number }; message: string }[]) => d.map((x) => `${x.pos.line}:${x.pos.col}: ${x.message}`);

describe('deviations in the target file', () => {
  it('loads each entry with its place', () => {
    const t = target(['  - check: imap/uid-stability#uidnext-in-select', '    reason: Courier sends UIDNEXT only in STATUS', '    rfc: RFC 9051 §6.3.2']);
    expect(t.deviations).toEqual([
      {
        check: 'imap/uid-stability#uidnext-in-select',
        reason: 'Courier sends UIDNEXT only in STATUS',
        rfc: 'RFC 9051 §6.3.2',
        source: { file: 't.yaml', line: 6, col: 12 },
      },
    ]);
  });

  it('refuses a malformed entry at its place: the check reference, an empty reason, a clause that is no RFC, an unknown key, a repeat', () => {
    expect(problemsOf(['  - { check: uid-stability, reason: r, rfc: RFC 9051 }'])).toEqual([
      "6:14: expected '<scenario id>#<check id>', e.g. imap/uid-stability#uidnext-in-select",
    ]);
    expect(problemsOf(["  - { check: 'a#b', reason: ' ', rfc: 'section 6' }"])).toEqual([
      '6:29: reason must say why the server deviates',
      "6:39: rfc names the clause the server departs from, e.g. 'RFC 9051 §6.3.2'",
    ]);
    expect(problemsOf(["  - { check: 'a#b', reason: r, rfc: RFC 1, clause: x }"])[0]).toMatch(/^6:\d+: unknown key 'clause'/);
    expect(problemsOf(["  - { check: 'a#b', reason: r, rfc: RFC 1 }", "  - { check: 'a#b', reason: s, rfc: RFC 2 }"])).toEqual([
      "7:14: deviation 'a#b' is already listed at line 6; list each check once",
    ]);
  });

  it('a check the loaded scenario lacks is an error with a did-you-mean; a scenario not in this run is a warning', () => {
    const t = target([
      "  - { check: 'imap/uid-stability#uidnext-in-selct', reason: r, rfc: RFC 9051 }",
      "  - { check: 'imap/uid-stability#nothing-like-it-at-all', reason: r, rfc: RFC 9051 }",
      "  - { check: 'imap/uid-stabilty#uidnext-in-select', reason: r, rfc: RFC 9051 }",
      "  - { check: 'imap/uid-stability#uidnext-in-select', reason: r, rfc: RFC 9051 }",
    ]);
    const { errors, warnings } = checkDeviationProfile(t, scenarios);
    expect(lines(errors)).toEqual([
      "6:14: scenario 'imap/uid-stability' has no check 'uidnext-in-selct' (did you mean 'imap/uid-stability#uidnext-in-select'?)",
      expect.stringMatching(
        /^7:14: scenario 'imap\/uid-stability' has no check 'nothing-like-it-at-all'; its checks are: laptop-creates-a-folder-for-the-test-|^7:14: scenario 'imap\/uid-stability' has no check 'nothing-like-it-at-all'; its checks are: uidnext-in-select, /,
      ),
    ]);
    expect(lines(warnings)).toEqual([
      "8:14: deviation 'imap/uid-stabilty#uidnext-in-select' names no scenario of this run (did you mean 'imap/uid-stability'?); it is ignored",
    ]);
    expect(
      checkDeviationProfile(
        t,
        scenarios.filter((s) => s.id === 'pop3/rset'),
      ).errors,
    ).toEqual([]);
  });

  it('a cleanup check cannot be a deviation: it never decides a verdict', () => {
    const s = loadScenarioSource(
      [
        'name: with a cleanup check',
        'sessions:',
        '  box: { protocol: pop3, endpoint: pop3s, account: primary }',
        'steps:',
        '  - action: pop3.stat',
        '    session: box',
        'cleanup:',
        '  - action: pop3.cleanup',
        '    session: box',
        '    expect:',
        '      - { id: all-gone, that: ok, equals: true }',
      ].join('\n'),
      path.resolve('suites/pop3/with-cleanup.yaml'),
      { root: path.resolve('suites'), actions: actionSignatures },
    );
    const t = target(["  - { check: 'pop3/with-cleanup#all-gone', reason: r, rfc: RFC 1939 }"]);
    expect(lines(checkDeviationProfile(t, [s]).errors)).toEqual([
      "6:14: deviation 'pop3/with-cleanup#all-gone' names a cleanup check; cleanup checks never decide a verdict, so it cannot be a known deviation",
    ]);
  });
});
