import { describe, expect, it } from 'vitest';
import { TransportError } from '../../src/transport/errors.js';
import { LineReader, type Line } from '../../src/transport/line-reader.js';

const overflow = (n: number) => new TransportError('ELIMIT', 'command', `line of ${n}`);

function parse(chunks: Buffer[], max = 1000): Line[] {
  const reader = new LineReader(max, overflow);
  const lines: Line[] = [];
  for (const chunk of chunks) reader.push(chunk, (l) => lines.push(l));
  return lines;
}

const render = (lines: Line[]) => lines.map((l) => `${l.bytes.toString('latin1')}|${l.ending}`);

describe('LineReader', () => {
  const reply = Buffer.concat([
    Buffer.from('+OK 42 octets\r\nSubject: x\r\n..dotted\r\n..\r\n'),
    Buffer.from([0xff, 0xfe, 0x0d, 0x41, 0x0d, 0x0a]), // non-UTF-8 bytes and a lone CR inside the line
    Buffer.from('\r\n.\r\n'),
  ]);

  it('gives the same lines whatever the split point, including inside CRLF and the terminator', () => {
    const whole = render(parse([reply]));
    expect(whole).toEqual([
      '+OK 42 octets|crlf',
      'Subject: x|crlf',
      '..dotted|crlf',
      '..|crlf',
      `${Buffer.from([0xff, 0xfe, 0x0d, 0x41]).toString('latin1')}|crlf`,
      '|crlf',
      '.|crlf',
    ]);
    for (let i = 0; i <= reply.length; i++) {
      expect(render(parse([reply.subarray(0, i), reply.subarray(i)])), `split at ${i}`).toEqual(whole);
    }
    const bytewise = [...reply].map((b) => Buffer.from([b]));
    expect(render(parse(bytewise))).toEqual(whole);
  });

  it('keeps raw bytes', () => {
    const lines = parse([Buffer.from([0x80, 0x00, 0xc3, 0x0d, 0x0a])]);
    expect(lines[0]?.bytes).toEqual(Buffer.from([0x80, 0x00, 0xc3]));
  });

  it('accepts bare LF but counts it', () => {
    const reader = new LineReader(100, overflow);
    const lines: Line[] = [];
    reader.push(Buffer.from('a\nb\r\nc\n'), (l) => lines.push(l));
    expect(render(lines)).toEqual(['a|lf', 'b|crlf', 'c|lf']);
    expect(reader.bareLineFeeds).toBe(2);
  });

  it('throws ELIMIT on a complete line over the limit, after delivering the lines before it', () => {
    const reader = new LineReader(5, overflow);
    const lines: Line[] = [];
    expect(() => reader.push(Buffer.from('12345\r\n123456\r\n'), (l) => lines.push(l))).toThrow(expect.objectContaining({ code: 'ELIMIT' }));
    expect(render(lines)).toEqual(['12345|crlf']);
  });

  it('throws ELIMIT on an unterminated line growing past the limit', () => {
    const reader = new LineReader(5, overflow);
    reader.push(Buffer.from('12345\r'), () => undefined); // still fits: the CR may start a CRLF
    expect(reader.bufferedBytes).toBe(6);
    expect(() => reader.push(Buffer.from('6'), () => undefined)).toThrow(expect.objectContaining({ code: 'ELIMIT' }));
  });
});
