/**
 * The weighted command mix of `mailprobe load`: "FETCH=40,STORE=20,APPEND=10".
 * Parsed once, before anything connects; a bad mix is a usage error with a
 * one-line reason. LOGIN is not a weight of its own: every session starts with
 * one, and LOGOUT in a persistent run means "end this session, open a new one".
 */

export const MIX_COMMANDS = ['FETCH', 'SELECT', 'STORE', 'APPEND', 'EXPUNGE', 'NOOP', 'LOGOUT'] as const;
export type MixCommand = (typeof MIX_COMMANDS)[number];

export interface MixEntry {
  readonly command: MixCommand;
  readonly weight: number;
}

export type Mix = readonly MixEntry[];

/**
 * Reads dominate, writes follow. No LOGOUT: persistent clients stay logged in (as imaptest's persistent
 * figures do), and --reconnect is the case where every session logs in and out; weight LOGOUT to mix the two.
 */
export const DEFAULT_MIX_TEXT = 'FETCH=40,STORE=20,APPEND=10,SELECT=10,EXPUNGE=5';

export class MixError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MixError';
  }
}

export function parseMix(text: string): Mix {
  const entries: MixEntry[] = [];
  const seen = new Set<string>();
  const parts = text.split(',').map((p) => p.trim());
  if (parts.every((p) => p === '')) throw new MixError('--mix is empty: give COMMAND=WEIGHT pairs, e.g. FETCH=40,STORE=20');
  for (const part of parts) {
    if (part === '') continue;
    const m = /^([A-Za-z]+)\s*=\s*(\d+)$/.exec(part);
    if (!m) throw new MixError(`--mix: '${part}' is not COMMAND=WEIGHT (a whole number)`);
    const name = (m[1] as string).toUpperCase();
    if (name === 'LOGIN') throw new MixError('--mix: LOGIN has no weight: every session logs in once; weight LOGOUT to start new sessions');
    if (!(MIX_COMMANDS as readonly string[]).includes(name)) throw new MixError(`--mix: unknown command '${m[1]}' (known: ${MIX_COMMANDS.join(', ')})`);
    if (seen.has(name)) throw new MixError(`--mix: ${name} is given twice`);
    seen.add(name);
    const weight = Number(m[2]);
    if (weight > 1_000_000) throw new MixError(`--mix: weight of ${name} is too large (at most 1000000)`);
    if (weight > 0) entries.push({ command: name as MixCommand, weight });
  }
  if (entries.length === 0) throw new MixError('--mix: every weight is 0');
  return entries;
}

/** Picks a command by weight; `random` returns [0, 1) (Math.random, or a seeded one in tests). */
export function picker(mix: Mix, random: () => number = Math.random): () => MixCommand {
  const total = mix.reduce((sum, e) => sum + e.weight, 0);
  return () => {
    let r = random() * total;
    for (const e of mix) {
      if (r < e.weight) return e.command;
      r -= e.weight;
    }
    return (mix[mix.length - 1] as MixEntry).command;
  };
}

export function formatMix(mix: Mix): string {
  return mix.map((e) => `${e.command}=${e.weight}`).join(',');
}
