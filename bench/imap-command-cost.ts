/**
 * What one IMAP command costs through mailprobe's IMAP session (src/protocols/imap/session.ts, which drives
 * imapflow) against the same command over a raw TLS socket, on the same lab endpoint and account: a note under
 * the table that attributes the IMAP replay rows' gap. A NOOP does no work on the server, so what differs is
 * the client's: imapflow's command compiler and response parser, and mailprobe's transcript and checks of each
 * line. The two sides alternate in rounds of NOOPS commands on one logged-in session each, so a noisy
 * neighbour slows both alike; logins are outside the timing.
 */
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { performance } from 'node:perf_hooks';
import { ImapSession } from '../dist/protocols/imap/session.js';
import { Transcript } from '../dist/transport/transcript.js';
import { spread, type Spread } from './measure.js';
import { imapQuoted, readImapAnswer, WireReader } from './replay-framing.js';
import { endpointOf, readLab, readSecrets } from './replay-lab.js';

const NOOPS = 200;
const TIMEOUT_MS = 15_000;

export interface ImapCommandCost {
  readonly sessionMs: Spread;
  readonly rawMs: Spread;
  readonly ratio: Spread;
}

class RawImap {
  readonly #socket: TLSSocket;
  readonly #reader: WireReader;
  #tag = 0;

  private constructor(socket: TLSSocket) {
    this.#socket = socket;
    this.#reader = new WireReader(socket);
  }

  static async open(host: string, port: number, tls: { ca: string; servername: string }): Promise<RawImap> {
    const socket = await new Promise<TLSSocket>((resolve, reject) => {
      const s = tlsConnect({ host, port, ca: tls.ca, servername: tls.servername }, () => resolve(s));
      s.once('error', reject);
    });
    socket.setNoDelay(true);
    socket.setTimeout(TIMEOUT_MS, () => socket.destroy(new Error(`no answer from ${host}:${port} within ${TIMEOUT_MS} ms`)));
    const raw = new RawImap(socket);
    await raw.#answer(undefined, 'the greeting');
    return raw;
  }

  /** One command and its answer, which must be a tagged OK: a cost measured on refusals would be no cost. */
  async run(command: string): Promise<void> {
    const tag = `n${++this.#tag}`;
    this.#socket.write(`${tag} ${command}\r\n`);
    await this.#answer(tag, command.split(' ', 1)[0]!);
  }

  close(): void {
    this.#socket.destroy();
  }

  async #answer(tag: string | undefined, what: string): Promise<void> {
    const lines: string[] = [];
    await readImapAnswer(this.#reader, tag, lines);
    const last = lines.at(-1) ?? '';
    if (!(tag === undefined ? /^\* OK/ : new RegExp(`^${tag} OK`)).test(last)) {
      throw new Error(`imap command cost: ${what} was answered ${JSON.stringify(last.slice(0, 200))}`);
    }
  }
}

async function timedNoops(run: () => Promise<void>): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < NOOPS; i++) await run();
  return (performance.now() - started) / NOOPS;
}

/** `rounds` rounds of NOOPS NOOPs a side on the lab's imaps endpoint, as the primary account; ms per command. */
export async function imapCommandCost(targetFile: string, secretsFile: string, rounds: number): Promise<ImapCommandCost> {
  const lab = await readLab(targetFile);
  const secrets = await readSecrets(secretsFile);
  const account = lab.target.accounts.primary;
  const imaps = endpointOf(lab, 'imaps');
  if (account === undefined || imaps === undefined || imaps.security !== 'tls') throw new Error(`${targetFile}: no primary account or no imaps endpoint`);
  const password = secrets[account.password_env];
  if (password === undefined) throw new Error(`${secretsFile}: no ${account.password_env}`);
  const session = await ImapSession.open({
    host: imaps.host,
    port: imaps.port,
    security: 'tls',
    tls: { verify: true, ca: lab.ca, servername: lab.servername },
    timeouts: { dns: TIMEOUT_MS, tcp: TIMEOUT_MS, tls: TIMEOUT_MS, greeting: TIMEOUT_MS, command: TIMEOUT_MS, push: 1_000 },
    user: account.user,
    password,
    transcript: new Transcript(),
    session: 'bench',
  });
  const raw = await RawImap.open(imaps.host, imaps.port, { ca: lab.ca, servername: lab.servername });
  try {
    await raw.run(`LOGIN ${imapQuoted(account.user)} ${imapQuoted(password)}`);
    const sessionMs: number[] = [];
    const rawMs: number[] = [];
    for (let r = 0; r < rounds; r++) {
      sessionMs.push(await timedNoops(() => session.noop()));
      rawMs.push(await timedNoops(() => raw.run('NOOP')));
    }
    return { sessionMs: spread(sessionMs), rawMs: spread(rawMs), ratio: spread(sessionMs.map((ms, i) => ms / rawMs[i]!)) };
  } finally {
    raw.close();
    await session.logout().catch(() => undefined);
  }
}

/** The note under the table. */
export function imapCommandCostNote(cost: ImapCommandCost, rounds: number): string {
  const ms = (s: Spread) => `${s.median.toFixed(3)} ms`;
  return (
    `IMAP per command: a NOOP through mailprobe's IMAP session (imapflow) took ${ms(cost.sessionMs)} against ${ms(cost.rawMs)} ` +
    `over a raw TLS socket on the same endpoint (${cost.ratio.median.toFixed(2)}×, ${cost.ratio.min.toFixed(2)}–${cost.ratio.max.toFixed(2)}×; ` +
    `${rounds} interleaved rounds of ${NOOPS} NOOPs a side): the client's own share of each command in the IMAP replay rows.`
  );
}
