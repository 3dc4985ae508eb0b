import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LoadError } from '../../src/core/diagnostics.js';
import { formatDiagnostic } from '../../src/input/errors.js';
import { loadScenarioFile, loadScenarioSource } from '../../src/scenario/load.js';
import { testActions } from './test-actions.js';

const root = path.resolve('fixtures/scenarios');
const opts = { root, actions: testActions };

function diagnosticsOf(text: string): string[] {
  try {
    loadScenarioSource(text, 'x.yaml', opts);
  } catch (err) {
    if (err instanceof LoadError) return err.diagnostics.map((d) => `${d.pos.line}:${d.pos.col}: ${d.message}`);
    throw err;
  }
  throw new Error('expected a LoadError');
}

describe('loading a good scenario', () => {
  it("keeps a step's own requires, and leaves steps without one alone", () => {
    const s = loadScenarioSource(
      [
        'name: step requires',
        'sessions:',
        '  laptop: { protocol: imap, endpoint: imaps, account: primary }',
        'steps:',
        '  - action: imap.select',
        '    session: laptop',
        '    requires: { capabilities: { imap: [MOVE] } }',
        '    with: { mailbox: INBOX }',
        '  - action: imap.select',
        '    session: laptop',
        '    with: { mailbox: INBOX }',
      ].join('\n'),
      'x.yaml',
      opts,
    );
    expect(s.steps[0]?.requires).toEqual({ capabilities: { imap: ['MOVE'] } });
    expect(s.steps[1]?.requires).toBeUndefined();
    expect(diagnosticsOf('name: x\nsteps:\n  - action: sleep\n    with: { ms: 1 }\n    requires: { capabilites: {} }\n')).toContain(
      "5:17: unknown key 'capabilites' (did you mean 'capabilities'?)",
    );
  });

  it('builds the model with ids, positions, implicit requirements and expectations', async () => {
    const s = await loadScenarioFile(path.join(root, 'good/pop3-retrieve-delete.yaml'), opts);
    expect(s.id).toBe('good/pop3-retrieve-delete');
    expect(s.name).toBe('POP3 retrieve then delete');
    expect(s.description).toMatch(/retrieved and deleted/);
    expect(s.tags).toEqual(['pop3', 'seed']);
    expect(s.rfc).toEqual(['RFC 1939 §6']);
    // pop3s comes from the sessions, implicitly.
    expect(s.requires).toEqual({ endpoints: ['submission', 'pop3s'], accounts: ['primary'], capabilities: { pop3: ['UIDL', 'TOP'] } });
    expect(s.vars).toEqual({ subject: 'probe ${run.id}', retries: 3 });
    expect(s.sessions.laptop).toMatchObject({ protocol: 'pop3', endpoint: 'pop3s', account: 'primary', source: { line: 15, col: 11 } });
    expect(s.steps).toHaveLength(4);
    const [send, stat, dele, stat2] = s.steps;
    expect(send).toMatchObject({
      index: 0,
      name: 'deliver a test message',
      action: 'smtp.send',
      capture: { sent: '$' },
      path: ['steps', 0],
      source: { line: 18, col: 5 },
    });
    expect(send?.session).toBeUndefined();
    expect(send?.with).toEqual({ account: 'primary', to: ['${accounts.primary.address}'], subject: '${vars.subject}' });
    expect(stat).toMatchObject({ name: 'pop3.stat', session: 'laptop', with: {} });
    expect(dele?.with).toEqual({ msg: '${captures.before.count}' });
    expect(stat2?.expect.map((e) => [e.that, e.matcher, e.value])).toEqual([
      ['count', 'equals', '${captures.before.count - 1}'],
      ['$', 'exists', true],
      ['messages.0.size', 'greater_than', '${vars.retries}'],
    ]);
    expect(stat2?.expect[0]).toMatchObject({ rfc: 'RFC 1939 §6', because: 'the deleted message must be gone', source: { line: 37, col: 9 } });
    expect(s.cleanup).toHaveLength(1);
    expect(s.cleanup[0]?.path).toEqual(['cleanup', 0]);
    expect(s.positions.posOf(['steps', 2, 'with', 'msg'])).toEqual({ file: s.file, line: 33, col: 18 });
  });

  it('names a missing file', async () => {
    await expect(loadScenarioFile(path.join(root, 'nope.yaml'), opts)).rejects.toMatchObject({ code: 'EFILE_READ' });
  });
});

describe('diagnostics', () => {
  it('suggests the action for an unknown action name', () => {
    expect(diagnosticsOf('name: n\nsteps:\n  - action: pop3.retrr\n    session: s\n')).toContain(
      "3:13: unknown action 'pop3.retrr' (did you mean 'pop3.retr'?)",
    );
  });

  it('points at an unknown key itself and suggests the known one', () => {
    expect(diagnosticsOf('name: n\nsteps:\n  - ation: sleep\n')).toEqual([
      "3:5: missing required key 'action'",
      "3:5: unknown key 'ation' (did you mean 'action'?)",
    ]);
  });

  it('points inside `with` and inside `expect`', () => {
    const text = [
      'name: n',
      'sessions: { s: { protocol: pop3, endpoint: pop3, account: a } }',
      'steps:',
      '  - action: pop3.retr',
      '    session: s',
      '    with:',
      '      msg: 1',
      '      limits: { maxBytes: "many" }',
      '    expect:',
      '      - that: size',
      '        at_least: [1]',
    ].join('\n');
    expect(diagnosticsOf(text)).toEqual(['8:27: expected a number, got a string', '11:19: expected a number, got a list']);
  });

  it('lets a ${…} string stand for a typed param or operand, but still checks literals', () => {
    const text = [
      'name: n',
      'vars: { n: 2 }',
      'steps:',
      '  - action: sleep',
      '    with: { ms: "${vars.n}" }',
      '    expect: [{ that: $, at_most: "${vars.n}" }]',
      '  - action: sleep',
      '    with: { ms: "soon" }',
    ].join('\n');
    expect(diagnosticsOf(text)).toEqual(['8:17: expected a number, got a string']);
  });

  it('formats file:line:col with a code frame and caret', () => {
    const src = 'name: n\nsteps:\n  - action: sleeep\n';
    let d;
    try {
      loadScenarioSource(src, 'suite/a.yaml', opts);
    } catch (err) {
      d = (err as LoadError).diagnostics[0];
    }
    expect(d).toBeDefined();
    expect(formatDiagnostic(d!, src)).toBe(
      ["suite/a.yaml:3:13: unknown action 'sleeep' (did you mean 'sleep'?)", '  2 | steps:', '> 3 |   - action: sleeep', '    |             ^'].join('\n'),
    );
  });
});
