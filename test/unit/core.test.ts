import { describe, expect, it } from 'vitest';
import { closest, didYouMean } from '../../src/core/did-you-mean.js';
import { compareDiagnostics, LoadError } from '../../src/core/diagnostics.js';
import { isRunMessage, makeMessageId, messageIdIn, newRunId, RUN_HEADER, runIdIn, runPrefix } from '../../src/core/run-identity.js';
import { formatPos } from '../../src/core/source.js';
import { capabilityName, quoted, truncate } from '../../src/core/text.js';

/** Half of a surrogate pair without its other half: what a cut in the wrong place leaves. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

describe('core: source positions and diagnostics', () => {
  it('writes file:line:col and sorts diagnostics by place', () => {
    expect(formatPos({ file: 'a.yaml', line: 3, col: 7 })).toBe('a.yaml:3:7');
    const later = { pos: { file: 'a.yaml', line: 9, col: 1 }, message: 'later' };
    const first = { pos: { file: 'a.yaml', line: 2, col: 5 }, message: 'first' };
    expect([later, first].sort(compareDiagnostics)).toEqual([first, later]);
    const err = new LoadError('ESCENARIO_INVALID', [later, first]);
    expect(err.message).toBe('a.yaml:2:5: first (and 1 more)');
    expect(err.diagnostics).toEqual([first, later]);
  });

  it('suggests a close name only', () => {
    expect(closest('mgs', ['msg', 'other'])).toBe('msg');
    expect(didYouMean('zzzzzz', ['msg'])).toBe('');
  });
});

describe('core: run identity', () => {
  it('names the run in folders, Message-IDs and the run header', () => {
    const id = newRunId(new Date('2026-01-02T03:04:05.678Z'));
    expect(id).toMatch(/^20260102t030405-[0-9a-f]{6}$/);
    expect(runPrefix(id)).toBe(`mailprobe-${id}`);
    expect(makeMessageId(id)).toMatch(new RegExp(`^<mailprobe\\.${id}\\.[0-9a-f]{12}@mailprobe\\.invalid>$`));
    expect(RUN_HEADER).toBe('X-Mailprobe-Run');
  });

  it('reads the run header and Message-ID from raw header text, case-insensitively', () => {
    const headers = 'Subject: x\r\nx-mailprobe-run:  r1-abc\r\nMESSAGE-ID: <m@mailprobe.invalid>\r\n\r\n';
    expect(runIdIn(headers)).toBe('r1-abc');
    expect(messageIdIn(headers)).toBe('<m@mailprobe.invalid>');
    expect(isRunMessage(headers, 'r1-abc')).toBe(true);
  });

  it('does not take another run, a prefix of the id, or a header named alike for this run', () => {
    expect(isRunMessage('X-Mailprobe-Run: r1-abcdef\r\n', 'r1-abc')).toBe(false);
    expect(isRunMessage('X-Mailprobe-Run: r2\r\n', 'r1')).toBe(false);
    expect(isRunMessage('X-Mailprobe-Run-Copy: r1\r\n', 'r1')).toBe(false);
    expect(isRunMessage('Subject: X-Mailprobe-Run: r1\r\n', 'r1')).toBe(false);
    expect(runIdIn('Subject: none\r\n')).toBeUndefined();
  });

  it('reads a value that starts on a folded line, as composers write a long Message-ID (RFC 5322 §2.2.3)', () => {
    const id = '<mailprobe.20261201t131742-5e91bf.c91323d729e9@mailprobe.invalid>';
    expect(messageIdIn(`Subject: x\r\nMessage-ID:\r\n ${id}\r\n\r\n`)).toBe(id);
    expect(messageIdIn(`Message-ID:\n\t${id}\n`)).toBe(id);
    expect(isRunMessage('X-Mailprobe-Run:\r\n r1-abc\r\n', 'r1-abc')).toBe(true);
    // A line break without the whitespace of a fold ends the field: the next line is another header.
    expect(messageIdIn('Message-ID:\r\nSubject: x\r\n')).toBeUndefined();
  });
});

describe('core: text helpers', () => {
  it('cuts long text with an ellipsis, optionally saying how long it was', () => {
    expect(truncate('short')).toBe('short');
    expect(truncate('x'.repeat(201))).toBe(`${'x'.repeat(200)}…`);
    expect(truncate('abcdef', 3, { showLength: true })).toBe('abc… (6 chars)');
  });

  it('never cuts a surrogate pair in half', () => {
    const cut = truncate(`ab😀cd`, 3);
    expect(cut).toBe('ab…');
    expect(cut).not.toMatch(LONE_SURROGATE);
  });

  it('quotes a cut text as a JSON string, so control characters and quotes show', () => {
    expect(quoted('a"b\r\n')).toBe('"a\\"b\\r\\n"');
    expect(quoted('abcdef', 3)).toBe('"abc…"');
    expect(quoted(`ab😀cd`, 3)).toBe('"ab…"');
  });

  it('names a capability by its first word, upper-cased', () => {
    expect(capabilityName('sasl PLAIN LOGIN')).toBe('SASL');
    expect(capabilityName('STLS')).toBe('STLS');
    expect(capabilityName('auth=plain')).toBe('AUTH=PLAIN');
  });
});
