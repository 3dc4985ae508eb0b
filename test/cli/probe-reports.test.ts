import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import dnsPacket from 'dns-packet';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mailFake, refusedPort } from '../probe/fakes.js';
import type { FakeLineServer } from '../support/fake-line-server.js';
import { testCerts, type TestCerts } from '../support/test-certs.js';
import { parseTap } from '../support/tap-parse.js';
import { describeRun, runCli, startCli, tempDir, waitUntil } from '../support/cli.js';

/**
 * `mailprobe probe --reporter …` and `--watch` through the built CLI, against
 * in-process fakes on 127.0.0.1 (test/probe/fakes.ts) and a refused port.
 */
const XSD = fileURLToPath(new URL('../../fixtures/junit/junit-10.xsd', import.meta.url));

let certs: TestCerts;
const servers: FakeLineServer[] = [];
beforeAll(async () => {
  certs = await testCerts();
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await certs?.cleanup();
});

const tlsArgs = () => ['--ca-file', join(certs.dir, 'ca.crt'), '--servername', 'localhost', '--timeout', '5000'];

function xmllint(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('xmllint', args, { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('mailprobe probe --reporter', () => {
  it('junit, junit-strict and tap files beside the table: an expired certificate fails, a refused port is skipped, exit 1', async () => {
    const expired = await mailFake({ protocol: 'imap', implicitTls: certs.expired });
    servers.push(expired);
    const refused = await refusedPort();
    const dir = await tempDir('probe-reports');
    const r = await runCli([
      'probe',
      '127.0.0.1',
      '--ports',
      `${refused}=pop3/starttls,${expired.port}=imap/tls`,
      ...tlsArgs(),
      '--reporter',
      `junit=${join(dir, 'probe.xml')}`,
      '--reporter',
      `junit-strict=${join(dir, 'strict.xml')}`,
      '--reporter',
      `tap=${join(dir, 'probe.tap')}`,
    ]);
    expect(r.code, describeRun(r)).toBe(1);
    // The table still goes to stdout.
    expect(r.stdout).toMatch(/^address:port\s+expected/m);

    const strict = xmllint(['--noout', '--schema', XSD, join(dir, 'strict.xml')]);
    expect(strict.status, strict.stderr).toBe(0);
    const junit = join(dir, 'probe.xml');
    expect(xmllint(['--noout', junit]).status).toBe(0);
    const xpath = (e: string) => xmllint(['--xpath', e, junit]).stdout.trim();
    expect(xpath('string(//testsuite/@name)')).toBe('127.0.0.1');
    // The message is the finding's title (the TLS facts' own wording of it).
    expect(xpath(`string(//testcase[@name='127.0.0.1:${expired.port} tls-expired']/failure/@message)`)).toMatch(/expired/);
    expect(xpath(`string(//testcase[@name='127.0.0.1:${expired.port} tls-expired']/failure)`)).toMatch(/hint: +certificate expired .* ago; renew it/);
    expect(xpath(`string(//testcase[@name='127.0.0.1:${refused} tcp-refused']/skipped/@message)`)).toBe(`not probed: port ${refused} refused the connection`);
    expect(Number(xpath('string(/testsuites/@failures)'))).toBeGreaterThanOrEqual(1);

    const tap = parseTap(readFileSync(join(dir, 'probe.tap'), 'utf8'));
    const expiredPoint = tap.points.find((p) => p.description === `127.0.0.1:${expired.port} tls-expired`);
    expect(expiredPoint).toMatchObject({ ok: false, diagnostics: { severity: 'fail', hint: expect.stringContaining('renew it') } });
    expect(tap.points.find((p) => p.description === `127.0.0.1:${refused} tcp-refused`)).toMatchObject({ ok: true, directive: { kind: 'SKIP' } });
  });

  it('--reporter tap without a file takes stdout instead of the table; exit by the worst finding (refused is info: 0)', async () => {
    const refused = await refusedPort();
    const r = await runCli(['probe', '127.0.0.1', '--ports', `${refused}=smtp/starttls`, '--reporter', 'tap']);
    expect(r.code, describeRun(r)).toBe(0);
    const tap = parseTap(r.stdout);
    expect(tap.points).toEqual([expect.objectContaining({ ok: true, description: `127.0.0.1:${refused} tcp-refused` })]);
    expect(r.stdout).not.toContain('address:port');
  });

  it('usage errors before any connection: an unknown reporter, two writers on stdout, --watch with a stdout reporter, --watch below 5 s', async () => {
    for (const args of [
      ['--reporter', 'nope'],
      ['--json', '--reporter', 'tap'],
      ['--watch', '10', '--reporter', 'junit'],
      ['--watch', '10', '--json'],
      ['--watch', '4'],
    ]) {
      const r = await runCli(['probe', '127.0.0.1', '--ports', '1=smtp/starttls', ...args]);
      expect(r.code, `${args.join(' ')}: ${describeRun(r)}`).toBe(2);
      expect(r.stdout).toBe('');
    }
  });

  it('a name with no address: exit 3, and the junit file has one errored case saying why', async () => {
    const dns = await nxdomainServer();
    const dir = await tempDir('probe-nxdomain');
    try {
      const junit = join(dir, 'probe.xml');
      const r = await runCli(['probe', 'nothing.probe.test', '--dns-server', `127.0.0.1:${dns.port}`, '--ports', '587', '--reporter', `junit=${junit}`]);
      expect(r.code, describeRun(r)).toBe(3);
      const xpath = (e: string) => xmllint(['--xpath', e, junit]).stdout.trim();
      expect(xpath('string(/testsuites/@errors)')).toBe('1');
      expect(xpath("string(//testcase[@name='nothing.probe.test resolve']/error/@type)")).toBe('EDNS');
      expect(xpath("string(//testcase[@name='nothing.probe.test resolve']/error/@message)")).toMatch(
        /^nothing\.probe\.test has no A or AAAA record at 127\.0\.0\.1:\d+/,
      );
    } finally {
      await dns.close();
    }
  });

  it('a report file that cannot be written: exit 3, and the table is still printed', async () => {
    const refused = await refusedPort();
    const dir = await tempDir('probe-unwritable');
    // A path under a regular file cannot be created.
    const blocker = join(dir, 'file');
    await import('node:fs/promises').then((fs) => fs.writeFile(blocker, 'x'));
    const r = await runCli(['probe', '127.0.0.1', '--ports', `${refused}=smtp/starttls`, '--reporter', `junit=${join(blocker, 'probe.xml')}`]);
    expect(r.code, describeRun(r)).toBe(3);
    expect(r.stdout).toContain('tcp-refused');
  });
});

describe('mailprobe probe --watch', () => {
  it('prints the table once, then only what changed when the server goes away; the junit file follows every round; Ctrl-C ends with 130', async () => {
    const server = await mailFake({ protocol: 'pop3', implicitTls: certs.localhost });
    const dir = await tempDir('probe-watch');
    const junit = join(dir, 'watch.xml');
    const cli = startCli(['probe', '127.0.0.1', '--ports', `${server.port}=pop3/tls`, ...tlsArgs(), '--watch', '5', '--reporter', `junit=${junit}`]);
    let stdout = '';
    cli.child.stdout!.on('data', (s: string) => (stdout += s));
    try {
      // Round 1 is over once its table and its report file are out; then the server goes.
      await waitUntil(() => stdout.includes('worst: ') && existsSync(junit), 'round 1', 1200);
      expect(stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ round 1; watching every 5 s/m);
      // The test certificate is close to expiry: a warning, a passed testcase whose <system-out> says so.
      expect(readFileSync(junit, 'utf8'), stdout).toContain(`127.0.0.1:${server.port} tls-no-ocsp-stapling`);
      await server.close();
      // Bounded by rounds, not by the clock: wait for round 2's changes, however long the machine takes.
      await waitUntil(() => /round 2: \d+ changes?/.test(stdout), 'round 2', 1200);
      await waitUntil(() => readFileSync(junit, 'utf8').includes('tcp-refused'), 'round 2 report file', 1200);
      cli.child.kill('SIGINT');
      const r = await cli.done;
      expect(r.code, describeRun(r)).toBe(130);
      expect(r.stderr).toContain('mailprobe probe: interrupted; the watch ended');
      const round2 = r.stdout.slice(r.stdout.indexOf('round 2:'));
      expect(round2).toContain(`  port 127.0.0.1:${server.port}: connected, answers pop3, tls ok → refused`);
      expect(round2).toContain(`  + info  127.0.0.1:${server.port}  tcp-refused  port ${server.port} refused the connection`);
      expect(round2).toMatch(new RegExp(`^  - info  127\\.0\\.0\\.1:${server.port}  tls-no-ocsp-stapling  `, 'm'));
      // Only round 1 printed a table.
      expect(r.stdout.match(/^address:port/gm)).toHaveLength(1);
    } finally {
      if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
      await server.close().catch(() => undefined);
    }
  });
});

/** A DNS server on 127.0.0.1 that answers every question NXDOMAIN (RCODE 3), with dns-packet. */
async function nxdomainServer(): Promise<{ port: number; close(): Promise<void> }> {
  const socket = createSocket('udp4');
  socket.on('message', (message, peer) => {
    const query = dnsPacket.decode(message);
    // QR is set by type 'response'; RD and RA, and RCODE 3 in the low bits.
    const reply = dnsPacket.encode({
      id: query.id,
      type: 'response',
      flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | 3,
      questions: query.questions,
    });
    socket.send(reply, peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { port: socket.address().port, close: () => new Promise<void>((resolve) => socket.close(() => resolve())) };
}
