import { describe, expect, it } from 'vitest';
import { findReferences } from '../../src/interpolate/references.js';
import { accountsScope } from '../../src/interpolate/scopes.js';
import type { Scopes } from '../../src/interpolate/scopes.js';
import { InterpolationError, interpolate } from '../../src/interpolate/interpolate.js';
import { hasInterpolation, parseTemplate } from '../../src/interpolate/template.js';
import type { DataPath } from '../../src/input/yaml-doc.js';
import { parseYamlWithPositions } from '../../src/input/yaml-doc.js';

const raw = Buffer.from('Subject: hi\r\n\r\nbody\r\n');
const scopes: Scopes = {
  run: { id: 'r1x', prefix: 'mailprobe-r1x', started: '2025-01-01T00:00:00.000Z' },
  vars: { subject: 'probe', n: 3, list: ['a', 'b'], nested: { deep: { value: 'ok' } } },
  env: { HOME_DIR: '/home/x' },
  captures: { before: { count: 5, uids: ['u1', 'u2'], countText: '7' }, sent: { raw } },
  accounts: accountsScope({
    primary: { user: 'alice', address: 'alice@lab.test', passwordEnv: 'PW', password: 'secret' } as { user: string; address: string },
  }),
  target: { host: '127.0.0.1', name: 'lab' },
};
const noPos = (_: DataPath) => ({ file: 'f.yaml', line: 1, col: 1 });
const render = (v: unknown) => interpolate(v, scopes, noPos);

describe('interpolate', () => {
  it('keeps the type of a value that is the whole string', () => {
    expect(render('${captures.before.count}')).toBe(5);
    expect(render('${vars.list}')).toEqual(['a', 'b']);
    expect(render('${captures.sent.raw}')).toBe(raw);
    expect(render('${ vars.nested.deep }')).toEqual({ value: 'ok' });
  });

  it('splices values into text', () => {
    expect(render('${vars.subject} ${run.id}: ${captures.before.count} msgs')).toBe('probe r1x: 5 msgs');
    expect(render('to ${accounts.primary.address} at ${target.host}')).toBe('to alice@lab.test at 127.0.0.1');
    expect(render('${captures.before.uids.1}')).toBe('u2');
  });

  it('does integer arithmetic', () => {
    expect(render('${captures.before.count - 1}')).toBe(4);
    expect(render('${captures.before.count+2}')).toBe(7);
    expect(render('${captures.before.countText - 1}')).toBe(6);
    expect(render('n=${vars.n + 10}')).toBe('n=13');
  });

  it('treats $${ as a literal ${', () => {
    expect(render('$${vars.subject} costs $5')).toBe('${vars.subject} costs $5');
    expect(hasInterpolation('$${x}')).toBe(false);
    expect(hasInterpolation('a $${x} ${y}')).toBe(true);
  });

  it('walks maps and lists, touching only string leaves, without changing the input', () => {
    const tree = { to: ['${accounts.primary.address}'], n: 4, flag: true, nothing: null, s: { subject: '${vars.subject}!' } };
    const copy = structuredClone(tree);
    expect(render(tree)).toEqual({ to: ['alice@lab.test'], n: 4, flag: true, nothing: null, s: { subject: 'probe!' } });
    expect(tree).toEqual(copy);
  });

  it('never exposes passwords through the accounts scope', () => {
    expect(scopes.accounts.primary).toEqual({ user: 'alice', address: 'alice@lab.test', domain: 'lab.test' });
    expect(() => render('${accounts.primary.password}')).toThrow(/undefined variable 'accounts.primary.password'/);
  });

  it('reports an undefined variable at the leaf position, with did-you-mean', () => {
    const text = 'steps:\n  - with:\n      subject: "re: ${vars.subjct}"\n';
    const { data, positions } = parseYamlWithPositions(text, 's.yaml');
    const withTree = (data as { steps: { with: unknown }[] }).steps[0]?.with;
    let err: unknown;
    try {
      interpolate(withTree, scopes, (p) => positions.posOf(p), ['steps', 0, 'with']);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InterpolationError);
    expect(err).toMatchObject({
      code: 'EUNDEFINED_VAR',
      message: "undefined variable 'vars.subjct' (did you mean 'vars.subject'?)",
      pos: { file: 's.yaml', line: 3, col: 16 },
      path: ['steps', 0, 'with', 'subject'],
    });
  });

  it('reports unknown scopes, missing env vars and bad types with codes', () => {
    const code = (s: string) => {
      try {
        render(s);
      } catch (e) {
        return [(e as InterpolationError).code, (e as Error).message];
      }
      return undefined;
    };
    expect(code('${captrues.before}')).toEqual(['EUNDEFINED_VAR', "unknown scope 'captrues' in '${captrues.before}' (did you mean 'captures'?)"]);
    expect(code('${env.HOME_DIRR}')).toEqual(['EUNDEFINED_VAR', "undefined variable 'env.HOME_DIRR' (did you mean 'env.HOME_DIR'?)"]);
    expect(code('x ${vars.list}')?.[0]).toBe('EINTERP_TYPE');
    expect(code('${vars.subject - 1}')?.[0]).toBe('EINTERP_TYPE');
    expect(code('${vars.subject')?.[0]).toBe('EINTERP_SYNTAX');
    expect(code('${vars..x}')?.[0]).toBe('EINTERP_SYNTAX');
  });
});

describe('parseTemplate and findReferences', () => {
  it('parses references with arithmetic', () => {
    expect(parseTemplate('a${captures.x.0 - 2}b')).toEqual([
      { kind: 'text', text: 'a' },
      { kind: 'ref', ref: { scope: 'captures', segments: ['x', '0'], add: -2, expr: 'captures.x.0 - 2' } },
      { kind: 'text', text: 'b' },
    ]);
  });

  it('finds references and syntax problems by leaf path', () => {
    const { references, problems } = findReferences({ a: ['${vars.x}', 'plain', '$${no}'], b: { c: 'x ${run.id} ${env.Y}' }, d: '${oops' }, ['with']);
    expect(references.map((r) => [r.path, r.ref.scope, r.ref.segments])).toEqual([
      [['with', 'a', 0], 'vars', ['x']],
      [['with', 'b', 'c'], 'run', ['id']],
      [['with', 'b', 'c'], 'env', ['Y']],
    ]);
    expect(problems).toEqual([{ path: ['with', 'd'], message: expect.stringContaining("unterminated '${'") }]);
  });
});
