import { describe, expect, it } from 'vitest';
import { actionSignatures } from '../../src/actions/registry.js';
import { LoadError } from '../../src/core/diagnostics.js';
import { loadScenarioSource } from '../../src/scenario/load.js';

/** Users run scenarios against real mailboxes: one that creates mail must also remove it. */
const scenario = (cleanup: string) =>
  [
    'name: sends mail',
    'sessions:',
    '  laptop: { protocol: pop3, endpoint: pop3s, account: primary }',
    'steps:',
    '  - action: pop3.stat',
    '    session: laptop',
    '  - action: smtp.send',
    '    with: { account: primary, to: ["${accounts.primary.address}"] }',
    cleanup,
    '',
  ].join('\n');

describe('a scenario that creates mail needs a cleanup step', () => {
  it('is refused without one, at the step that creates mail', () => {
    let error: unknown;
    try {
      loadScenarioSource(scenario(''), 'suites/x/sends.yaml', { root: 'suites', actions: actionSignatures });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(LoadError);
    const [d] = (error as LoadError).diagnostics;
    expect(d?.pos).toEqual({ file: 'suites/x/sends.yaml', line: 7, col: 13 });
    expect(d?.message).toMatch(/no cleanup step.*pop3\.cleanup or imap\.cleanup/);
  });

  it('is accepted with a cleanup action that removes it', () => {
    const loaded = loadScenarioSource(scenario('cleanup:\n  - { action: pop3.cleanup, session: laptop }'), 'suites/x/sends.yaml', {
      root: 'suites',
      actions: actionSignatures,
    });
    expect(loaded.cleanup.map((s) => s.action)).toEqual(['pop3.cleanup']);
  });
});
