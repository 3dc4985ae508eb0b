/**
 * Server bytes are hostile input. Before any of them reaches a report we make
 * control characters visible instead of passing them through: a BEL or an ESC
 * sequence would drive the reader's terminal, and XML 1.0 cannot carry C0
 * controls or lone surrogates at all (xmlbuilder2 silently drops them unless
 * asked to check, and other builders write invalid XML).
 *
 * Escapes look like `\x07`, `\x1b`, `\u202e` and `\ud800`, so a person sees what the
 * server actually sent. A literal backslash is left alone: escaping it would
 * make every Windows path and regex in a report harder to read, and the
 * escape is for humans, not for round-tripping.
 */

export interface EscapeOptions {
  /** Whitespace controls to keep as they are. Default: tab, LF and CR. */
  readonly keep?: string;
}

// C0 controls, DEL and C1 controls (0x9b is CSI on some terminals), the two
// non-characters XML forbids, and the invisible format characters that reorder
// or hide text on screen: the bidirectional marks, embeddings, overrides and
// isolates (U+061C, U+200E/F, U+202A-E, U+2066-9; a U+202E in a server reply
// makes "gpj.exe" read as "exe.jpg", CVE-2021-42574), the line and paragraph
// separators U+2028/9 (a line break to some terminals), and the zero-width
// space U+200B and U+FEFF that make two different names look alike. The
// joiners U+200C/D stay: emoji and several scripts need them.
const DISGUISING = '\u061c\u200b\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff';
const CONTROL = new RegExp(`[\u0000-\u001f\u007f-\u009f${DISGUISING}\ufffe\uffff]`, 'g');
const DISGUISING_ONLY = new RegExp(`[${DISGUISING}]`, 'g');
// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const NAMED: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };

function hex(code: number, width: number): string {
  return code.toString(16).padStart(width, '0');
}

export function escapeControls(input: string, options: EscapeOptions = {}): string {
  const keep = options.keep ?? '\t\n\r';
  return input
    .replace(CONTROL, (ch) => {
      if (keep.includes(ch)) return ch;
      const named = NAMED[ch];
      if (named !== undefined) return named;
      const code = ch.charCodeAt(0);
      return code > 0xff ? `\\u${hex(code, 4)}` : `\\x${hex(code, 2)}`;
    })
    .replace(LONE_SURROGATE, (ch) => `\\u${hex(ch.charCodeAt(0), 4)}`);
}

/** For text that must stay on one line (TAP test points, XML attributes, console rows). */
export function oneLine(input: string): string {
  return escapeControls(input, { keep: '\t' }).replace(/\t/g, ' ');
}

/**
 * For JSON text: JSON.stringify escapes C0 controls and lone surrogates but
 * writes the disguising format characters raw, so `cat report.json` would
 * reorder the reader's screen. As \uXXXX escapes they mean the same string.
 */
export function escapeDisguisingInJson(json: string): string {
  return json.replace(DISGUISING_ONLY, (ch) => `\\u${hex(ch.charCodeAt(0), 4)}`);
}
