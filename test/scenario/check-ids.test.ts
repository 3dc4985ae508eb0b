import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { actionSignatures } from '../../src/actions/registry.js';
import { LoadError } from '../../src/core/diagnostics.js';
import { assignCheckIds, derivedCheckId, slug } from '../../src/scenario/check-ids.js';
import { loadScenarioFile, loadScenarioSource } from '../../src/scenario/load.js';
import { testActions } from './test-actions.js';

/** Check ids: explicit `id:` (validated, unique) or derived from step name + `that`, with a positional suffix on a collision. */
const opts = { root: path.resolve('fixtures/scenarios'), actions: testActions };

const scenario = (steps: string[]) =>
  ['name: ids', 'sessions:', '  laptop: { protocol: imap, endpoint: imaps, account: primary }', 'steps:', ...steps].join('\n') + '\n';

const select = (name: string, expect: string[]) => [
  `  - name: ${name}`,
  '    action: imap.select',
  '    session: laptop',
  '    with: { mailbox: INBOX }',
  '    expect:',
  ...expect.map((e) => `      - ${e}`),
];

function diagnosticsOf(text: string): string[] {
  try {
    loadScenarioSource(text, 'x.yaml', opts);
  } catch (err) {
    if (err instanceof LoadError) return err.diagnostics.map((d) => `${d.pos.line}:${d.pos.col}: ${d.message}`);
    throw err;
  }
  throw new Error('expected a LoadError');
}

describe('check ids', () => {
  it('slugs step names and paths: lower case, accents dropped, anything else one dash', () => {
    expect(slug('Laptop opens it (again)!')).toBe('laptop-opens-it-again');
    expect(slug('Prüfung – ½ €')).toBe('prufung-1-2');
    expect(derivedCheckId('laptop opens it', 'uidnext')).toBe('laptop-opens-it-uidnext');
    expect(derivedCheckId('imap.select', 'messages.0.size')).toBe('imap-select-messages-0-size');
    expect(derivedCheckId('x', '$')).toBe('x-output');
    expect(derivedCheckId('!!!', '$')).toBe('output');
  });

  it('derives ids from step name and that; a collision gets -2, -3 in file order, skipping ids already taken', () => {
    expect(
      assignCheckIds([
        { stepName: 'open', that: 'uidnext' },
        { stepName: 'open', that: 'uidnext' },
        { explicit: 'open-uidnext-2', stepName: 'x', that: 'y' },
        { stepName: 'open', that: 'uidnext' },
      ]),
    ).toEqual(['open-uidnext', 'open-uidnext-3', 'open-uidnext-2', 'open-uidnext-4']);
  });

  it('gives every loaded expectation an id: explicit ones kept, derived ones around them, cleanup included', () => {
    const s = loadScenarioSource(
      scenario([
        ...select('laptop opens it', [
          '{ id: uidnext-in-select, that: uidnext, exists: true }',
          '{ that: uidvalidity, exists: true }',
          '{ that: uidvalidity, exists: true }',
        ]),
        'cleanup:',
        ...select('laptop opens it', ['{ that: uidvalidity, exists: true }']),
      ]),
      'x.yaml',
      opts,
    );
    expect(s.steps[0]!.expect.map((e) => e.id)).toEqual(['uidnext-in-select', 'laptop-opens-it-uidvalidity', 'laptop-opens-it-uidvalidity-2']);
    expect(s.cleanup[0]!.expect.map((e) => e.id)).toEqual(['laptop-opens-it-uidvalidity-3']);
  });

  it('refuses a malformed or repeated explicit id, at its place', () => {
    expect(diagnosticsOf(scenario(select('a', ['{ id: UIDNEXT_in, that: uidnext, exists: true }'])))).toEqual([
      "10:15: a check id is made of lower-case letters, digits and '-' (e.g. uidnext-in-select)",
    ]);
    expect(
      diagnosticsOf(
        scenario([...select('a', ['{ id: same, that: uidnext, exists: true }']), ...select('b', ['{ id: same, that: uidvalidity, exists: true }'])]),
      ),
    ).toEqual(["16:15: check id 'same' is already used at line 10; check ids are unique within a scenario"]);
  });

  it('the shipped uid-stability names its UIDNEXT-in-SELECT check explicitly', async () => {
    const s = await loadScenarioFile(path.resolve('suites/imap/uid-stability.yaml'), { root: path.resolve('suites'), actions: actionSignatures });
    const ids = s.steps.flatMap((st) => st.expect.map((e) => e.id));
    expect(ids).toContain('uidnext-in-select');
    expect(s.steps[1]!.expect.find((e) => e.that === 'uidnext')?.id).toBe('uidnext-in-select');
    expect(new Set(ids).size).toBe(ids.length);
  });
});
