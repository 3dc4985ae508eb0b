/**
 * The mail data as it goes on the wire after "354" (RFC 5321 §4.1.1.4, §4.5.2):
 * - every line ends with CRLF (a bare LF or CR in the input becomes CRLF:
 *   SMTP has no other line end, and a bare one would be read differently by
 *   different servers);
 * - a line that starts with "." gets one more "." (§4.5.2: "If it is a
 *   period, one additional period is inserted at the beginning of the line"),
 *   so no line of the message can end the data early;
 * - the data ends with CRLF "." CRLF.
 * Octets are kept as they are (latin1 is a 1:1 map of bytes to code units).
 */
export interface FramedData {
  readonly bytes: Buffer;
  /** Lines of the message. */
  readonly lines: number;
  /** Lines that got an extra leading ".". */
  readonly stuffed: number;
}

export function frameMessageData(raw: Buffer): FramedData {
  let text = raw.toString('latin1').replace(/\r\n|\r|\n/g, '\r\n');
  if (text.length > 0 && !text.endsWith('\r\n')) text += '\r\n';
  let stuffed = 0;
  text = text.replace(/(^|\r\n)\./g, (_match, start: string) => {
    stuffed++;
    return `${start}..`;
  });
  let lines = 0;
  for (let at = text.indexOf('\r\n'); at !== -1; at = text.indexOf('\r\n', at + 2)) lines++;
  return { bytes: Buffer.from(`${text}.\r\n`, 'latin1'), lines, stuffed };
}
