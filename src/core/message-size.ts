/**
 * Message sizes as a scenario writes them: plain octets (`1048576`), or a
 * number with a unit. KB/MB are decimal (1000, 1000²), KiB/MiB binary (1024,
 * 1024²), as in IEC 80000-13; "25MB" is then 25,000,000 octets, what a mail
 * admin means by a 25 MB limit. One B is allowed (`512B`).
 */
export const MESSAGE_SIZE_FORMS = 'plain octets (e.g. 1048576) or a number with B, KB, MB, KiB or MiB (e.g. 512KB, 1MiB, 25MB)';

const UNITS: Readonly<Record<string, number>> = {
  b: 1,
  kb: 1000,
  mb: 1000 * 1000,
  kib: 1024,
  mib: 1024 * 1024,
};

export const MESSAGE_SIZE_PATTERN = /^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|KiB|MiB)?\s*$/i;

/** The octets `text` names, or undefined when it is not one of the allowed forms (or not a whole, positive number of octets). */
export function parseMessageSize(text: string | number): number | undefined {
  if (typeof text === 'number') return Number.isSafeInteger(text) && text > 0 ? text : undefined;
  const match = MESSAGE_SIZE_PATTERN.exec(text);
  if (!match) return undefined;
  const unit = UNITS[(match[2] ?? 'b').toLowerCase()];
  if (unit === undefined) return undefined;
  const octets = Number(match[1]) * unit;
  return Number.isSafeInteger(octets) && octets > 0 ? octets : undefined;
}
