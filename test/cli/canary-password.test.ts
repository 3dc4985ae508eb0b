import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeMailHost, Pop3Faults, Pop3OverrideIo } from '../../fixtures/servers/fake-mail-host.js';
import { describeRun, filesUnder, POP3_SUITE, REPO_ROOT, runCli, startFakeHostWithTarget, tempDir, type CliResult } from '../support/cli.js';
import { replaceFlags } from '../support/expect-helpers.js';

/**
 * A canary password must never leave the process in any form a reader could
 * use: not in the console, not in any report, not in the saved messages. Runs
 * are made to fail so that transcripts (which include the login) get printed.
 */
const CANARY = 'Canary-S3cret-pw!';
const USER = 'alice';

/** Every form the password travels in on the wire: plain (PASS) and base64 (AUTH PLAIN, RFC 4616). */
const FORMS: Record<string, string> = {
  plain: CANARY,
  base64: Buffer.from(CANARY).toString('base64'),
  'base64 \\0user\\0password': Buffer.from(`\0${USER}\0${CANARY}`).toString('base64'),
  'base64 user\\0user\\0password': Buffer.from(`${USER}\0${USER}\0${CANARY}`).toString('base64'),
  // Without padding, in case a writer trims it.
  'base64 \\0user\\0password, unpadded': Buffer.from(`\0${USER}\0${CANARY}`).toString('base64').replace(/=+$/, ''),
};

function decodeHtmlEntities(text: string): string {
  return text
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

function assertNoCanary(where: string, text: string): void {
  for (const [form, value] of Object.entries(FORMS)) {
    expect(text.includes(value), `the canary password (${form}: ${value}) appears in ${where}`).toBe(false);
  }
}

interface RunArtifacts {
  readonly result: CliResult;
  readonly outDir: string;
  readonly reports: Record<'junit' | 'junit-strict' | 'tap' | 'json' | 'html', string>;
}

describe('a canary password never appears in output', () => {
  let host: FakeMailHost;
  let targetFile: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    ({ host, targetFile, env } = await startFakeHostWithTarget({
      accounts: { [USER]: { password: CANARY, address: 'alice@fake.test' }, bob: { password: 'bob-Other-pw-2', address: 'bob@fake.test' } },
    }));
  });
  afterAll(async () => {
    await host?.close();
  });

  async function runWithAllReporters(faults: Pop3Faults, extra: readonly string[] = []): Promise<RunArtifacts> {
    const dir = await tempDir('canary');
    const outDir = join(dir, 'out');
    const reports = {
      junit: join(dir, 'junit.xml'),
      'junit-strict': join(dir, 'junit-strict.xml'),
      tap: join(dir, 'report.tap'),
      json: join(dir, 'report.json'),
      html: join(dir, 'report.html'),
    };
    replaceFlags(host.faults, faults);
    try {
      const result = await runCli(
        [
          'run',
          POP3_SUITE,
          '--target',
          targetFile,
          '--out-dir',
          outDir,
          ...Object.entries(reports).flatMap(([name, file]) => ['--reporter', `${name}=${file}`]),
          ...extra,
        ],
        { env },
      );
      return { result, outDir, reports };
    } finally {
      replaceFlags(host.faults, {});
    }
  }

  async function assertClean(run: RunArtifacts): Promise<void> {
    assertNoCanary('stdout', run.result.stdout);
    assertNoCanary('stderr', run.result.stderr);
    for (const [name, file] of Object.entries(run.reports)) {
      expect(existsSync(file), `the ${name} report was not written\n${describeRun(run.result)}`).toBe(true);
      const text = await readFile(file, 'latin1');
      assertNoCanary(`the ${name} report`, text);
      // The HTML report escapes & < > " ': a password holding them must not hide behind an entity.
      if (name === 'html') assertNoCanary('the html report, entities decoded', decodeHtmlEntities(text));
    }
    // No out dir at all is fine (nothing was downloaded); the first test proves it is scanned when there is one.
    const outFiles = existsSync(run.outDir) ? await filesUnder(run.outDir) : [];
    for (const file of outFiles) assertNoCanary(`out-dir file ${relative(run.outDir, file)}`, await readFile(file, 'latin1'));
  }

  it('is scrubbed from stdout, stderr, every report and every saved message of a failing run', async () => {
    // With --baseline, the diff's changed check values (what the servers answered) are on stdout too.
    const run = await runWithAllReporters({ ignoreRset: true, corruptRetr: true }, ['--baseline', join(REPO_ROOT, 'fixtures', 'reports', 'baseline.json')]);
    expect(run.result.code, describeRun(run.result)).toBe(1);
    expect(run.result.stdout).toMatch(/Checks whose actual value changed:/);
    await assertClean(run);

    const report = JSON.parse(await readFile(run.reports.json, 'utf8')) as {
      runId: string;
      scenarios: Array<{ steps?: Array<{ transcript?: Array<{ text: string }> }> }>;
    };
    // Saved message copies exist, so the out-dir check above looked at real files.
    const saved = await filesUnder(join(run.outDir, 'messages', report.runId));
    expect(saved.length, `no message copies under ${run.outDir}/messages/${report.runId}`).toBeGreaterThan(0);
    // The login line was in the transcripts, and was scrubbed rather than left out.
    const transcript = report.scenarios
      .flatMap((s) => s.steps ?? [])
      .flatMap((s) => s.transcript ?? [])
      .map((l) => l.text);
    expect(
      transcript.some((t) => t.includes('[redacted]')),
      `no [redacted] in the JSON transcripts:\n${transcript.slice(0, 40).join('\n')}`,
    ).toBe(true);
  });

  it('is scrubbed when the login itself is what fails, so the AUTH line is in every failure transcript', async () => {
    // Answer the real AUTH/PASS line with a permanent refusal: the run errors at login,
    // and each scenario's diagnosis ends with the (redacted) credential line.
    const refuse = (args: string[], io: Pop3OverrideIo): boolean => {
      if (args.length === 0 && io.state === 'authorization') return false;
      io.reply('-ERR [AUTH] invalid user name or password');
      return true;
    };
    host.pop3Overrides.AUTH = refuse;
    host.pop3Overrides.PASS = refuse;
    let run: RunArtifacts;
    try {
      run = await runWithAllReporters({});
    } finally {
      stopEchoing();
    }
    expect(run.result.code, describeRun(run.result)).toBe(3);
    expect(run.result.stderr).toMatch(/(AUTH PLAIN|PASS) \[redacted\]/);
    await assertClean(run);
  });

  /** The POP3 login is refused with a reply that quotes what the client sent: the decoded AUTH PLAIN token, or PASS's argument. */
  const echoCredentials = (): void => {
    host.pop3Overrides.AUTH = (args: string[], io: Pop3OverrideIo): boolean => {
      if (args.length === 0) return false;
      const token = args[1] ?? '';
      const decoded = Buffer.from(token, 'base64').toString('utf8').split('\0').join(' ');
      io.reply(`-ERR [AUTH] rejected ${token} (${decoded})`);
      return true;
    };
    host.pop3Overrides.PASS = (args: string[], io: Pop3OverrideIo): boolean => {
      io.reply(`-ERR [AUTH] wrong password ${args.join(' ')}`);
      return true;
    };
  };
  const stopEchoing = (): void => {
    delete host.pop3Overrides.AUTH;
    delete host.pop3Overrides.PASS;
  };

  it('is scrubbed even when a hostile server echoes the credential back in its reply', async () => {
    // Server bytes are hostile input (DESIGN §10): a reply may quote what the client sent.
    // "Every known secret value is scrubbed" (README, Safety) must cover replies too.
    echoCredentials();
    let run: RunArtifacts;
    try {
      run = await runWithAllReporters({});
    } finally {
      stopEchoing();
    }
    expect(run.result.code, describeRun(run.result)).toBe(3);
    // The echoing reply made it into the diagnosis (so this run really carried the canary back).
    expect(run.result.stderr).toMatch(/rejected|wrong password/);
    await assertClean(run);
  });

  it('is scrubbed from the live --verbose transcript, also where a hostile server echoes it', async () => {
    echoCredentials();
    let run: RunArtifacts;
    try {
      run = await runWithAllReporters({}, ['--verbose']);
    } finally {
      stopEchoing();
    }
    expect(run.result.code, describeRun(run.result)).toBe(3);
    // The live lines are there: the client's credential line and the echoing reply, both scrubbed.
    expect(run.result.stderr).toMatch(/^\d\d:\d\d:\d\d\.\d{3} \[[^\]]+\]  [-~]> (PASS|AUTH PLAIN) \[redacted\]$/m);
    expect(run.result.stderr).toMatch(/^\d\d:\d\d:\d\d\.\d{3} \[[^\]]+\]  <[-~] -ERR \[AUTH\] (rejected|wrong password) .*\[redacted\]/m);
    await assertClean(run);
  });
});
