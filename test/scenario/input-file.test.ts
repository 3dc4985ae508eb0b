import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LoadError } from '../../src/core/diagnostics.js';
import { decodeInputText, firstInvalidUtf8, INPUT_LIMITS, InputFileError, readInputBytes, readInputText } from '../../src/input/input-file.js';
import { parseYamlWithPositions } from '../../src/input/yaml-doc.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { testActions } from './test-actions.js';

const dir = mkdtempSync(join(tmpdir(), 'mailprobe-input-file-'));
const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

describe('reading a user-named input file', () => {
  it('refuses a character device without reading it (/dev/zero)', async () => {
    const err = await failure(readInputText('/dev/zero', 'ca'));
    expect(err).toBeInstanceOf(InputFileError);
    expect(err).toMatchObject({ problem: 'ENOTREG', message: 'is a character device, not a regular file; a CA file must be a regular file' });
  });

  it('refuses a folder', async () => {
    await expect(readInputText(dir, 'target')).rejects.toMatchObject({ problem: 'ENOTREG', message: expect.stringContaining('is a folder') });
  });

  it('refuses a file one byte over the limit, naming the limit, and reads one at the limit', async () => {
    const at = join(dir, 'at.env');
    const over = join(dir, 'over.env');
    writeFileSync(at, 'A=' + 'x'.repeat(INPUT_LIMITS.env - 2));
    writeFileSync(over, 'A=' + 'x'.repeat(INPUT_LIMITS.env - 1));
    expect((await readInputText(at, 'env')).length).toBe(INPUT_LIMITS.env);
    await expect(readInputText(over, 'env')).rejects.toMatchObject({
      problem: 'ETOOBIG',
      message: `env file too large: the limit is 64 KiB (65536 bytes), this one is 65537 bytes`,
    });
  });

  it('allocates what the file needs, not the whole limit, and still reads a file at the limit whole', async () => {
    const small = join(dir, 'small.yaml');
    writeFileSync(small, 'name: small\n');
    const bytes = await readInputBytes(small, 'scenario');
    expect(bytes.toString()).toBe('name: small\n');
    // The memory behind the bytes: the file's size (and one byte to see growth), not the 1 MiB scenario limit.
    expect(bytes.buffer.byteLength).toBeLessThan(1024);
    const at = join(dir, 'at-limit.yaml');
    writeFileSync(at, `#${'x'.repeat(INPUT_LIMITS.scenario - 2)}\n`);
    expect((await readInputBytes(at, 'scenario')).length).toBe(INPUT_LIMITS.scenario);
  });

  it('names a missing file', async () => {
    await expect(readInputText(join(dir, 'nope.yaml'), 'scenario')).rejects.toMatchObject({ problem: 'ENOENT', message: 'scenario file not found' });
  });
});

describe('UTF-8', () => {
  const bytes = (...b: number[]) => Uint8Array.from(b);

  it('finds the first ill-formed byte (RFC 3629 §4: no overlongs, no surrogates, nothing above U+10FFFF)', () => {
    expect(firstInvalidUtf8(new TextEncoder().encode('aé✓😀'))).toBe(10);
    expect(firstInvalidUtf8(bytes(0x61, 0xe9, 0x62))).toBe(1); // Latin-1 é
    expect(firstInvalidUtf8(bytes(0xc0, 0xaf))).toBe(0); // overlong '/'
    expect(firstInvalidUtf8(bytes(0x61, 0xe0, 0x80, 0xaf))).toBe(1); // overlong 3-byte
    expect(firstInvalidUtf8(bytes(0xed, 0xa0, 0x80))).toBe(0); // surrogate U+D800
    expect(firstInvalidUtf8(bytes(0xf4, 0x90, 0x80, 0x80))).toBe(0); // U+110000
    expect(firstInvalidUtf8(bytes(0x61, 0x62, 0xe2, 0x9c))).toBe(2); // truncated at the end
  });

  it('gives line and column of the first bad byte, counted as the YAML positions count', () => {
    const text = Buffer.concat([Buffer.from('name: ok\nnote: "naïve ✓ '), Buffer.from([0xff]), Buffer.from('"\n')]);
    let err: unknown;
    try {
      decodeInputText(text, 'scenario');
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ problem: 'EENCODING', line: 2, col: 16 });
    expect((err as Error).message).toContain('byte 0xFF');
  });

  it('never quotes a byte of an env or target file (they may hold a password)', () => {
    expect(() => decodeInputText(Buffer.from('PW=caf\xe9\n', 'latin1'), 'env')).toThrow(/the byte here does not start/);
    expect(() => decodeInputText(Buffer.from('PW=a\x1bb\n'), 'env')).toThrow(/^a control character is not allowed in an env file/);
  });

  it('accepts and drops a UTF-8 byte order mark, so positions match what an editor shows', () => {
    const text = decodeInputText(Buffer.from('\ufeffname: x\nnmae: y\n'), 'scenario');
    expect(text.startsWith('name')).toBe(true);
    const parsed = parseYamlWithPositions(text, 'x.yaml');
    expect(parsed.positions.keyPosOf(['nmae'])).toEqual({ file: 'x.yaml', line: 2, col: 1 });
  });

  it('refuses a Latin-1 scenario that would otherwise load, at the é', async () => {
    const file = join(dir, 'latin1.yaml');
    writeFileSync(file, Buffer.from('name: caf\xe9\nsteps:\n  - action: pop3.stat\n', 'latin1'));
    const err = await failure(loadScenarioFile(file, { root: dir, actions: testActions }));
    expect(err).toBeInstanceOf(LoadError);
    expect((err as LoadError).code).toBe('EFILE_ENCODING');
    expect((err as LoadError).diagnostics.map((d) => `${d.pos.line}:${d.pos.col}`)).toEqual(['1:10']);
  });

  it('refuses raw control characters (YAML 1.2 §5.1 c-printable), at their position', () => {
    expect(() => decodeInputText(Buffer.from('name: "a\u001b[31mred"\n'), 'scenario')).toThrow(/^control character U\+001B is not allowed in a scenario file/);
    expect(decodeInputText(Buffer.from('a:\tb\r\n'), 'scenario')).toBe('a:\tb\r\n');
  });
});

describe('YAML aliases', () => {
  const diagnostics = (text: string) => parseYamlWithPositions(text, 'x.yaml').diagnostics.map((d) => `${d.pos.line}:${d.pos.col}: ${d.message}`);

  it('an alias bomb is a positioned error at the alias where yaml stops, not an exception', () => {
    let text = 'a: &a [x, x, x, x, x, x, x, x, x]\n';
    let prev = 'a';
    for (const c of 'bcdefghi') {
      text += `${c}: &${c} [${Array(9).fill(`*${prev}`).join(', ')}]\n`;
      prev = c;
    }
    const found = diagnostics(text);
    expect(found).toHaveLength(1);
    // yaml's count: b weighs 10 (a used ten times, its anchor included), c weighs 10 × 10; the first *c is c's second use: 200 > 100.
    expect(found[0]).toMatch(/^4:8: too many YAML alias expansions here/);
  });

  it('an alias to an anchor defined later, or to nothing, is named', () => {
    expect(diagnostics('a: *b\nb: &b 1\n')).toEqual(["1:4: unknown YAML alias '*b': no anchor '&b' is defined before it"]);
  });

  it('an alias inside its own anchor (a cycle) is refused, so no later walk of the data loops', () => {
    expect(diagnostics('a: &x { self: *x }\n')).toEqual(["1:15: YAML alias '*x' is inside its own anchor '&x', which would make the data endless"]);
  });

  it('a list or map used as a key is refused', () => {
    expect(diagnostics('? [a, b]\n: 1\n')).toEqual(['1:3: a key must be a plain word or string, not a list or map']);
  });

  it('more than 1000 aliases are refused at the 1001st, before yaml spends quadratic time on them', () => {
    const text = Array.from({ length: 1001 }, (_, i) => `a${i}: &a${i} x\nb${i}: *a${i}\n`).join('') + 'q: "* not * an * alias"\n';
    expect(diagnostics(text)).toEqual([expect.stringMatching(/^2002:8: more than 1000 YAML aliases in one file/)]);
    // Stars inside quoted or plain text are not aliases.
    expect(diagnostics(`a: &x 1\nb: *x\nc: "*"\n` + `d: '${'* '.repeat(1500)}'\n`)).toEqual([]);
  });

  it('a few ordinary aliases still work', () => {
    const parsed = parseYamlWithPositions('a: &x { k: 1 }\nb: *x\nc: *x\n', 'x.yaml');
    expect(parsed.diagnostics).toEqual([]);
    expect(parsed.data).toEqual({ a: { k: 1 }, b: { k: 1 }, c: { k: 1 } });
  });

  it('thousands of syntax errors are cut to twenty and a note', () => {
    const found = diagnostics('a: b: c\n'.repeat(500));
    expect(found).toHaveLength(21);
    expect(found[20]).toMatch(/^\d+:\d+: and \d+ more YAML syntax errors from here on/);
  });
});

describe('code frames', () => {
  it('show at most 160 characters of a long line, around the column, with the caret under it', async () => {
    const { formatDiagnostic } = await import('../../src/input/errors.js');
    const line = 'x'.repeat(100_000) + 'BAD' + 'y'.repeat(100_000);
    const out = formatDiagnostic({ pos: { file: 'f.yaml', line: 1, col: 100_001 }, message: 'here' }, `${line}\n`);
    const [, shown = '', caret = ''] = out.split('\n');
    expect(shown.length).toBeLessThan(200);
    expect(shown).toMatch(/^> 1 \| …x+BADy+…$/);
    expect(shown.indexOf('BAD')).toBe(caret.indexOf('^'));
  });
});
