import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeMailHost } from '../../fixtures/servers/fake-mail-host.js';
import { describeRun, POP3_SUITE, runCli, startCli, startCountingServer, startFakeHostWithTarget, tempDir, writeCountingTarget } from '../support/cli.js';

/**
 * What a CI job depends on (issue 10 §1), through the built bin: every usage
 * error is exit 2 with a reason and no connection, the secrets file option is
 * not one Node takes for itself, target files among scenarios are told apart
 * by content, missing secrets are found before connecting, two outputs never
 * share one sink, and a closed stdout ends the process quietly.
 */

describe('every usage error exits 2 and says why', () => {
  const cases: ReadonlyArray<{ args: string[]; says: RegExp }> = [
    // --verbose is an option of `run` (issue 10 §3, test/cli/verbose.test.ts), not of the program or other commands.
    { args: ['--verbose'], says: /unknown option '--verbose'/ },
    { args: ['validate', '--verbose'], says: /unknown option '--verbose'/ },
    { args: ['run', '--verbose=yes'], says: /unknown option '--verbose=yes'/ },
    { args: ['run', '--timeout', 'abc'], says: /'abc' is invalid/ },
    { args: ['run', '--timeout', '0'], says: /'0' is invalid/ },
    { args: ['run', '--reporter'], says: /argument missing/ },
    { args: ['validate', '--bogus'], says: /unknown option '--bogus'/ },
    { args: ['lab', 'bogus'], says: /unknown command 'bogus'/ },
    { args: ['bogus'], says: /unknown command 'bogus'/ },
    { args: ['probe', '--as', 'neither'], says: /'neither' is invalid/ },
    { args: ['probe', '--watch', 'soon'], says: /'soon' is invalid/ },
    { args: ['report', 'bogus'], says: /unknown command 'bogus'/ },
    { args: ['report', 'diff', 'a.json'], says: /missing required argument 'current'/ },
    { args: ['report', 'diff', 'a.json', 'b.json', '--threshold', '1s'], says: /bad threshold "1s"/ },
    { args: ['report', 'diff', 'a.json', 'b.json', '--format', 'html'], says: /'html' is invalid/ },
    { args: ['run', '--threshold', 'fast'], says: /bad threshold "fast"/ },
    // Thrown from inside the command's action, not by the parser: must still say what was wrong.
    { args: ['schema', 'bogus'], says: /unknown schema 'bogus'/ },
  ];
  for (const { args, says } of cases) {
    it(`mailprobe ${args.join(' ')}`, async () => {
      const r = await runCli(args);
      expect(r.code, describeRun(r)).toBe(2);
      expect(r.stderr, describeRun(r)).toMatch(says);
      expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    });
  }

  it('--help and --version stay exit 0', async () => {
    for (const args of [['--help'], ['run', '--help'], ['--version'], ['lab', '--help']]) {
      const r = await runCli(args);
      expect(r.code, `${args.join(' ')}: ${describeRun(r)}`).toBe(0);
    }
  });
});

describe('inputs checked before anything connects', () => {
  let counter: Awaited<ReturnType<typeof startCountingServer>>;
  let dir: string;
  let target: string;

  beforeAll(async () => {
    counter = await startCountingServer();
    dir = await tempDir('ci-usage');
    target = join(dir, 'counting.yaml');
    await writeCountingTarget(target, counter.port, [
      { user: 'alice', address: 'alice@fake.test' },
      { user: 'bob', address: 'bob@fake.test' },
    ]);
  });
  afterAll(async () => {
    await counter?.close();
  });

  describe('--secrets-file (Node takes --env-file for itself)', () => {
    it('reads KEY=value lines from the file: the run gets as far as connecting', async () => {
      const secrets = join(dir, 'secrets.env');
      await writeFile(secrets, 'MAILPROBE_FAKE_PRIMARY_PASSWORD=from-file-pw\nMAILPROBE_FAKE_SECONDARY_PASSWORD=from-file-pw2\n');
      const before = counter.connections();
      const r = await runCli(['run', join(POP3_SUITE, 'rset.yaml'), '--target', target, '--secrets-file', secrets, '--out-dir', join(dir, 'out')]);
      // The counting server hangs up at once: the run errors (3), which proves the secrets were read.
      expect(r.code, describeRun(r)).toBe(3);
      expect(counter.connections()).toBeGreaterThan(before);
      expect(r.stdout + r.stderr).not.toContain('from-file-pw');
    });

    it('a missing secrets file is a usage error of mailprobe, not of Node', async () => {
      const r = await runCli(['run', '--target', target, '--secrets-file', join(dir, 'nope.env')]);
      expect(r.code, describeRun(r)).toBe(2);
      expect(r.stderr).toMatch(/^mailprobe: .*nope\.env/m);
    });

    it('--help names --secrets-file and warns off --env-file', async () => {
      const r = await runCli(['run', '--help']);
      expect(r.code, describeRun(r)).toBe(0);
      expect(r.stdout).toContain('--secrets-file <file>');
      expect(r.stdout).toMatch(/not\s+--env-file: Node takes that one for itself/);
      // The old name works but is not offered.
      expect(r.stdout).not.toContain('--env-from');
    });
  });

  describe('missing secrets', () => {
    it('an unset password_env is exit 2 before any connection, once, with a did-you-mean and no value', async () => {
      const before = counter.connections();
      const r = await runCli(['run', POP3_SUITE, '--target', target, '--out-dir', join(dir, 'out')], {
        env: { MAILPROBE_FAKE_SECONDARY_PASSWORD: 'bob-secret-1', MAILPROBE_FAKE_PRIMARY_PASSWRD: 'typo-secret-2' },
      });
      expect(r.code, describeRun(r)).toBe(2);
      expect(counter.connections(), 'a run with a missing secret connected').toBe(before);
      const lines = r.stderr.split('\n').filter((l) => l.includes('MAILPROBE_FAKE_PRIMARY_PASSWORD'));
      expect(lines, describeRun(r)).toHaveLength(1);
      expect(lines[0]).toMatch(/counting\.yaml:\d+:\d+: /);
      expect(lines[0]).toContain("did you mean 'MAILPROBE_FAKE_PRIMARY_PASSWRD'?");
      expect(r.stdout + r.stderr).not.toContain('bob-secret-1');
      expect(r.stdout + r.stderr).not.toContain('typo-secret-2');
    });

    it('run --dry-run finds the same missing secret: exit 2, the plan still listed, nothing connected', async () => {
      const before = counter.connections();
      const r = await runCli(['run', POP3_SUITE, '--target', target, '--dry-run'], {
        env: { MAILPROBE_FAKE_SECONDARY_PASSWORD: 'bob-secret-1', MAILPROBE_FAKE_PRIMARY_PASSWRD: 'typo-secret-2' },
      });
      expect(r.code, describeRun(r)).toBe(2);
      expect(counter.connections(), 'a dry run connected').toBe(before);
      const lines = r.stderr.split('\n').filter((l) => l.includes('MAILPROBE_FAKE_PRIMARY_PASSWORD'));
      expect(lines, describeRun(r)).toHaveLength(1);
      expect(lines[0]).toMatch(/counting\.yaml:\d+:\d+: .*did you mean 'MAILPROBE_FAKE_PRIMARY_PASSWRD'\?/);
      expect(r.stdout).toContain('mailprobe run --dry-run:');
      expect(r.stdout + r.stderr).not.toContain('bob-secret-1');
      expect(r.stdout + r.stderr).not.toContain('typo-secret-2');
      const complete = await runCli(['run', POP3_SUITE, '--target', target, '--dry-run'], {
        env: { MAILPROBE_FAKE_PRIMARY_PASSWORD: 'pw-1', MAILPROBE_FAKE_SECONDARY_PASSWORD: 'pw-2' },
      });
      expect(complete.code, describeRun(complete)).toBe(0);
    });

    it('an account no chosen scenario uses may lack its password', async () => {
      const before = counter.connections();
      // pop3/rset uses primary only (its SMTP send goes as primary too): secondary may be unset.
      const r = await runCli(['run', join(POP3_SUITE, 'rset.yaml'), '--target', target, '--out-dir', join(dir, 'out')], {
        env: { MAILPROBE_FAKE_PRIMARY_PASSWORD: 'alice-pw' },
      });
      expect(r.code, describeRun(r)).toBe(3);
      expect(counter.connections()).toBeGreaterThan(before);
    });
  });

  describe('output collisions', () => {
    const env = { MAILPROBE_FAKE_PRIMARY_PASSWORD: 'pw-1', MAILPROBE_FAKE_SECONDARY_PASSWORD: 'pw-2' };
    const collisions: ReadonlyArray<{ what: string; reporters: string[]; says: RegExp }> = [
      { what: 'tap and json both to stdout', reporters: ['tap', 'json'], says: /tap.*json.*stdout|stdout.*tap.*json/ },
      { what: 'junit twice to stdout', reporters: ['junit', 'junit-strict'], says: /stdout/ },
      { what: 'two reporters to one file', reporters: ['json=same.out', 'tap=./same.out'], says: /same\.out/ },
    ];
    for (const { what, reporters, says } of collisions) {
      it(`${what}: exit 2, nothing connected`, async () => {
        const before = counter.connections();
        const args = ['run', POP3_SUITE, '--target', target, '--out-dir', join(dir, 'out'), ...reporters.flatMap((r) => ['--reporter', r])];
        const r = await runCli(args, { env, cwd: dir });
        expect(r.code, describeRun(r)).toBe(2);
        expect(r.stderr).toMatch(says);
        expect(counter.connections()).toBe(before);
      });
    }
  });

  it('probe: two reporters to one file is exit 2, nothing connected', async () => {
    const before = counter.connections();
    const r = await runCli(['probe', '127.0.0.1', '--ports', `${counter.port}=pop3/tls`, '--reporter', 'json=probe.out', '--reporter', 'junit=probe.out'], {
      cwd: dir,
    });
    expect(r.code, describeRun(r)).toBe(2);
    expect(r.stderr).toMatch(/probe\.out/);
    expect(counter.connections()).toBe(before);
  });

  describe('target files among scenarios are told apart by content', () => {
    let folder: string;
    beforeAll(async () => {
      folder = join(dir, 'suite-with-target');
      await mkdir(folder, { recursive: true });
      await copyFile(join(POP3_SUITE, 'rset.yaml'), join(folder, 'rset.yaml'));
      // One named like a target, one not: content decides.
      await copyFile(target, join(folder, 'staging-target.yaml'));
      await copyFile(target, join(folder, 'prod.yaml'));
    });

    it('validate checks them as targets, not as broken scenarios', async () => {
      const r = await runCli(['validate', folder]);
      expect(r.code, describeRun(r)).toBe(0);
      expect(r.stderr).toMatch(/1 scenario\(s\) and 2 target file\(s\) are valid/);
    });

    it('validate reports a broken target in a folder as a target problem', async () => {
      const broken = join(dir, 'suite-with-broken-target');
      await mkdir(broken, { recursive: true });
      await copyFile(join(POP3_SUITE, 'rset.yaml'), join(broken, 'rset.yaml'));
      const text = (await readFile(target, 'utf8')).replace(/port: \d+/, 'port: 70000');
      await writeFile(join(broken, 'prod.yaml'), text);
      const r = await runCli(['validate', broken]);
      expect(r.code, describeRun(r)).toBe(2);
      expect(r.stderr).toMatch(/prod\.yaml:\d+:\d+: .*port/);
      expect(r.stderr).not.toContain("missing required key 'steps'");
    });

    it('kind: target marks a target file that is too broken to be recognised by its keys', async () => {
      const marked = join(dir, 'suite-with-kind-target');
      await mkdir(marked, { recursive: true });
      await copyFile(join(POP3_SUITE, 'rset.yaml'), join(marked, 'rset.yaml'));
      await writeFile(join(marked, 'half.yaml'), 'kind: target\nname: half done\nhost: mail.example.test\naccounts: {}\n');
      const r = await runCli(['validate', marked]);
      expect(r.code, describeRun(r)).toBe(2);
      expect(r.stderr).toMatch(/half\.yaml:\d+:\d+: .*endpoints/);
      expect(r.stderr).not.toContain("missing required key 'steps'");
    });

    it('run leaves them out of the scenarios', async () => {
      // The dry run checks the passwords too: rset needs primary's.
      const r = await runCli(['run', folder, '--target', target, '--dry-run'], { env: { MAILPROBE_FAKE_PRIMARY_PASSWORD: 'pw-1' } });
      expect(r.code, describeRun(r)).toBe(0);
      expect(r.stdout).toMatch(/1 scenario\(s\)/);
    });
  });
});

describe('a closed stdout ends the process quietly', () => {
  let host: FakeMailHost | undefined;
  afterAll(async () => {
    await host?.close();
  });

  it('run --reporter tap into a reader that is gone: the run completes, cleans up and exits with its own code', async () => {
    const started = await startFakeHostWithTarget({ accounts: { alice: { password: 'alice-Pipe-pw', address: 'alice@fake.test' } } });
    host = started.host;
    const out = await tempDir('pipe');
    const run = startCli(
      [
        'run',
        join(POP3_SUITE, 'rset.yaml'),
        '--target',
        started.targetFile,
        '--reporter',
        'tap',
        '--reporter',
        `json=${join(out, 'r.json')}`,
        '--quiet',
        '--out-dir',
        out,
      ],
      {
        env: started.env,
      },
    );
    // The reader goes away before the first byte: every write to stdout fails with EPIPE.
    run.child.stdout!.destroy();
    const r = await run.done;
    expect(r.stderr, describeRun(r)).not.toMatch(/EPIPE|Unhandled|\n\s+at /);
    expect(r.code, describeRun(r)).toBe(0);
    // The file report was still written, and says the scenario passed.
    const json = JSON.parse(await readFile(join(out, 'r.json'), 'utf8')) as { scenarios: { state: string }[] };
    expect(json.scenarios.map((s) => s.state)).toEqual(['passed']);
  }, 120_000);

  it('mailprobe schema | head -c 1: no EPIPE stack trace', async () => {
    // The schema is far larger than a pipe's buffer: the reader goes away while the CLI still writes.
    const run = startCli(['schema']);
    run.child.stdout!.once('data', () => run.child.stdout!.destroy());
    const r = await run.done;
    expect(r.stderr, describeRun(r)).not.toMatch(/EPIPE|Unhandled|\n\s+at /);
    expect(r.signal).toBeNull();
    expect(r.code, describeRun(r)).toBe(0);
  }, 60_000);
});
