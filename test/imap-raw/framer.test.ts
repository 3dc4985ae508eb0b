import { describe, expect, it } from 'vitest';
import { ResponseFramer, type FramedResponse } from '../../src/protocols/imap/raw/framer.js';
import { parseResponse } from '../../src/protocols/imap/raw/response.js';
import { astring, wireLines } from '../../src/protocols/imap/raw/encode.js';
import { ImapRawProtocolError } from '../../src/protocols/imap/raw/errors.js';
import { TransportError } from '../../src/transport/errors.js';
import { LineReader } from '../../src/transport/line-reader.js';

// Literal content with every awkward case: CRLF inside, a bare LF, a bare CR,
// a CR as the very last octet (so the literal ends between CR and LF of what
// looks like a CRLF), 8-bit octets, and text that looks like a literal marker.
const BODY = Buffer.concat([Buffer.from('Subject: x\r\n\r\nline {3}\r\nbare\nlf and bare\rcr '), Buffer.from([0xe9, 0xff, 0x00]), Buffer.from('\r')]);
const BIN = Buffer.from([0x00, 0x0a, 0x0d, 0x0a, 0x7b, 0x31, 0x7d]);
const STREAM = Buffer.concat([
  Buffer.from(`* 1 FETCH (UID 7 BODY[] {${BODY.length}}\r\n`),
  BODY,
  Buffer.from(` BINARY[1] ~{${BIN.length}}\r\n`),
  BIN,
  Buffer.from(' X-EMPTY {0}\r\n)\r\n'),
  Buffer.from('* 3 EXISTS\r\n* 2 EXPUNGE\r\n'),
  Buffer.from('* LIST () "/" {5}\r\nINBOX\r\n'),
  // A literal that ends exactly at a line end (the rest is the next line), and one ending in CR.
  Buffer.from('* 4 FETCH (A {3}\r\nx\r\n B {3}\r\nab\r)\r\n'),
  Buffer.from('A001 NO [TRYCREATE] No such mailbox\r\n'),
]);

function frame(chunks: Buffer[], maxLiteralBytes = 1 << 20): { responses: FramedResponse[]; log: string[] } {
  const log: string[] = [];
  const framer = new ResponseFramer({
    log: (text) => log.push(text),
    checkLiteral: (size) => {
      if (Number(size) > maxLiteralBytes) throw new TransportError('ELIMIT', 'command', `literal ${size}`);
    },
  });
  const reader = new LineReader(1 << 16, (n) => new TransportError('ELIMIT', 'command', `line ${n}`));
  const responses: FramedResponse[] = [];
  for (const chunk of chunks) {
    reader.push(chunk, (line) => {
      const done = framer.push(line);
      if (done !== undefined) responses.push(done);
    });
  }
  expect(framer.midResponse).toBe(false);
  return { responses, log };
}

function checkFraming(responses: FramedResponse[]): void {
  expect(responses.map((r) => r.text)).toEqual([
    `* 1 FETCH (UID 7 BODY[] {${BODY.length}} BINARY[1] ~{${BIN.length}} X-EMPTY {0})`,
    '* 3 EXISTS',
    '* 2 EXPUNGE',
    '* LIST () "/" {5}',
    '* 4 FETCH (A {3} B {3})',
    'A001 NO [TRYCREATE] No such mailbox',
  ]);
  expect(responses[0]?.literals).toEqual([BODY, BIN, Buffer.alloc(0)]);
  expect(responses[3]?.literals).toEqual([Buffer.from('INBOX')]);
  expect(responses[4]?.literals).toEqual([Buffer.from('x\r\n'), Buffer.from('ab\r')]);
  expect(responses.reduce((n, r) => n + r.octets, 0)).toBe(STREAM.length);
}

describe('ResponseFramer', () => {
  it('frames literals whatever the read boundaries: one read, every two-way cut, one byte per read', () => {
    checkFraming(frame([STREAM]).responses);
    for (let cut = 1; cut < STREAM.length; cut++) {
      checkFraming(frame([STREAM.subarray(0, cut), STREAM.subarray(cut)]).responses);
    }
    checkFraming(frame([...STREAM].map((b) => Buffer.from([b]))).responses);
  });

  it('logs literal content as an octet count only', () => {
    const { log } = frame([STREAM]);
    expect(log).toContain(`[literal: ${BODY.length} octets]`);
    expect(log).toContain('[literal: 0 octets]');
    expect(log.join('\n')).not.toContain('Subject: x');
    expect(log[0]).toBe(`* 1 FETCH (UID 7 BODY[] {${BODY.length}}`);
  });

  it('rejects an announced literal over the limit before buffering it', () => {
    expect(() => frame([Buffer.from('* 1 FETCH (BODY[] {999}\r\n')], 100)).toThrow(/literal 999/);
  });

  it('parses untagged numbers, kinds, codes and tagged statuses', () => {
    const [fetch, exists, expunge, list, , tagged] = frame([STREAM]).responses.map((r) => parseResponse(r));
    expect(fetch).toMatchObject({ type: 'untagged', response: { kind: 'FETCH', number: 1 } });
    expect(exists).toMatchObject({ type: 'untagged', response: { kind: 'EXISTS', number: 3 } });
    expect(expunge).toMatchObject({ type: 'untagged', response: { kind: 'EXPUNGE', number: 2 } });
    expect(list).toMatchObject({ type: 'untagged', response: { kind: 'LIST' } });
    expect(tagged).toEqual({
      type: 'tagged',
      tag: 'A001',
      status: 'NO',
      code: 'TRYCREATE',
      text: 'No such mailbox',
      raw: 'A001 NO [TRYCREATE] No such mailbox',
    });
    const ok = parseResponse({ text: '* ok [PERMANENTFLAGS (\\Deleted \\*)] Limited', literals: [], octets: 0 });
    expect(ok).toMatchObject({ type: 'untagged', response: { kind: 'OK', code: 'PERMANENTFLAGS (\\Deleted \\*)', text: 'Limited' } });
    expect(parseResponse({ text: '+ idling', literals: [], octets: 0 })).toMatchObject({ type: 'continuation', text: 'idling' });
    for (const bad of ['', '*', '* ', 'A001 MAYBE fine', '* 3', 'A001']) {
      expect(() => parseResponse({ text: bad, literals: [], octets: 0 }), bad).toThrow(ImapRawProtocolError);
    }
  });
});

describe('command encoding', () => {
  it('quotes astrings only when needed and refuses what quoting cannot carry', () => {
    expect(astring('INBOX')).toBe('INBOX');
    expect(astring('my folder')).toBe('"my folder"');
    expect(astring('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(astring('Entwürfe')).toBeUndefined();
  });

  it('splits literal octets into CRLF-separated lines and refuses what a line write would alter', () => {
    expect(wireLines(Buffer.from('a\r\nb\r\n)'), 'APPEND')).toEqual(['a', 'b', ')']);
    expect(() => wireLines(Buffer.from('a\nb'), 'APPEND')).toThrow(/bare CR or LF/);
    expect(() => wireLines(Buffer.from([0x41, 0xe9]), 'APPEND')).toThrow(/not valid UTF-8/);
  });
});
