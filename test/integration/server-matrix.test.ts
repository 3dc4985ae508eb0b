import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { readLabEnv } from '../../src/lab/index.js';
import { runCli, REPO_ROOT } from '../support/cli.js';
import { LineClient, isRoot } from '../lab/line-client.js';

/**
 * The cross-server matrix: the shipped suites against the lab's Dovecot, Cyrus
 * and Courier in one `mailprobe run --servers dovecot,cyrus,courier`, with the
 * verdict of every scenario on every server asserted. The three servers are
 * started once, by the global setup (in CI, or with MAILPROBE_LAB_SERVERS).
 *
 * Every cell that is not a plain pass has its reason and, where it is the
 * server's, its wire evidence:
 * - Cyrus, smtp/utf8-address, failed: Postfix advertises SMTPUTF8 on Cyrus's
 *   submission port and takes the message (250 after DATA), but Cyrus 3.6's
 *   lmtpd does not offer SMTPUTF8, so Postfix bounces it (5.6.7 "SMTPUTF8 is
 *   required, but was not offered") and it never reaches the mailbox. It is no
 *   known deviation, on purpose: each part does what RFC 6531 asks (Postfix
 *   cannot pass the message on and returns it with X.6.7), and what fails is
 *   the host's promise, a host that advertises SMTPUTF8 on submission and then
 *   cannot deliver such mail to its own mailboxes. Evidence below.
 * - Courier, imap/uid-stability, passed with three known deviations, which
 *   target-courier.yaml lists: Courier's SELECT sends no [UIDNEXT] (RFC 3501
 *   §6.3.1 lists UIDNEXT among the REQUIRED OK untagged responses). Evidence in
 *   test/lab/courier.test.ts.
 * - Courier, imap/draft-sync, skipped: a new Courier account has no Drafts
 *   mailbox and Courier has no SPECIAL-USE, whose attributes RFC 6154 calls
 *   optional. Courier, imap/condstore-modseq, skipped: no CONDSTORE. Evidence in
 *   test/lab/courier.test.ts ("keeps Courier's defaults").
 */
const SERVERS = ['dovecot', 'cyrus', 'courier'] as const;
type Row = readonly [dovecot: string, cyrus: string, courier: string];
const EXPECTED: Record<string, Row> = {
  'imap/condstore-modseq': ['passed', 'passed', 'skipped'],
  'imap/draft-sync': ['passed', 'passed', 'skipped'],
  'imap/expunge-sync': ['passed', 'passed', 'passed'],
  'imap/flag-sync': ['passed', 'passed', 'passed'],
  'imap/folder-sync': ['passed', 'passed', 'passed'],
  'imap/idle-push': ['passed', 'passed', 'passed'],
  'imap/move-announced': ['passed', 'passed', 'passed'],
  'imap/noop-reports-changes': ['passed', 'passed', 'passed'],
  'imap/peek-is-read-only': ['passed', 'passed', 'passed'],
  'imap/starttls': ['passed', 'passed', 'passed'],
  'imap/uid-stability': ['passed', 'passed', 'passed'],
  'pop3/commit-at-quit': ['passed', 'passed', 'passed'],
  'pop3/deleted-is-refused': ['passed', 'passed', 'passed'],
  'pop3/dot-stuffing': ['passed', 'passed', 'passed'],
  'pop3/retrieve-then-delete': ['passed', 'passed', 'passed'],
  'pop3/rset': ['passed', 'passed', 'passed'],
  'pop3/sizes-agree': ['passed', 'passed', 'passed'],
  'pop3/stls': ['passed', 'passed', 'passed'],
  'pop3/uidl-stable': ['passed', 'passed', 'passed'],
  'smtp/eight-bit-body': ['passed', 'passed', 'passed'],
  'smtp/end-to-end-delivery': ['passed', 'passed', 'passed'],
  'smtp/no-open-relay': ['passed', 'passed', 'passed'],
  'smtp/pipelining': ['passed', 'passed', 'passed'],
  'smtp/size-limit': ['passed', 'passed', 'passed'],
  'smtp/submission-requires-auth': ['passed', 'passed', 'passed'],
  'smtp/submission': ['passed', 'passed', 'passed'],
  'smtp/submissions': ['passed', 'passed', 'passed'],
  'smtp/unknown-recipient': ['passed', 'passed', 'passed'],
  'smtp/utf8-address': ['passed', 'failed', 'passed'],
};
/** The only deviations: the ones target-courier.yaml lists, all known (none fixed), on one scenario. */
const EXPECTED_DEVIATIONS: Record<string, Row> = { 'imap/uid-stability': ['0', '0', '3 known'] };

interface MatrixJson {
  schema: string;
  columns: Array<{ label: string; host: string; runId: string; counts: Record<string, number> }>;
  rows: Array<{ id: string; cells: Array<{ state: string; durationMs?: number; note?: string; deviations: { known: number; fixed: number } }> }>;
}

const lab = inject('lab');
const haveAll = SERVERS.every((name) => lab.servers.some((s) => s.name === name));

describe.skipIf(!isRoot || !haveAll)('the cross-server matrix: shipped suites on Dovecot, Cyrus and Courier (run --servers)', () => {
  let out = '';
  let res: Awaited<ReturnType<typeof runCli>>;
  let matrix: MatrixJson;
  let passwords: string[] = [];

  beforeAll(async () => {
    out = await mkdtemp('/tmp/mailprobe-matrix-');
    passwords = Object.values(await readLabEnv(lab.envFile));
    const started = Date.now();
    res = await runCli(
      [
        'run',
        '--servers',
        SERVERS.join(','),
        '--reporter',
        `matrix-json=${join(out, 'matrix.json')}`,
        '--reporter',
        `matrix-md=${join(out, 'matrix.md')}`,
        '--reporter',
        `matrix-html=${join(out, 'matrix.html')}`,
        '--reporter',
        `junit=${join(out, 'junit.xml')}`,
        '--reporter',
        `json=${join(out, 'run.json')}`,
      ],
      { env: { MAILPROBE_LAB_DIR: lab.stateDir } },
    );
    process.stderr.write(`[matrix] shipped suites on ${SERVERS.join(', ')} took ${Date.now() - started} ms\n`);
    matrix = JSON.parse(await readFile(join(out, 'matrix.json'), 'utf8')) as MatrixJson;
  }, 600_000);

  afterAll(async () => {
    if (out) await rm(out, { recursive: true, force: true });
  });

  it('gives every scenario its expected verdict on every server, and fails the run for the one failure', () => {
    expect(matrix.columns.map((c) => c.label)).toEqual([...SERVERS]);
    // Each server on its own loopback address, as the target files say.
    expect(matrix.columns.map((c) => c.host)).toEqual(['127.0.0.1', '127.0.0.3', '127.0.0.4']);
    const verdicts = Object.fromEntries(matrix.rows.map((r) => [r.id, r.cells.map((c) => c.state)]));
    expect(verdicts, res.stderr).toEqual(EXPECTED);
    // A failed scenario on one server fails the whole run (exit 1).
    expect(res.code, res.stderr).toBe(1);
    // Each column ran under its own run id.
    expect(new Set(matrix.columns.map((c) => c.runId)).size).toBe(3);
  });

  it('lists deviations only where a profile names them, and names the failed check and its clause', () => {
    const deviations = Object.fromEntries(
      matrix.rows
        .filter((r) => r.cells.some((c) => c.deviations.known + c.deviations.fixed > 0))
        .map((r) => [r.id, r.cells.map((c) => (c.deviations.known + c.deviations.fixed === 0 ? '0' : `${c.deviations.known} known`))]),
    );
    expect(deviations).toEqual(EXPECTED_DEVIATIONS);
    const uid = matrix.rows.find((r) => r.id === 'imap/uid-stability')?.cells[2];
    expect(uid?.note).toMatch(/3 known deviations \(RFC 3501 §6\.3\.1/);
    const utf8 = matrix.rows.find((r) => r.id === 'smtp/utf8-address')?.cells[1];
    expect(utf8?.note).toMatch(/utf8-message-arrives/);
    const drafts = matrix.rows.find((r) => r.id === 'imap/draft-sync')?.cells[2];
    expect(drafts?.note).toMatch(/Drafts/);
  });

  it('writes per-server JUnit and JSON that agree with the matrix, and the console, Markdown and HTML matrix', async () => {
    const files = (await readdir(out)).sort();
    for (const name of SERVERS) {
      expect(files).toContain(`junit-${name}.xml`);
      expect(files).toContain(`run-${name}.json`);
      const json = JSON.parse(await readFile(join(out, `run-${name}.json`), 'utf8')) as { runId: string; scenarios: Array<{ id: string; state: string }> };
      const column = SERVERS.indexOf(name);
      expect(Object.fromEntries(json.scenarios.map((s) => [s.id, s.state]))).toEqual(
        Object.fromEntries(Object.entries(EXPECTED).map(([id, row]) => [id, row[column]])),
      );
      expect(json.runId).toBe(matrix.columns[column]?.runId);
      const junit = await readFile(join(out, `junit-${name}.xml`), 'utf8');
      expect(junit.match(/<testcase /g)?.length).toBe(Object.keys(EXPECTED).length);
      expect(junit.match(/<failure /g)?.length ?? 0).toBe(Object.values(EXPECTED).filter((row) => row[column] === 'failed').length);
    }
    // The console ends with the matrix: a header naming the three servers, and a row per scenario.
    const tail = res.stderr.slice(res.stderr.lastIndexOf('imap/condstore-modseq') - 2000);
    expect(tail).toMatch(/dovecot.*cyrus.*courier/);
    const md = await readFile(join(out, 'matrix.md'), 'utf8');
    for (const id of Object.keys(EXPECTED)) expect(md).toContain(id);
    expect(md).toMatch(/\| *scenario *\| *dovecot *\| *cyrus *\| *courier *\|/);
    const html = await readFile(join(out, 'matrix.html'), 'utf8');
    // The page's policy forbids every request (the attribute's quotes are escaped as &#39;).
    expect(html).toMatch(/content="default-src (&#39;|')none\1;/);
    for (const id of Object.keys(EXPECTED)) expect(html).toContain(id);
    for (const file of files) for (const pw of passwords) expect(await readFile(join(out, file), 'utf8'), file).not.toContain(pw);
    for (const pw of passwords) expect(res.stderr + res.stdout).not.toContain(pw);
  });

  it('the README shows this matrix', async () => {
    const readme = await readFile(join(REPO_ROOT, 'README.md'), 'utf8');
    const block = readme.slice(readme.indexOf('<!-- matrix:begin -->'), readme.indexOf('<!-- matrix:end -->'));
    expect(block.length).toBeGreaterThan(100);
    for (const [id, row] of Object.entries(EXPECTED)) {
      const line = block.split('\n').find((l) => l.includes(`| ${id} `) || l.includes(`| \`${id}\``));
      expect(line, id).toBeDefined();
      const cells = (line as string).split('|').slice(2, 5);
      expect(
        cells.map((c) => /passed|failed|errored|skipped|inconclusive/.exec(c)?.[0]),
        id,
      ).toEqual([...row]);
    }
  });

  it("has the evidence of Cyrus's one failure: Postfix bounced the message because Cyrus's LMTP does not offer SMTPUTF8", async () => {
    const cyrus = lab.servers.find((s) => s.name === 'cyrus');
    if (cyrus === undefined) throw new Error('no cyrus in the lab');
    const postfixLog = await readFile(join(lab.stateDir, 'log', 'postfix.log'), 'utf8');
    expect(postfixLog).toMatch(/dsn=5\.6\.7, status=bounced \(SMTPUTF8 is required, but was not offered by host 127\.0\.0\.3/);
    const at = (name: string) => ({ host: cyrus.hosts[name] as string, port: cyrus.ports[name] as number });
    const lmtp = await LineClient.open(at('lmtp'), null);
    await lmtp.smtpReply();
    lmtp.send('LHLO client.lab.test');
    const lhlo = (await lmtp.smtpReply()).join('\n');
    lmtp.close();
    expect(lhlo).toMatch(/^250-8BITMIME$/m);
    expect(lhlo).not.toMatch(/SMTPUTF8/);
    const sub = await LineClient.open(at('submission'), null);
    await sub.smtpReply();
    sub.send('EHLO client.lab.test');
    const ehlo = (await sub.smtpReply()).join('\n');
    sub.close();
    expect(ehlo).toMatch(/^250[- ]SMTPUTF8$/m);
  });
});
