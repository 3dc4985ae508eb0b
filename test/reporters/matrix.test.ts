import { describe, expect, it } from 'vitest';
import { buildMatrix, rowOrder, type Matrix } from '../../src/reporters/matrix.js';
import {
  escapeMarkdown,
  MATRIX_FORMATS,
  renderMatrix,
  renderMatrixConsole,
  renderMatrixJson,
  renderMatrixMarkdown,
} from '../../src/reporters/matrix-render.js';
import { renderMatrixHtml } from '../../src/reporters/matrix-html.js';
import { CANARY_PASSWORD } from '../support/sample-results.js';
import { HOSTILE_NAME, matrixInputs } from './matrix-fixture.js';

/** A Markdown table row split as GFM splits it: on every `|` not escaped by a backslash. */
function gfmCells(line: string): string[] {
  const cells = line.trim().split(/(?<!\\)\|/);
  return cells.slice(1, -1).map((c) => c.trim());
}

const ROWS = ['pop3/login-user-pass', 'pop3/dele-marks-deleted', 'pop3/only-cyrus', 'pop3/auth/sasl-cram-md5'];

describe('the matrix model', () => {
  const m = buildMatrix(matrixInputs());

  it('has one column per target, in order, with its run, counts and deviations', () => {
    expect(m.columns.map((c) => [c.label, c.targetName, c.host, c.file, c.runId, c.interrupted])).toEqual([
      ['dovecot', 'lab-dovecot', '127.0.0.1', 'targets/lab-dovecot.yaml', 'mp-20240501-000001', false],
      ['cyrus', 'lab-cyrus', '127.0.0.3', 'targets/lab-cyrus.yaml', 'mp-20240501-000002', false],
      ['courier', 'lab-courier', '127.0.0.4', 'targets/lab-courier.yaml', 'mp-20240501-000003', true],
    ]);
    expect(m.columns[0]!.counts).toEqual({ total: 3, passed: 2, failed: 0, errored: 0, skipped: 1, inconclusive: 0 });
    expect(m.columns[1]!.counts).toEqual({ total: 4, passed: 1, failed: 1, errored: 1, skipped: 1, inconclusive: 0 });
    expect(m.columns[2]!.counts).toEqual({ total: 2, passed: 1, failed: 0, errored: 0, skipped: 0, inconclusive: 1 });
    expect(m.columns.map((c) => [c.knownDeviations, c.fixedDeviations])).toEqual([
      [0, 0],
      [3, 0],
      [0, 1],
    ]);
    expect(m.columns[0]!.durationMs).toBe(3200);
    expect(m.columns[1]!.startedAt - m.columns[0]!.startedAt).toBe(60_000);
    expect(m.version).toBe('0.1.0');
  });

  it('has the union of scenarios in plan order: one only the second target ran keeps its place', () => {
    expect(m.rows.map((r) => r.id)).toEqual(ROWS);
    expect(m.rows.map((r) => r.name)[2]).toBe('only in the cyrus run');
  });

  it('gives each cell its verdict, time, deviations and a note that says why', () => {
    const states = m.rows.map((r) => r.cells.map((c) => c.state));
    expect(states).toEqual([
      ['passed', 'passed', 'passed'],
      ['passed', 'failed', 'not-run'],
      ['not-run', 'skipped', 'not-run'],
      ['skipped', 'errored', 'inconclusive'],
    ]);
    const [login, dele, only, cram] = m.rows.map((r) => r.cells);
    // A plain pass has no note; the pass with known deviations stays passed and says so, with the clause.
    expect(login![0]).toEqual({ state: 'passed', durationMs: 14, deviations: { known: 0, fixed: 0 } });
    expect(login![1]).toEqual({ state: 'passed', durationMs: 14, note: '3 known deviations (RFC 3501 §6.3.1)', deviations: { known: 3, fixed: 0 } });
    expect(login![2]).toEqual({ state: 'passed', durationMs: 14, note: '1 deviation fixed (RFC 9051 §6.3.2)', deviations: { known: 0, fixed: 1 } });
    // The failed check by its id within the row, its clause without the quotation, and the other failed check counted.
    expect(dele![1]).toEqual({
      state: 'failed',
      durationMs: 41,
      note: 'retr-refused (RFC 1939 §6 DELE) and 1 more failed check',
      deviations: { known: 0, fixed: 0 },
    });
    expect(dele![0]!.durationMs).toBe(2500);
    // Not in the run: why, and no time.
    expect(dele![2]).toEqual({ state: 'not-run', note: 'the run was interrupted first', deviations: { known: 0, fixed: 0 } });
    expect(only![0]).toEqual({ state: 'not-run', note: "not in this target's run", deviations: { known: 0, fixed: 0 } });
    expect(only![1]!.note).toBe('requires account bob, which the target does not define');
    expect(cram![0]!.note).toBe('requires capability SASL CRAM-MD5; the server offers SASL PLAIN LOGIN');
    // The error's code and message, already redacted by the caller; one line.
    expect(cram![1]!.note).toMatch(/^ETLS: TLS handshake with pop3:\/\/alice:\[redacted\]@mail\.example\.test:40110 failed/);
    expect(cram![2]!.note).toBe('server said -ERR [IN-USE]: maildrop locked by another session; try again later');
  });

  it('escapes control and bidi characters in notes, and keeps them on one line', () => {
    const hostile = buildMatrix(matrixInputs({ hostile: true }));
    const note = hostile.rows[2]!.cells[1]!.note!;
    expect(note).toBe('requires <b>x</b> | y\\u202e');
  });

  it('orders rows by first sight, each new id after the one it follows in its own run', () => {
    expect(
      rowOrder([
        ['a', 'c'],
        ['a', 'b', 'c', 'd'],
        ['z', 'c', 'e'],
      ]),
    ).toEqual(['z', 'a', 'b', 'c', 'e', 'd']);
    expect(rowOrder([])).toEqual([]);
    expect(buildMatrix([])).toEqual({ columns: [], rows: [], version: '' });
  });
});

describe('the console matrix', () => {
  const m = buildMatrix(matrixInputs());

  it('is a table: scenario id first, a column per target, word and symbol in every cell, a summary per column', () => {
    const text = renderMatrixConsole(m, { color: false, width: 500 });
    const lines = text.split('\n');
    expect(lines).toContain('matrix: 4 scenarios × 3 targets (mailprobe 0.1.0)');
    const header = lines.find((l) => l.startsWith('scenario'))!;
    expect(header).toMatch(/^scenario {2,}dovecot {2,}cyrus {2,}courier$/);
    const row = (id: string) => lines.find((l) => l.startsWith(`${id} `))!;
    expect(row('pop3/login-user-pass')).toMatch(
      /^pop3\/login-user-pass {2,}✓ passed 14ms {2,}✓ passed, 3 known deviations \(RFC 3501 §6\.3\.1\) 14ms {2,}✓ passed, 1 deviation fixed \(RFC 9051 §6\.3\.2\) 14ms$/,
    );
    expect(row('pop3/dele-marks-deleted')).toMatch(
      /✓ passed 2\.50s {2,}✗ failed: retr-refused \(RFC 1939 §6 DELE\) and 1 more failed check 41ms {2,}– not run: the run was interrupted first$/,
    );
    expect(row('pop3/only-cyrus')).toMatch(
      /^pop3\/only-cyrus {2,}– not run: not in this target's run {2,}↓ skipped: requires account bob, which the target does not define 6ms {2,}– not run: the run was interrupted first$/,
    );
    expect(row('pop3/auth/sasl-cram-md5')).toMatch(
      /↓ skipped: requires capability SASL CRAM-MD5.* ! errored: ETLS: .* \? inconclusive: server said -ERR \[IN-USE\]/,
    );
    // Columns line up: each target's column starts at the same place on every row.
    const starts = (l: string) => [l.indexOf('cyrus'), l.indexOf('courier')];
    const cyrusAt = header.indexOf('cyrus');
    for (const id of ROWS) expect([...row(id)].slice(cyrusAt - 2, cyrusAt).join(''), id).toBe('  ');
    expect(starts(header)[0]).toBeGreaterThan(0);
    expect(lines).toContain(
      'cyrus: 1 passed, 1 failed, 1 errored, 1 skipped, 0 inconclusive (4 scenarios) in 1.79s, 3 known deviations; run mp-20240501-000002, target lab-cyrus (127.0.0.3)',
    );
    expect(lines.find((l) => l.startsWith('courier: '))).toContain('1 deviation fixed, interrupted, results are partial; run mp-20240501-000003');
    expect(text).not.toContain('\u001b');
  });

  it('fits the table into the width, cutting notes with … but never the verdict or the time', () => {
    const text = renderMatrixConsole(m, { color: false, width: 100 });
    const table = text.split('\n').filter((l) => ROWS.some((id) => l.startsWith(`${id} `)) || l.startsWith('scenario'));
    expect(table).toHaveLength(5);
    for (const line of table) expect([...line].length, line).toBeLessThanOrEqual(100);
    const login = table.find((l) => l.startsWith('pop3/login-user-pass'))!;
    expect(login).toMatch(/✓ passed, 3 know\S*… 14ms/);
    const dele = table.find((l) => l.startsWith('pop3/dele-marks-deleted'))!;
    expect(dele).toMatch(/✗ failed: \S[^…]*… 41ms/);
    // The default width is 100.
    expect(renderMatrixConsole(m, { color: false })).toBe(text);
  });

  it('keeps every verdict, symbol and time whole however narrow the terminal', () => {
    const text = renderMatrixConsole(m, { color: false, width: 20 });
    const row = (id: string) => text.split('\n').find((l) => l.startsWith(`${id} `))!;
    expect(row('pop3/login-user-pass')).toMatch(/ ✓ passed 14ms +✓ passed,[^…]*… 14ms +✓ passed,[^…]*… 14ms$/);
    expect(row('pop3/auth/sasl-cram-md5')).toMatch(/ ↓ skipped[^…]*… 6ms +! errored[^…]*… 126ms +\? inconclusive[^…]*… 1\.50s$/);
  });

  it('colours the verdict when asked, beside its word and symbol', () => {
    const text = renderMatrixConsole(m, { color: true, width: 200 });
    expect(text).toContain('\u001b[32m✓ passed\u001b[39m');
    expect(text).toContain('\u001b[31m✗ failed\u001b[39m: retr-refused');
    // The same table under the colour codes.
    expect(text.replace(/\u001b\[\d+m/g, '')).toBe(renderMatrixConsole(m, { color: false, width: 200 }));
  });

  it('escapes control and bidi characters from names and labels', () => {
    const text = renderMatrixConsole(buildMatrix(matrixInputs({ hostile: true })), { color: false, width: 300 });
    expect(text).not.toMatch(/[\u202e\u0007]/);
    expect(text).toContain('requires <b>x</b> | y\\u202e');
  });
});

describe('the Markdown matrix', () => {
  const m = buildMatrix(matrixInputs());
  const md = renderMatrixMarkdown(m);
  const lines = md.split('\n');

  it('is a GitHub table: header, separator, one row per scenario, each with a cell per target', () => {
    expect(lines[0]).toBe('| scenario | dovecot | cyrus | courier |');
    expect(lines[1]).toBe('| --- | --- | --- | --- |');
    expect(lines.slice(2, 6).map((l) => gfmCells(l).length)).toEqual([4, 4, 4, 4]);
    expect(lines[6]).toBe('');
    expect(gfmCells(lines[2]!)).toEqual([
      '`pop3/login-user-pass` USER/PASS login reaches TRANSACTION state',
      '✓ passed · 14ms',
      '✓ passed, 3 known deviations (RFC 3501 §6.3.1) · 14ms',
      '✓ passed, 1 deviation fixed (RFC 9051 §6.3.2) · 14ms',
    ]);
    expect(gfmCells(lines[3]!).slice(1)).toEqual([
      '✓ passed · 2.50s',
      '✗ failed: retr-refused (RFC 1939 §6 DELE) and 1 more failed check · 41ms',
      '– not run: the run was interrupted first',
    ]);
    expect(gfmCells(lines[5]!)[1]).toBe('↓ skipped: requires capability SASL CRAM-MD5; the server offers SASL PLAIN LOGIN · 6ms');
  });

  it('ends with a legend and each column run id', () => {
    expect(md).toContain('✗ failed · ! errored · ? inconclusive · ↓ skipped · ✓ passed · – not run.');
    expect(md).toContain('failed: the server broke the promise');
    expect(md).toContain(
      '- cyrus: 1 passed, 1 failed, 1 errored, 1 skipped, 0 inconclusive (4 scenarios) in 1.79s, 3 known deviations; run mp-20240501-000002',
    );
    expect(md).toContain('- courier: ');
    // No local path of a target file: the table lands in READMEs and tickets.
    expect(md).not.toContain('targets/lab-');
    expect(md.endsWith('\n')).toBe(true);
  });

  it('escapes hostile names, labels and reasons: the table keeps its shape and no markup gets through', () => {
    const hostile = renderMatrixMarkdown(buildMatrix(matrixInputs({ hostile: true })));
    const rows = hostile.split('\n');
    // Still a header, a separator and four rows: the newline in the name did not end the row.
    expect(rows.slice(0, 6).every((l) => l.startsWith('| ') && l.endsWith(' |'))).toBe(true);
    expect(rows[6]).toBe('');
    expect(rows.slice(0, 6).map((l) => gfmCells(l).length)).toEqual([4, 4, 4, 4, 4, 4]);
    expect(gfmCells(rows[0]!)[1]).toBe('cy\\|rus \\<i\\>');
    expect(gfmCells(rows[2]!)[0]).toBe(
      '`pop3/login-user-pass` evil \\| name \\<script\\>alert(1)\\</script\\> \\`tick\\` \\\\ back \\\\u202eslash\\\\nsecond line',
    );
    expect(gfmCells(rows[4]!)[2]).toBe('↓ skipped: requires \\<b\\>x\\</b\\> \\| y\\\\u202e · 6ms');
    expect(hostile).not.toMatch(/(?<!\\)<(script|b|i)\b/);
    expect(hostile).not.toContain('\u202e');
    expect(hostile).not.toContain(HOSTILE_NAME);
  });

  it('writes an id as code only when it is made of plain characters; any other is escaped text', () => {
    const [input] = matrixInputs();
    const run = { ...input!.run, scenarios: [{ ...input!.run.scenarios[0]!, id: 'pop3/x`|y' }] };
    const row = renderMatrixMarkdown(buildMatrix([{ label: 'a', run }])).split('\n')[2]!;
    expect(gfmCells(row)[0]).toBe('pop3/x\\`\\|y USER/PASS login reaches TRANSACTION state');
    expect(gfmCells(row)).toHaveLength(2);
  });

  it('escapes every character that means something in GFM text, and writes plain ids as code', () => {
    expect(escapeMarkdown('a|b\\c`d*e_f[g](h)<i>~&')).toBe('a\\|b\\\\c\\`d\\*e\\_f\\[g\\](h)\\<i\\>\\~\\&');
    expect(escapeMarkdown('![x](http://t.example/p.png)')).toBe('!\\[x\\](http://t.example/p.png)');
    expect(escapeMarkdown('one\r\ntwo\u0007\u2066')).toBe('one\\\\r\\\\ntwo\\\\x07\\\\u2066');
  });
});

describe('the JSON matrix', () => {
  const m = buildMatrix(matrixInputs());

  it('round-trips every field of the model, with numbers as numbers and the schema named', () => {
    const doc = JSON.parse(renderMatrixJson(m)) as { schema: string } & Matrix;
    expect(doc.schema).toBe('mailprobe-matrix/1');
    const { schema: _schema, ...rest } = doc;
    expect(rest).toEqual(JSON.parse(JSON.stringify(m)));
    expect(typeof doc.columns[0]!.startedAt).toBe('number');
    expect(typeof doc.columns[0]!.durationMs).toBe('number');
    expect(doc.columns[1]!.counts).toEqual({ total: 4, passed: 1, failed: 1, errored: 1, skipped: 1, inconclusive: 0 });
    expect(doc.columns[1]!.knownDeviations).toBe(3);
    expect(doc.rows[0]!.cells[1]).toEqual({
      state: 'passed',
      durationMs: 14,
      note: '3 known deviations (RFC 3501 §6.3.1)',
      deviations: { known: 3, fixed: 0 },
    });
    expect(doc.rows[1]!.cells[2]).toEqual({ state: 'not-run', note: 'the run was interrupted first', deviations: { known: 0, fixed: 0 } });
  });

  it('writes bidi characters as escapes, so the file cannot reorder a terminal', () => {
    const text = renderMatrixJson(buildMatrix(matrixInputs({ hostile: true })));
    expect(text).not.toContain('\u202e');
    expect(text).toContain('\\u202e');
    expect((JSON.parse(text) as Matrix).rows[0]!.name).toBe(HOSTILE_NAME);
  });
});

describe('renderMatrix', () => {
  it('maps each --reporter matrix format to its renderer', () => {
    const m = buildMatrix(matrixInputs());
    for (const format of MATRIX_FORMATS) expect(renderMatrix(format, m)).not.toContain(CANARY_PASSWORD);
    expect(MATRIX_FORMATS).toEqual(['matrix-md', 'matrix-html', 'matrix-json']);
    expect(renderMatrix('matrix-md', m)).toBe(renderMatrixMarkdown(m));
    expect(renderMatrix('matrix-json', m)).toBe(renderMatrixJson(m));
    expect(renderMatrix('matrix-html', m)).toBe(renderMatrixHtml(m));
  });
});
