/**
 * Reads the header block of a message (RFC 5322 §2.2): unfolds continuation
 * lines and keys fields by lower-case name. The first occurrence wins, which is
 * the one nearest the top for trace fields and the only one for the rest.
 */
export function parseHeaderBlock(raw: Buffer): Map<string, string> {
  const text = raw.toString('latin1');
  const end = text.search(/\r?\n\r?\n/);
  const block = end === -1 ? text : text.slice(0, end);
  const headers = new Map<string, string>();
  let name = '';
  let value = '';
  const flush = () => {
    if (name && !headers.has(name)) headers.set(name, value.trim());
  };
  for (const line of block.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && name) {
      value += ` ${line.trim()}`;
      continue;
    }
    flush();
    const colon = line.indexOf(':');
    name = colon > 0 ? line.slice(0, colon).trim().toLowerCase() : '';
    value = colon > 0 ? line.slice(colon + 1) : '';
  }
  flush();
  return headers;
}
