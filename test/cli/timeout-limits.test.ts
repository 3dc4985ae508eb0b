import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderTargetFile } from '../../fixtures/servers/target-file.js';
import { POP3_SUITE, describeRun, runCli, startCountingServer, tempDir, writeCountingTarget } from '../support/cli.js';

/**
 * Node clamps a timer of 2^31 ms or more to 1 ms, so such a timeout would make
 * every step time out at once. It is refused before anything connects:
 * a usage error (exit 2), positioned in the target file.
 */
describe('timeouts Node cannot wait for are refused at load', () => {
  let counter: Awaited<ReturnType<typeof startCountingServer>>;
  let dir: string;
  let target: string;
  const env = { MAILPROBE_FAKE_PRIMARY_PASSWORD: 'unused-pw' };

  beforeAll(async () => {
    counter = await startCountingServer();
    dir = await tempDir('timeouts');
    target = join(dir, 'target.yaml');
    await writeCountingTarget(target, counter.port);
  });
  afterAll(async () => {
    await counter?.close();
  });

  it('--timeout 2147483648 is a usage error naming the bound', async () => {
    const before = counter.connections();
    const r = await runCli(['run', POP3_SUITE, '--target', target, '--timeout', '2147483648', '--out-dir', join(dir, 'out')], { env });
    expect(r.code, describeRun(r)).toBe(2);
    expect(r.stderr).toContain('--timeout');
    expect(r.stderr).toContain('at most 2147483647 ms');
    expect(r.stderr).not.toMatch(/TimeoutOverflowWarning/);
    expect(counter.connections()).toBe(before);
  });

  it('a target file with timeouts.command: 2147483648 exits 2 with file:line:col', async () => {
    const big = join(dir, 'big-timeout.yaml');
    const text = `${renderTargetFile({
      host: '127.0.0.1',
      smtpPort: counter.port,
      pop3Port: counter.port,
      pop3sPort: counter.port,
      starttls: false,
      accounts: [{ user: 'alice', address: 'alice@fake.test' }],
    }).trimEnd()}\ntimeouts:\n  command: 2147483648\n`;
    await writeFile(big, text);
    const line = text.split('\n').indexOf('  command: 2147483648') + 1;
    const before = counter.connections();
    const r = await runCli(['run', POP3_SUITE, '--target', big, '--out-dir', join(dir, 'out')], { env });
    expect(r.code, describeRun(r)).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`big-timeout\\.yaml:${line}:12: a timeout must be at most 2147483647 ms`));
    expect(counter.connections()).toBe(before);
  });
});
