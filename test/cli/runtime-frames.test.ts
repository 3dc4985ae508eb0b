import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeMailHost } from '../../fixtures/servers/fake-mail-host.js';
import { describeRun, POP3_SUITE, runCli, startFakeHostWithTarget, tempDir } from '../support/cli.js';
import { replaceFlags } from '../support/expect-helpers.js';

/**
 * Code frames at run time (issue 10 §3): a failed check shows, under its `at`,
 * the scenario lines around its expectation, as load errors do.
 */
describe('code frames in the console output of a failing run', () => {
  let host: FakeMailHost;
  let targetFile: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    ({ host, targetFile, env } = await startFakeHostWithTarget({
      accounts: { alice: { password: 'alice-pw-3', address: 'alice@fake.test' }, bob: { password: 'bob-pw-3', address: 'bob@fake.test' } },
    }));
  });
  afterAll(async () => {
    await host?.close();
  });

  it('frames the failed expectation: the line named by `at`, with a caret', async () => {
    replaceFlags(host.faults, { ignoreRset: true });
    let r;
    try {
      r = await runCli(['run', `${POP3_SUITE}/rset.yaml`, '--target', targetFile], { env });
    } finally {
      replaceFlags(host.faults, {});
    }
    expect(r.code, describeRun(r)).toBe(1);
    const at = /^ {4}at {7}(suites\/pop3\/rset\.yaml):(\d+):(\d+)$/m.exec(r.stderr);
    expect(at, describeRun(r)).not.toBeNull();
    const line = Number(at![2]);
    const col = Number(at![3]);
    const source = (await readFile(`${POP3_SUITE}/rset.yaml`, 'utf8')).split('\n');
    const lines = r.stderr.split('\n');
    const atIndex = lines.findIndex((l) => at![0] === l);
    const framed = lines.findIndex((l, i) => i > atIndex && l === `      > ${line} | ${source[line - 1]}`);
    expect(framed, describeRun(r)).toBeGreaterThan(atIndex);
    // The caret stands under the column `at` names.
    const caret = lines[framed + 1]!;
    expect(caret.indexOf('^') - caret.indexOf('|') - 2, describeRun(r)).toBe(col - 1);
  });

  it('frames a parameter that is invalid only after interpolation, at its step', async () => {
    const dir = await tempDir('frames');
    const file = join(dir, 'short-id.yaml');
    // "${vars.id}" passes the load-time check; interpolated, "ab" is below message_id's minimum length.
    await writeFile(
      file,
      [
        'name: a message id too short once interpolated',
        'vars: { id: "ab" }',
        'requires: { endpoints: [pop3s], accounts: [primary] }',
        'sessions:',
        '  laptop: { protocol: pop3, endpoint: pop3s, account: primary }',
        'steps:',
        '  - name: wait for nothing',
        '    action: pop3.wait-for',
        '    session: laptop',
        '    with: { message_id: "${vars.id}" }',
        '',
      ].join('\n'),
    );
    const r = await runCli(['run', file, '--target', targetFile], { env, cwd: dir });
    expect(r.code, describeRun(r)).toBe(3);
    expect(r.stderr, describeRun(r)).toMatch(/after interpolation, parameter at with\.message_id is invalid/);
    expect(r.stderr, describeRun(r)).toMatch(/^ {4}at {7}short-id\.yaml:7:5$/m);
    expect(r.stderr, describeRun(r)).toMatch(/^ {6}> 7 \|   - name: wait for nothing\n {10}\| {5}\^$/m);
  });
});
