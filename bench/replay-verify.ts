/**
 * After a replay: does any POP3 maildrop it touched still hold a message of the replayed run? Reads headers only
 * (TOP n 0, which never marks a message read), over POP3S with the lab CA.
 */
import { connect, type TLSSocket } from 'node:tls';
import { readPop3Answer, WireReader } from './replay-framing.js';
import type { Credentials } from './replay-plan.js';
import type { ReplayTls } from './replay-run.js';

export async function leftoverMessages(
  endpoint: { host: string; port: number },
  tls: ReplayTls,
  accounts: readonly Credentials[],
  secrets: Readonly<Record<string, string>>,
  runId: string,
): Promise<string[]> {
  const left: string[] = [];
  for (const account of accounts) {
    const password = secrets[account.passwordEnv];
    if (password === undefined) continue;
    const socket = await new Promise<TLSSocket>((resolve, reject) => {
      const s = connect({ host: endpoint.host, port: endpoint.port, ca: tls.ca, servername: tls.servername }, () => resolve(s));
      s.once('error', reject);
      s.setTimeout(15_000, () => s.destroy(new Error('the leftover check got no answer within 15 s')));
    });
    const reader = new WireReader(socket);
    const lines: string[] = [];
    const ask = async (command: string, collect = false) => {
      socket.write(`${command}\r\n`);
      if (!collect) return readPop3Answer(reader, command);
      lines.length = 0;
      const status = await reader.line();
      if (!status.startsWith('+OK')) throw new Error(`${command}: ${status}`);
      for (let line = await reader.line(); line !== '.'; line = await reader.line()) lines.push(line);
      return lines.length;
    };
    try {
      await reader.line();
      socket.write(`AUTH PLAIN ${Buffer.from(`\0${account.user}\0${password}`).toString('base64')}\r\n`);
      const auth = await reader.line();
      if (!auth.startsWith('+OK')) throw new Error(`leftover check: login of ${account.user} refused`);
      await ask('LIST', true);
      const numbers = lines.map((l) => l.split(' ', 1)[0]!);
      for (const n of numbers) {
        await ask(`TOP ${n} 0`, true);
        if (lines.some((l) => l.toLowerCase() === `x-mailprobe-run: ${runId}`)) left.push(`${account.user} message ${n}`);
      }
      socket.write('QUIT\r\n');
      await reader.line();
    } finally {
      socket.destroy();
    }
  }
  return left;
}
