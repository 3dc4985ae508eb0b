/**
 * At most `max` characters of a text a server or a user sent, for a message:
 * a hostile one-megabyte line must not be printed whole. The cut never splits
 * a surrogate pair. `showLength` adds how long the whole text was.
 */
export function truncate(text: string, max = 200, options: { showLength?: boolean } = {}): string {
  if (text.length <= max) return text;
  const code = text.charCodeAt(max - 1);
  const end = code >= 0xd800 && code <= 0xdbff ? max - 1 : max;
  return `${text.slice(0, end)}…${options.showLength === true ? ` (${text.length} chars)` : ''}`;
}

/**
 * A text a server or a user sent, cut to `max` characters (truncate) and
 * quoted as a JSON string, so control characters, quotes and trailing spaces
 * show in a message as they were sent.
 */
export function quoted(text: string, max = 200): string {
  return JSON.stringify(truncate(text, max));
}

/**
 * The name of one capability as announced (a POP3 CAPA line or an EHLO
 * keyword, with its parameters after a space): its first word, upper-cased,
 * so names compare without regard to case. `AUTH=PLAIN` stays whole: IMAP
 * names a mechanism inside the capability atom.
 */
export function capabilityName(announced: string): string {
  return (announced.split(' ')[0] ?? '').toUpperCase();
}
