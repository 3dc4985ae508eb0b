import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createReporter, REPORTER_NAMES } from '../../src/reporters/index.js';
import { execute } from '../../src/runner/execute.js';
import { describeRun, runCli, tempDir } from '../support/cli.js';
import { Capture } from '../reporters/support.js';
import {
  accountsFor,
  EXPECTED_MECHANISMS,
  filesAsOutputs,
  findLeaks,
  LISTENERS,
  missingRedactedEchoes,
  passwordOfLength,
  passwordOnWire,
  specialPasswords,
  writeRunFiles,
  type CanaryAccount,
  type Leak,
} from './canary-harness.js';
import { ECHO_OPEN, startEchoHost, type WireSecret } from './echo-server.js';

/**
 * The redaction canary (issue 7 §2). A hostile host refuses every login with
 * an error that quotes exactly what the client sent; mailprobe logs in with
 * every mechanism it uses, with passwords of every length from 1 to 40 and
 * with every special character, and every output (console, JSON, JUnit,
 * junit-strict, TAP, HTML, the out-dir) is searched for the password, its quoted
 * form, and every token that was on the wire. The tokens come from the bytes
 * the server received, not from what the test expects the client to send.
 *
 * The matrix runs in-process through execute(), the same call the CLI makes,
 * with every reporter writing its file; one smaller run goes through the real
 * CLI. Passwords of up to 3 characters run alone: redacting one hides that
 * short string everywhere in the run's output, which would also hide other
 * accounts' echoes and make their checks vacuous.
 */

const REPORT_FILES = { json: 'report.json', junit: 'junit.xml', 'junit-strict': 'junit-strict.xml', tap: 'report.tap', html: 'report.html' } as const;

interface RunOutput {
  readonly outputs: Record<string, string>;
  readonly secrets: WireSecret[];
  readonly code: string;
}

async function runMatrix(accounts: readonly CanaryAccount[], kind: 'main' | 'saslLogin', via: 'execute' | 'cli'): Promise<RunOutput> {
  const host = await startEchoHost(LISTENERS[kind]);
  try {
    const dir = await tempDir(`canary-${kind}`);
    const files = await writeRunFiles(dir, kind, host.ports, accounts);
    const outDir = join(dir, 'out');
    const report = (name: keyof typeof REPORT_FILES) => join(dir, REPORT_FILES[name]);
    let stderr: string;
    let code: string;
    if (via === 'cli') {
      const result = await runCli(
        [
          'run',
          files.scenarioDir,
          '--target',
          files.targetFile,
          '--out-dir',
          outDir,
          ...Object.keys(REPORT_FILES).flatMap((n) => ['--reporter', `${n}=${report(n as keyof typeof REPORT_FILES)}`]),
        ],
        { env: files.env },
      );
      stderr = result.stderr + result.stdout;
      code = describeRun(result);
    } else {
      const err = new Capture();
      const outcome = await execute({
        targetFile: files.targetFile,
        paths: [files.scenarioDir],
        env: files.env,
        reporters: (redactor) =>
          REPORTER_NAMES.map((name) =>
            createReporter(name === 'console' ? name : `${name}=${report(name)}`, { redactor, color: false, stderr: err, stdout: err, cwd: dir }),
          ),
        stderr: err,
        signal: new AbortController().signal,
        messagesDir: join(outDir, 'messages'),
        version: 'canary',
      });
      stderr = err.text;
      code = outcome.kind === 'invalid' ? `invalid: ${outcome.problems.join('\n')}` : `ran ${outcome.result.scenarios.length} scenarios`;
      expect(outcome.kind, code).toBe('ran');
    }
    const outputs: Record<string, string> = { console: stderr };
    for (const name of Object.keys(REPORT_FILES) as Array<keyof typeof REPORT_FILES>) outputs[name] = await readFile(report(name), 'utf8');
    Object.assign(outputs, await filesAsOutputs(outDir, 'out-dir'));
    if (process.env['CANARY_DEBUG']) console.log(dir);
    return { outputs, secrets: host.secrets(), code };
  } finally {
    await host.close();
  }
}

/** What the run must have done for its checks to mean anything, then the checks. */
function judge(run: RunOutput, accounts: readonly CanaryAccount[], kind: 'main' | 'saslLogin', exactEchoes: boolean): Leak[] {
  // Every account logged in with every mechanism of this configuration, with its own password.
  const passwords = new Set(accounts.map((a) => a.password));
  for (const mechanism of EXPECTED_MECHANISMS[kind]) {
    const sent = run.secrets.filter((s) => s.mechanism === mechanism).map(passwordOnWire);
    expect(new Set(sent), `${mechanism}: the passwords on the wire (${run.code})`).toEqual(passwords);
  }
  if (kind === 'main') {
    // Both IMAP clients sent LOGIN: imapflow tags with numbers, the raw client with A001, A002, …
    const logins = run.secrets.filter((s) => s.mechanism === 'imap LOGIN');
    for (const [client, tag] of [
      ['imapflow', /^\d+ /],
      ['raw client', /^A\d{3} /],
    ] as const) {
      expect(new Set(logins.filter((s) => tag.test(s.line)).map(passwordOnWire)), `imap LOGIN by the ${client} (${run.code})`).toEqual(passwords);
    }
  }
  for (const [name, text] of Object.entries(run.outputs)) {
    if (!name.startsWith('out-dir')) expect(text.includes(ECHO_OPEN), `the server's echo reached ${name} (${run.code})`).toBe(true);
  }
  const leaks = findLeaks(run.outputs, run.secrets);
  // Leaks first: they are what the test is for; a missing echo says the search was not meaningful.
  if (leaks.length === 0 && exactEchoes) expect(missingRedactedEchoes(run.outputs, run.secrets).slice(0, 10), run.code).toEqual([]);
  return leaks;
}

/** One line per mechanism, form and password: which lengths leaked where, compact enough for an assertion message. */
function summarise(leaks: readonly Leak[]): string[] {
  const byKey = new Map<string, Set<string>>();
  for (const leak of leaks) {
    const key = `${leak.mechanism}: ${leak.what}, password of ${leak.password.length} (${JSON.stringify(leak.password)})`;
    byKey.set(key, (byKey.get(key) ?? new Set()).add(leak.output));
  }
  const lines = [...byKey].map(([key, outputs]) => `${key} → ${[...outputs].join(', ')}`);
  if (process.env['CANARY_DEBUG']) console.log(lines.join('\n'));
  return lines.slice(0, 60);
}

const GROUP = 12;
const LONG_LENGTHS = Array.from({ length: 37 }, (_, i) => i + 4);
const SHORT_PASSWORDS = [...[1, 2, 3].map(passwordOfLength), ...specialPasswords().short];
// And one past 255 octets of "AUTH PLAIN <token>": the POP3 client then sends the token as a continuation.
const LONG_PASSWORDS = [...LONG_LENGTHS.map(passwordOfLength), ...specialPasswords().long, passwordOfLength(200)];

describe('no form of a password survives a server that echoes it (canary matrix)', () => {
  it('lengths 4–40 and every special inside a longer password, every mechanism, every reporter', { timeout: 240_000 }, async () => {
    const leaks: Leak[] = [];
    // Groups of a dozen accounts: the search costs outputs × secrets, and both grow with the group.
    for (let from = 0; from < LONG_PASSWORDS.length; from += GROUP) {
      const accounts = accountsFor(LONG_PASSWORDS.slice(from, from + GROUP), from);
      for (const kind of ['main', 'saslLogin'] as const) {
        const run = await runMatrix(accounts, kind, 'execute');
        leaks.push(...judge(run, accounts, kind, true));
      }
    }
    expect(summarise(leaks)).toEqual([]);
  });

  it('lengths 1–3 and every special alone, each password in a run of its own', { timeout: 240_000 }, async () => {
    const leaks: Leak[] = [];
    for (const [i, password] of SHORT_PASSWORDS.entries()) {
      const accounts = accountsFor([password], i);
      for (const kind of ['main', 'saslLogin'] as const) {
        const run = await runMatrix(accounts, kind, 'execute');
        leaks.push(...judge(run, accounts, kind, false));
      }
    }
    expect(summarise(leaks)).toEqual([]);
  });

  it('the real CLI, with --out-dir and every reporter, for short and quoted passwords', { timeout: 120_000 }, async () => {
    const accounts = accountsFor([passwordOfLength(5), passwordOfLength(7), passwordOfLength(8), 'Quo"te\\Kq"9\\\\z', passwordOfLength(24)]);
    const run = await runMatrix(accounts, 'main', 'cli');
    const leaks = judge(run, accounts, 'main', true);
    expect(summarise(leaks)).toEqual([]);
  });
});
