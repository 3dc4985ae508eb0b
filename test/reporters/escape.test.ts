import { describe, expect, it } from 'vitest';
import { escapeControls, oneLine } from '../../src/reporters/escape.js';

describe('escapeControls', () => {
  it('makes C0, DEL and C1 controls visible', () => {
    expect(escapeControls('a\u0000b\u0007c\u001b[2Jd\u007fe\u009bf')).toBe('a\\x00b\\x07c\\x1b[2Jd\\x7fe\\x9bf');
  });

  it('keeps tab, LF and CR by default, and only what is asked otherwise', () => {
    expect(escapeControls('a\tb\nc\rd')).toBe('a\tb\nc\rd');
    expect(escapeControls('a\tb\nc\rd', { keep: '\n' })).toBe('a\\tb\nc\\rd');
  });

  it('escapes lone surrogates and XML non-characters but keeps real pairs', () => {
    expect(escapeControls('x\ud800y')).toBe('x\\ud800y');
    expect(escapeControls('x\udc00y')).toBe('x\\udc00y');
    expect(escapeControls('end\ud83d')).toBe('end\\ud83d');
    expect(escapeControls('\ufffe\uffff')).toBe('\\ufffe\\uffff');
    expect(escapeControls('mail 📬 ok')).toBe('mail 📬 ok');
    expect(escapeControls('é ß ✓')).toBe('é ß ✓');
  });

  it('escapes the bidirectional and invisible format characters that disguise text', () => {
    expect(escapeControls('invoice\u202egpj.exe')).toBe('invoice\\u202egpj.exe');
    expect(escapeControls('\u2066a\u2069 \u200eb\u200f \u061cc \u202ad\u202c')).toBe('\\u2066a\\u2069 \\u200eb\\u200f \\u061cc \\u202ad\\u202c');
    expect(escapeControls('line\u2028next\u2029para')).toBe('line\\u2028next\\u2029para');
    expect(escapeControls('ad\u200bmin \ufeffx')).toBe('ad\\u200bmin \\ufeffx');
    // The joiners stay: emoji sequences and several scripts need them.
    expect(escapeControls('👩\u200d💻 \u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645')).toBe('👩\u200d💻 \u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645');
    expect(oneLine('\u001b[31mred\u202e')).toBe('\\x1b[31mred\\u202e');
  });

  it('oneLine keeps text on one line', () => {
    expect(oneLine('first\r\nsecond\tthird')).toBe('first\\r\\nsecond third');
  });
});
