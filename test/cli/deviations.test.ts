import { spawnSync } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Parser, type Result } from 'tap-parser';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeRun, REPO_ROOT, runCli, tempDir } from '../support/cli.js';
import { startHostileServer, type HostileServer } from '../support/hostile-server.js';
import { send } from '../support/hostile-wire.js';

/**
 * Known deviations end to end, on the wire: the built CLI against an in-process IMAP server
 * that leaves [UIDNEXT] out of SELECT/EXAMINE (Courier-IMAP's answer), and against a faithful
 * one. Unlisted, the missing item fails the run (exit 1); listed in the target's `deviations:`,
 * it is a known deviation in every report (exit 0), with its reason and clause; listed and
 * answered right, it is "deviation fixed" (exit 0); a bad entry is exit 2 before any connection.
 */
const PASSWORD_ENV = 'DEVIATION_PRIMARY_PASSWORD';
const XSD = join(REPO_ROOT, 'fixtures', 'junit', 'junit-10.xsd');
const REASON = 'Courier sends UIDNEXT only in STATUS';
const CLAUSE = 'RFC 9051 §6.3.2';

const SCENARIO = `name: SELECT carries UIDNEXT, twice
requires: { endpoints: [imap], accounts: [primary] }
sessions:
  box: { protocol: imap, endpoint: imap, account: primary }
steps:
  - name: EXAMINE INBOX
    action: imap.select
    session: box
    with: { mailbox: INBOX }
    expect:
      - id: uidnext-in-select
        that: uidnext
        exists: true
        rfc: "RFC 9051 §6.3.2 (SELECT): UIDNEXT is a REQUIRED OK untagged response"
      - that: uidvalidity
        exists: true
  - name: NOOP
    action: imap.noop
    session: box
  - name: EXAMINE INBOX again
    action: imap.select
    session: box
    with: { mailbox: INBOX }
    expect:
      - id: uidnext-again
        that: uidnext
        exists: true
        rfc: "RFC 9051 §6.3.2 (SELECT): UIDNEXT is a REQUIRED OK untagged response"
`;

/** SELECT/EXAMINE as the faithful script answers it, minus the [UIDNEXT] line. */
const withoutUidNext = send(
  (io) =>
    '* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n* 0 EXISTS\r\n* 0 RECENT\r\n* OK [PERMANENTFLAGS ()] read-only\r\n' +
    `* OK [UIDVALIDITY 1700000000] UIDs valid\r\n${io.tag} OK [READ-ONLY] EXAMINE completed\r\n`,
);

let dir: string;
let scenarioFile: string;
let courier: HostileServer;
let faithful: HostileServer;

beforeAll(async () => {
  dir = await tempDir('deviations');
  // Under a folder named suites, so the scenario's id is imap/select-uidnext.
  await mkdir(join(dir, 'suites', 'imap'), { recursive: true });
  scenarioFile = join(dir, 'suites', 'imap', 'select-uidnext.yaml');
  await writeFile(scenarioFile, SCENARIO);
  courier = await startHostileServer({ protocol: 'imap', tls: 'none', faults: { EXAMINE: withoutUidNext, SELECT: withoutUidNext } });
  faithful = await startHostileServer({ protocol: 'imap', tls: 'none', faults: {} });
});
afterAll(async () => {
  await courier?.close();
  await faithful?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

type Entry = { check: string; reason: string; rfc: string };
const entry = (check: string): Entry => ({ check: `imap/select-uidnext#${check}`, reason: REASON, rfc: CLAUSE });

async function run(server: HostileServer, label: string, deviations: Entry[] | undefined) {
  const targetFile = join(dir, `${label}.target.yaml`);
  await writeFile(
    targetFile,
    stringify({
      name: `deviations ${label}`,
      host: '127.0.0.1',
      endpoints: { imap: { port: server.port, security: 'none' } },
      accounts: { primary: { user: 'alice', address: 'alice@deviation.test', password_env: PASSWORD_ENV } },
      timeouts: { command: 5000, greeting: 5000 },
      ...(deviations !== undefined ? { deviations } : {}),
    }),
  );
  const files = {
    json: join(dir, `${label}.json`),
    junit: join(dir, `${label}.xml`),
    'junit-strict': join(dir, `${label}.strict.xml`),
    tap: join(dir, `${label}.tap`),
    html: join(dir, `${label}.html`),
  };
  const result = await runCli(
    [
      'run',
      scenarioFile,
      '--target',
      targetFile,
      '--out-dir',
      join(dir, `${label}-out`),
      '--reporter',
      'console',
      ...Object.entries(files).flatMap(([name, file]) => ['--reporter', `${name}=${file}`]),
    ],
    { env: { [PASSWORD_ENV]: 'not-a-real-secret-9' } },
  );
  const read = (f: string) => readFile(f, 'utf8').catch(() => '');
  return {
    result,
    targetFile,
    strictFile: files['junit-strict'],
    json: await read(files.json),
    junit: await read(files.junit),
    tap: await read(files.tap),
    html: await read(files.html),
  };
}

const scenarioOf = (json: string) => (JSON.parse(json) as { scenarios: Record<string, unknown>[] }).scenarios[0]!;
const tapAsserts = (tap: string) =>
  Parser.parse(tap)
    .filter((e) => e[0] === 'assert')
    .map((e) => e[1] as Result);

describe('known deviations on the wire', () => {
  it('unlisted: the missing [UIDNEXT] fails the run (exit 1), naming the check by its id', async () => {
    const r = await run(courier, 'unlisted', undefined);
    expect(r.result.code, describeRun(r.result)).toBe(1);
    const s = scenarioOf(r.json) as { state: string; failure: { check: string; rfc: string } };
    expect(s.state).toBe('failed');
    expect(s.failure).toMatchObject({ check: 'imap/select-uidnext#uidnext-in-select', rfc: expect.stringContaining('RFC 9051 §6.3.2') });
    expect(r.result.stderr).toContain('check    imap/select-uidnext#uidnext-in-select');
  });

  it('listed: a known deviation with its reason and clause in console, JUnit, TAP, JSON and HTML, and exit 0', async () => {
    const r = await run(courier, 'listed', [entry('uidnext-in-select'), entry('uidnext-again')]);
    expect(r.result.code, describeRun(r.result)).toBe(0);
    const s = scenarioOf(r.json) as { state: string; deviations: Record<string, unknown>[] };
    expect(s.state).toBe('passed');
    expect(s.deviations.map((d) => [d.check, d.status, d.reason, d.rfc])).toEqual([
      ['imap/select-uidnext#uidnext-in-select', 'known', REASON, CLAUSE],
      ['imap/select-uidnext#uidnext-again', 'known', REASON, CLAUSE],
    ]);
    const line = `imap/select-uidnext#uidnext-in-select (${CLAUSE}): ${REASON}`;
    expect(r.result.stderr).toContain(`known deviation ${line}`);
    expect(r.result.stderr).toContain('2 known deviations (listed in the target file; not counted as failures)');
    expect(r.junit).toMatch(/<testsuites name="mailprobe" tests="1" failures="0" errors="0"/);
    expect(r.junit).toContain(`known deviation: ${line}`);
    // The strict flavour, with the deviation's property, still validates against the Jenkins xunit schema.
    const lint = spawnSync('xmllint', ['--noout', '--schema', XSD, r.strictFile], { encoding: 'utf8' });
    expect(lint.status, lint.stderr).toBe(0);
    const [point] = tapAsserts(r.tap);
    expect(point).toMatchObject({ ok: false, todo: `known deviation: ${line} (and 1 more deviation)` });
    expect(r.html).toContain('<span class="deviation-note">2 known deviations</span>');
    expect(r.html).toContain(REASON);
    expect(r.html).toContain(CLAUSE);
  });

  it('listed in part: the unlisted later check still fails the run and is the one named', async () => {
    const r = await run(courier, 'partly', [entry('uidnext-in-select')]);
    expect(r.result.code, describeRun(r.result)).toBe(1);
    const s = scenarioOf(r.json) as { state: string; failure: { check: string; step: string }; deviations: { check: string }[] };
    expect(s.failure).toMatchObject({ check: 'imap/select-uidnext#uidnext-again', step: 'EXAMINE INBOX again' });
    expect(s.deviations.map((d) => d.check)).toEqual(['imap/select-uidnext#uidnext-in-select']);
  });

  it('listed but the server sends [UIDNEXT]: "deviation fixed", exit 0', async () => {
    const r = await run(faithful, 'fixed', [entry('uidnext-in-select')]);
    expect(r.result.code, describeRun(r.result)).toBe(0);
    const s = scenarioOf(r.json) as { state: string; deviations: Record<string, unknown>[] };
    expect(s.state).toBe('passed');
    expect(s.deviations).toEqual([expect.objectContaining({ check: 'imap/select-uidnext#uidnext-in-select', status: 'fixed', actual: '1' })]);
    expect(r.result.stderr).toContain("1 deviation fixed: the listed check passes now; remove it from the target's deviations");
    expect(tapAsserts(r.tap)[0]).toMatchObject({ ok: true, todo: expect.stringMatching(/^deviation fixed: imap\/select-uidnext#uidnext-in-select/) });
  });

  it('a bad entry is exit 2 at its place, before any connection; a scenario not in this run is only a warning', async () => {
    const before = courier.connections();
    const typo = await run(courier, 'typo', [entry('uidnext-in-selct')]);
    expect(typo.result.code, describeRun(typo.result)).toBe(2);
    expect(typo.result.stderr).toContain(
      `${typo.targetFile}:16:12: scenario 'imap/select-uidnext' has no check 'uidnext-in-selct' (did you mean 'imap/select-uidnext#uidnext-in-select'?)`,
    );
    const noRfc = await run(courier, 'no-rfc', [{ ...entry('uidnext-in-select'), rfc: 'section 6.3.2' }]);
    expect(noRfc.result.code, describeRun(noRfc.result)).toBe(2);
    expect(noRfc.result.stderr).toMatch(/:18:10: rfc names the clause the server departs from/);
    expect(courier.connections(), 'no connection for a refused profile').toBe(before);

    const other = await run(courier, 'other-suite', [entry('uidnext-in-select'), entry('uidnext-again'), { ...entry('x'), check: 'pop3/rset#nothing' }]);
    expect(other.result.code, describeRun(other.result)).toBe(0);
    expect(other.result.stderr).toMatch(/:22:12: warning: deviation 'pop3\/rset#nothing' names no scenario of this run; it is ignored/);
  });

  it("validate checks a target's deviations against the scenarios given with it", async () => {
    const good = await run(courier, 'validate-good', [entry('uidnext-in-select')]);
    const ok = await runCli(['validate', scenarioFile, '--target', good.targetFile]);
    expect(ok.code, describeRun(ok)).toBe(0);
    const typo = await run(courier, 'validate-typo', [entry('uidnext-agian')]);
    const bad = await runCli(['validate', scenarioFile, '--target', typo.targetFile]);
    expect(bad.code, describeRun(bad)).toBe(2);
    expect(bad.stderr).toContain("has no check 'uidnext-agian' (did you mean 'imap/select-uidnext#uidnext-again'?)");
  });

  it('--dry-run refuses a bad entry (exit 2) and prints the warning for a scenario not in this run, connecting nowhere', async () => {
    const before = courier.connections();
    const typo = await run(courier, 'dry-typo', [entry('uidnext-in-selct')]);
    const bad = await runCli(['run', scenarioFile, '--target', typo.targetFile, '--dry-run'], { env: { [PASSWORD_ENV]: 'x-secret-1' } });
    expect(bad.code, describeRun(bad)).toBe(2);
    expect(bad.stderr).toContain("has no check 'uidnext-in-selct'");
    const other = await run(courier, 'dry-other', [{ ...entry('x'), check: 'pop3/rset#nothing' }]);
    const before2 = courier.connections();
    const ok = await runCli(['run', scenarioFile, '--target', other.targetFile, '--dry-run'], { env: { [PASSWORD_ENV]: 'x-secret-1' } });
    expect(ok.code, describeRun(ok)).toBe(0);
    expect(ok.stderr).toMatch(/:16:12: warning: deviation 'pop3\/rset#nothing' names no scenario of this run; it is ignored/);
    expect(courier.connections(), 'a dry run connects nowhere').toBe(before2);
    expect(before2).toBeGreaterThan(before);
  });
});
