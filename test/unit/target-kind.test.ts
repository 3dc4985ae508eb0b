import { describe, expect, it } from 'vitest';
import { isTargetText } from '../../src/target/kind.js';

describe('isTargetText: a target file told apart from a scenario by its root keys', () => {
  it('a root with host and endpoints is a target, whatever else it lacks', () => {
    expect(isTargetText('name: staging\nhost: mail.example.test\nendpoints:\n  pop3s: { port: 995, security: tls }\n')).toBe(true);
    expect(isTargetText('# yaml-language-server: $schema=x\nhost: mail.example.test  # the MX\nendpoints: {}\n')).toBe(true);
  });

  it('kind: target is a target, quoted or not, with a comment after it', () => {
    expect(isTargetText('kind: target\nname: half done\n')).toBe(true);
    expect(isTargetText("kind: 'target'   # see README\n")).toBe(true);
    expect(isTargetText('"kind": "target"\n')).toBe(true);
  });

  it('a scenario is not, even one that names host and endpoints deeper down or in a block scalar', () => {
    const scenario = [
      'name: retrieve',
      'description: |',
      '  host: is a word here',
      '  endpoints: too',
      'vars:',
      '  host: mail.example.test',
      '  endpoints: [pop3]',
      'steps:',
      '  - action: pop3.stat',
      '',
    ].join('\n');
    expect(isTargetText(scenario)).toBe(false);
    expect(isTargetText('kind: scenario\nhost: x\n')).toBe(false);
    expect(isTargetText('hostname: x\nendpoints_list: y\n')).toBe(false);
    expect(isTargetText('')).toBe(false);
  });
});
