import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeMailHost } from '../../fixtures/servers/fake-mail-host.js';
import { describeRun, POP3_SUITE, runCli, startFakeHostWithTarget, tempDir } from '../support/cli.js';
import { gitlabCases } from '../support/junit-consumers.js';

/**
 * Issue 10 §2, through the built CLI against a fake host: the shipped
 * scenario that keeps a local copy (pop3/retrieve-then-delete, `save: true`)
 * gets that copy attached in JUnit as `[[ATTACHMENT|path]]`, the path
 * relative to the report file, and the path leads to the copy on disk.
 */
const ACCOUNTS = { alice: { password: 'alice-Att-pw-1', address: 'alice@fake.test' }, bob: { password: 'bob-Att-pw-2', address: 'bob@fake.test' } };

describe('mailprobe run: saved copies attached in JUnit', () => {
  let host: FakeMailHost;
  let targetFile: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    ({ host, targetFile, env } = await startFakeHostWithTarget({ accounts: ACCOUNTS }));
  });
  afterAll(async () => {
    await host?.close();
  });

  it('attaches the saved copy, relative to junit.xml, on a line of its own', async () => {
    const cwd = await tempDir('attachments');
    const report = join(cwd, 'ci', 'junit.xml');
    const r = await runCli(
      ['run', join(POP3_SUITE, 'retrieve-then-delete.yaml'), '--target', targetFile, '--reporter', 'junit=ci/junit.xml', '--out-dir', 'out', '--quiet'],
      { cwd, env },
    );
    expect(r.code, describeRun(r)).toBe(0);
    const xml = await readFile(report, 'utf8');
    // The element text, line by line: Jenkins wants the tag alone on its line.
    const out = /<system-out>([\s\S]*?)<\/system-out>/.exec(xml)?.[1] ?? '';
    const tags = [...out.matchAll(/^\[\[ATTACHMENT\|(.+?)\]\]$/gm)].map((m) => m[1] ?? '');
    expect(tags, xml).toHaveLength(1);
    const [path] = tags as [string];
    expect(path).toMatch(/^\.\.\/out\/messages\/[^/]+\/pop3_retrieve-then-delete\/[^/]+\.eml$/);
    expect(existsSync(resolve(dirname(report), path)), `${path} does not lead to the saved copy`).toBe(true);
    // A passed case: GitLab attaches only to failed or errored cases, so it shows none here.
    expect(gitlabCases(xml)[0]).toMatchObject({ status: 'success' });
  });
});
