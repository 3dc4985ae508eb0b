import { randomBytes } from 'node:crypto';

/**
 * How a run names itself and marks what it creates. Every message, folder and
 * subject a run makes carries its id, and only what carries it is ever
 * touched, so these forms are the safety rule "never touch mail the run did
 * not create" written down once.
 */

/** The header that marks every message a run creates. */
export const RUN_HEADER = 'X-Mailprobe-Run';

/** A run id that sorts by time and is safe in a header, a folder name and a file name. */
export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', 't');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

/** The folder prefix and subject tag everything a run creates carries. */
export function runPrefix(runId: string): string {
  return `mailprobe-${runId}`;
}

/** A Message-ID that names the run and cannot collide with real mail (`.invalid`, RFC 2606 §2). */
export function makeMessageId(runId: string): string {
  return `<mailprobe.${runId}.${randomBytes(6).toString('hex')}@mailprobe.invalid>`;
}

/** The first token of a header field in raw header text, matched case-insensitively at a line start. */
function headerToken(headerText: string, name: string): string | undefined {
  // The value may start on a folded line (RFC 5322 §2.2.3: CRLF then WSP): composers
  // fold "Message-ID: <…>" once it passes 76 columns, which a run's long ids do.
  return new RegExp(`^${name}:(?:[ \\t]|\\r?\\n[ \\t])*(\\S+)`, 'im').exec(headerText)?.[1];
}

/** The run id a message's raw header text carries in its X-Mailprobe-Run field, if any. */
export function runIdIn(headerText: string): string | undefined {
  return headerToken(headerText, RUN_HEADER);
}

/** The Message-ID in raw header text, if any. */
export function messageIdIn(headerText: string): string | undefined {
  return headerToken(headerText, 'Message-ID');
}

/** The Message-ID of a raw message (its header only is read, at most its first 64 KiB). */
export function messageIdOfMessage(raw: Buffer): string | undefined {
  const end = raw.indexOf('\r\n\r\n');
  return messageIdIn(raw.subarray(0, end === -1 ? Math.min(raw.length, 64 * 1024) : end).toString('latin1'));
}

/** Whether raw header text marks the message as this run's: its X-Mailprobe-Run is exactly `runId`. */
export function isRunMessage(headerText: string, runId: string): boolean {
  return runIdIn(headerText) === runId;
}
