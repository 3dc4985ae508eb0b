import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseMessageSize } from '../../src/core/message-size.js';
import { DataFramer, frameMessageData } from '../../src/protocols/smtp/data.js';
import { generateMessage } from '../../src/protocols/smtp/generated-message.js';

describe('parseMessageSize', () => {
  it('reads plain octets and the decimal and binary units', () => {
    expect(parseMessageSize(1048576)).toBe(1048576);
    expect(parseMessageSize('1048576')).toBe(1048576);
    expect(parseMessageSize('512B')).toBe(512);
    expect(parseMessageSize('512KB')).toBe(512_000);
    expect(parseMessageSize('25MB')).toBe(25_000_000);
    expect(parseMessageSize('25 mb')).toBe(25_000_000);
    expect(parseMessageSize('1MiB')).toBe(1_048_576);
    expect(parseMessageSize('64KiB')).toBe(65_536);
    expect(parseMessageSize('1.5MB')).toBe(1_500_000);
  });

  it('refuses what is not a whole, positive number of octets in an allowed form', () => {
    for (const bad of ['', 'MB', '25GB', '25 M', '-1', '0', '1.5B', '0.0001KB', '25MBs', 'ten', '1e6']) expect(parseMessageSize(bad), bad).toBeUndefined();
    expect(parseMessageSize(0)).toBeUndefined();
    expect(parseMessageSize(1.5)).toBeUndefined();
  });
});

const input = { runId: 'r1', from: 'a@lab.test', to: ['b@lab.test'], subject: 'big', date: new Date(0), messageId: '<m1@lab.test>' };

function whole(message: ReturnType<typeof generateMessage>): Buffer {
  return Buffer.concat([...message.chunks()]);
}

describe('generateMessage', () => {
  it('has exactly the size asked for, for every remainder of the line length', () => {
    for (let size = 600; size < 600 + 161; size++) {
      const message = generateMessage({ ...input, size });
      const bytes = whole(message);
      expect(bytes.length, String(size)).toBe(size);
      expect(bytes.subarray(message.head.length).toString('latin1')).toMatch(/^(?:(?:L[^\r\n.]*)?\r\n)*$/);
    }
  });

  it('is deterministic, 7-bit, under 998 octets a line, and names its body digest and run', () => {
    const a = generateMessage({ ...input, size: 200_000 });
    const b = generateMessage({ ...input, size: 200_000 });
    const bytes = whole(a);
    expect(bytes.equals(whole(b))).toBe(true);
    expect(bytes.every((octet) => octet < 0x80)).toBe(true);
    for (const line of bytes.toString('latin1').split('\r\n')) expect(line.length).toBeLessThan(998);
    const body = bytes.subarray(a.head.length);
    expect(a.bodySha256).toBe(createHash('sha256').update(body).digest('hex'));
    expect(a.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    const head = a.head.toString('latin1');
    expect(head).toContain(`X-Mailprobe-Body: generated; octets=${String(body.length).padStart(12, '0')}; sha256=${a.bodySha256}\r\n`);
    expect(head).toContain('X-Mailprobe-Run: r1\r\n');
    expect(head).toContain('Message-ID: <m1@lab.test>\r\n');
    expect(head.endsWith('\r\n\r\n')).toBe(true);
    // Another message (another Message-ID) gets another body.
    expect(generateMessage({ ...input, size: 200_000, messageId: '<m2@lab.test>' }).bodySha256).not.toBe(a.bodySha256);
  });

  it('hands the message over in bounded chunks', () => {
    const chunks = [...generateMessage({ ...input, size: 2_000_000 }).chunks()].map((c) => c.length);
    expect(chunks.length).toBeGreaterThan(20);
    expect(Math.max(...chunks)).toBeLessThanOrEqual(65_536);
  });

  it('sends the octets it always sent: body digests and chunk counts pinned for every kind of last chunk', () => {
    // Pinned from the string-built generator before the lines were written as octets; a reader of an old copy
    // still finds the body its header names, and a change to the generator cannot pass unnoticed.
    const head = generateMessage({ ...input, size: 1000 }).head.length;
    const pinned: Array<[body: number, sha256: string, chunks: number]> = [
      [81, '16c255cf33e3907aabc9286ff266a927ab9d316cc1e14c319004ae1ebf441ddf', 2], // one line and an octet: the long line
      [80 * 819 + 2, 'f6e3d6965b5837e7bf5762609c55097c5a3d114f5cae1b96d3ff1e1d8b5276ec', 3], // the short last line alone in its chunk
      [80 * 819 + 79, '481d6c272404272639804726361060d4d5d7bd814f31212f1d71c8eb0d9e4aef', 3],
      [80 * 1638 + 40, 'ea8e144ff5280f6047ba6b9803516698e538f1af003c991aa48eda90cc3386e6', 4],
      [2_000_000, '24b0d0d41f90ab82ce1971411471aa201e54085ddf1c3801a57a8b664d8ba588', 32],
    ];
    for (const [body, sha256, chunks] of pinned) {
      const message = generateMessage({ ...input, size: head + body });
      const parts = [...message.chunks()];
      expect(message.bodySha256, String(body)).toBe(sha256);
      expect(createHash('sha256').update(Buffer.concat(parts).subarray(head)).digest('hex'), String(body)).toBe(sha256);
      expect(parts.length, String(body)).toBe(chunks);
    }
  });

  it('refuses a size too small for its header block', () => {
    expect(() => generateMessage({ ...input, size: 100 })).toThrow(RangeError);
  });
});

describe('DataFramer (SMTP data in chunks)', () => {
  const tricky = Buffer.from('.first\r\nplain\r\n.\r\n..two\nbare lf\rbare cr\r\n\r\n.x\r', 'latin1');

  function framedInChunks(raw: Buffer, cuts: number[]): { bytes: Buffer; lines: number; stuffed: number } {
    const framer = new DataFramer();
    const out: Buffer[] = [];
    let from = 0;
    for (const cut of [...cuts, raw.length]) {
      out.push(framer.push(raw.subarray(from, cut)));
      from = cut;
    }
    out.push(framer.end());
    return { bytes: Buffer.concat(out), ...framer.counts };
  }

  it('gives the octets frameMessageData gives, wherever the chunks split ("\\r\\n." and CR|LF across a boundary included)', () => {
    const expected = frameMessageData(tricky);
    for (let a = 0; a <= tricky.length; a++) {
      for (let b = a; b <= tricky.length; b++) {
        const got = framedInChunks(tricky, [a, b]);
        expect(got.bytes.toString('latin1'), `cuts ${a},${b}`).toBe(expected.bytes.toString('latin1'));
        expect(got.lines).toBe(expected.lines);
        expect(got.stuffed).toBe(expected.stuffed);
      }
    }
    const bytewise = framedInChunks(
      tricky,
      Array.from({ length: tricky.length }, (_, i) => i),
    );
    expect(bytewise.bytes.equals(expected.bytes)).toBe(true);
  });

  it('hands on a chunk that needs no change as it is, uncopied, and still counts its lines', () => {
    const framer = new DataFramer();
    const clean = Buffer.from('L1 text\r\nL2 more\r\n', 'latin1');
    expect(framer.push(clean)).toBe(clean);
    expect(framer.counts.lines).toBe(2);
    // A "." at the start of the next chunk's first line is still stuffed: the line start carried over.
    expect(framer.push(Buffer.from('.dot\r\n', 'latin1')).toString('latin1')).toBe('..dot\r\n');
    // A chunk ending in a lone CR is framed (its LF may come next), and the LF that follows is not doubled.
    expect(framer.push(Buffer.from('end\r', 'latin1')).toString('latin1')).toBe('end\r\n');
    expect(framer.push(Buffer.from('\nL4\r\n', 'latin1')).toString('latin1')).toBe('L4\r\n');
    expect(framer.counts).toEqual({ octets: 33, lines: 5, stuffed: 1 });
  });

  it('frames an empty message and one without a final line end as frameMessageData does', () => {
    for (const raw of [Buffer.alloc(0), Buffer.from('no end'), Buffer.from('.')]) {
      expect(framedInChunks(raw, []).bytes.equals(frameMessageData(raw).bytes), JSON.stringify(raw.toString())).toBe(true);
    }
  });
});
