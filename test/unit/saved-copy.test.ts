import { createHash } from 'node:crypto';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { digestCopy, SMALL_COPY_OCTETS, saveCopy } from '../../src/actions/saved-copy.js';
import { generateMessage } from '../../src/protocols/smtp/generated-message.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mailprobe-saved-copy-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const TRACE = Buffer.from('Return-Path: <a@lab.test>\r\nReceived: from x by y; Wed, 02 Dec 2026 05:00:00 +0000\r\n');

function copyOf(size: number): Buffer {
  const message = generateMessage({ runId: 'r1', from: 'a@lab.test', to: ['b@lab.test'], subject: 's', size, date: new Date(0), messageId: '<m@lab.test>' });
  return Buffer.concat([TRACE, ...message.chunks()]);
}

describe('digestCopy (the saved local copy, read back as a stream)', () => {
  it('checks a big copy against the body digest its header names, without reading it back whole', async () => {
    const bytes = copyOf(3 * SMALL_COPY_OCTETS);
    const path = join(dir, 'big.eml');
    await writeFile(path, bytes);
    const digest = await digestCopy(path);
    expect(digest.saved_octets).toBe(bytes.length);
    expect(digest.saved_sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(digest.body_verified).toBe(true);
    expect(digest.body_octets).toBe(digest.body_named_octets);
    expect(digest.saved).toBeUndefined();
  });

  it('finds a body changed by one octet, or cut short', async () => {
    const bytes = copyOf(2 * SMALL_COPY_OCTETS);
    const changed = Buffer.from(bytes);
    changed[changed.length - 100] = 0x21;
    await writeFile(join(dir, 'changed.eml'), changed);
    expect((await digestCopy(join(dir, 'changed.eml'))).body_verified).toBe(false);
    await writeFile(join(dir, 'short.eml'), bytes.subarray(0, bytes.length - 80));
    const short = await digestCopy(join(dir, 'short.eml'));
    expect(short.body_verified).toBe(false);
    expect(short.body_octets).toBe((short.body_named_octets as number) - 80);
  });

  it('reads a small copy back whole as `saved`, and names no body check for a message without the header', async () => {
    const plain = Buffer.from('Subject: hi\r\n\r\nbody\r\n');
    await writeFile(join(dir, 'plain.eml'), plain);
    const digest = await digestCopy(join(dir, 'plain.eml'));
    expect(digest.saved?.equals(plain)).toBe(true);
    expect(digest.body_verified).toBeUndefined();
  });
});

describe('saveCopy (writing the local copy)', () => {
  it('puts every octet of a piece on disk when the file takes fewer octets a write than it is given', async () => {
    const bytes = copyOf(2 * SMALL_COPY_OCTETS);
    const probe = await open(join(dir, 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as { write: (...args: unknown[]) => Promise<{ bytesWritten: number }> };
    await probe.close();
    const write = proto.write;
    // Each write takes at most 1000 octets of what it is given, as a short write would.
    const spy = vi.spyOn(proto, 'write').mockImplementation(function (this: unknown, buffer: unknown, offset: unknown, length: unknown) {
      const start = typeof offset === 'number' ? offset : 0;
      const total = typeof length === 'number' ? length : (buffer as Uint8Array).length - start;
      return write.call(this, buffer, start, Math.min(total, 1000));
    });
    try {
      const digest = await saveCopy(join(dir, 'short-writes.eml'), async (put) => {
        for (let at = 0; at < bytes.length; at += 64 * 1024) await put(bytes.subarray(at, at + 64 * 1024));
      });
      expect(spy.mock.calls.length).toBeGreaterThan(bytes.length / 1000 - 1);
      expect(digest.saved_octets).toBe(bytes.length);
      expect(digest.body_verified).toBe(true);
    } finally {
      spy.mockRestore();
    }
  });
});
