import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { readImapAnswer, readPop3Answer, readSmtpAnswer, WireReader } from '../../bench/replay-framing.js';
import { planScenario, type ReportScenario } from '../../bench/replay-plan.js';
import { replayMessage } from '../../bench/replay-run.js';

/** A server that writes CHUNKS one by one, each in its own write and tick, so that answers split across reads. */
async function serve(chunks: readonly (string | Buffer)[], end = false): Promise<WireReader> {
  const server = createServer(async (socket) => {
    for (const chunk of chunks) {
      socket.write(chunk);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    if (end) socket.end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const socket: Socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
  onTestFinished(() => {
    socket.destroy();
    server.close();
  });
  await once(socket, 'connect');
  return new WireReader(socket);
}

describe('the replay reads each answer to its end by framing alone', () => {
  it('POP3: a multi-line +OK answer goes to ".", a single-line one, and -ERR to a multi-line command, stop at once', async () => {
    const reader = await serve(['+OK 2 messages\r\n1 12', '0\r\n2 340\r\n', '.\r', '\n', '+OK 1 120\r\n-ERR no such message\r\n+OK done\r\n']);
    expect(await readPop3Answer(reader, 'LIST')).toBe(4);
    expect(await readPop3Answer(reader, 'LIST 1')).toBe(1);
    expect(await readPop3Answer(reader, 'RETR 9')).toBe(1);
    // Had the -ERR been read as a list, this line would have been swallowed.
    expect(await reader.line()).toBe('+OK done');
  });

  it('POP3: a line ".." inside a list is content, not the end', async () => {
    const reader = await serve(['+OK\r\n..\r\nbody\r\n.\r\n']);
    expect(await readPop3Answer(reader, 'TOP 1 0')).toBe(4);
  });

  it('SMTP: a multi-line reply ends at the line whose code is followed by a space', async () => {
    const reader = await serve(['250-mail.lab.test\r\n250-PIPE', 'LINING\r\n250 CHUNKING\r\n550 5.1.1 no\r\n']);
    expect(await readSmtpAnswer(reader)).toBe(3);
    expect(await readSmtpAnswer(reader)).toBe(1);
  });

  it('IMAP: untagged lines up to the tagged status, a literal skipped whole even when it holds a fake status line', async () => {
    const literal = 'A1 OK fake\r\n{3}\r\n';
    const reader = await serve([
      '* 1 FETCH (BODY[] {',
      `${literal.length}}\r\n${literal.slice(0, 5)}`,
      `${literal.slice(5)})\r\n* 2 EXISTS\r\nA1 OK Fetch completed\r\nA2 OK next\r\n`,
    ]);
    expect(await readImapAnswer(reader, 'A1')).toBe(3);
    expect(await readImapAnswer(reader, 'A2')).toBe(1);
  });

  it('IMAP: the greeting is one untagged line; a continuation request ends an answer', async () => {
    const reader = await serve(['* OK ready\r\n+ go ahead\r\n']);
    expect(await readImapAnswer(reader, undefined)).toBe(1);
    expect(await readImapAnswer(reader, 'A1')).toBe(1);
  });

  it('a server that closes mid-answer ends the read with an error, not a hang', async () => {
    const reader = await serve(['+OK\r\n1 2\r\n'], true);
    await expect(readPop3Answer(reader, 'LIST')).rejects.toThrow(/closed/);
  });
});

describe('the replay plan and message', () => {
  it('regenerates message data of the recorded size, line count and dot-stuffed lines, with the run header', () => {
    const bytes = replayMessage('20261202t045359-532d1c', 'pop3/x.1', { octets: 409, lines: 12, stuffed: 1 });
    const text = bytes.toString('latin1');
    // On the wire one byte more than recorded: the stuffed dot.
    expect(bytes.length).toBe(409 + 1);
    expect(text.split('\r\n').length - 1).toBe(12);
    expect(text).toContain('\r\nX-Mailprobe-Run: 20261202t045359-532d1c\r\n');
    expect(text.match(/\r\n\.\./g)?.length).toBe(1);
  });

  const entry = (session: string, direction: 'client' | 'server' | 'info', text: string) => ({ at: 0, session, direction, text });
  const context = { runId: 'r', credentialsFor: () => ({ user: 'alice', passwordEnv: 'P' }), protocolOf: () => 'pop3' as const };

  it('keeps a delivery wait: of several recorded polls it repeats the last, and counts them all', () => {
    const poll = (listed: string[]) => [
      entry('laptop~poll', 'info', 'connecting to 127.0.0.1:995, security tls'),
      entry('laptop~poll', 'server', '+OK ready'),
      entry('laptop~poll', 'client', 'LIST'),
      ...listed.map((l) => entry('laptop~poll', 'server', l)),
      entry('laptop~poll', 'client', 'QUIT'),
      entry('laptop~poll', 'server', '+OK bye'),
    ];
    const scenario: ReportScenario = {
      id: 'pop3/x',
      file: 'x.yaml',
      durationMs: 1,
      steps: [{ name: 'wait', action: 'pop3.wait-for', transcript: [...poll(['+OK 0 messages', '.']), ...poll(['+OK 1 messages', '1 20', '.'])] }],
      cleanup: [],
    };
    const plan = planScenario(scenario, context);
    if ('reason' in plan) throw new Error(plan.reason);
    expect(plan.recorded).toEqual({ clientLines: 4, connections: 2, polls: 2 });
    // One poll group; what follows it is only the end-of-plan close of connections already closed.
    const [item, ...rest] = plan.items;
    expect(item?.kind === 'poll' && item.group.listLines).toBe(3);
    expect(item?.kind === 'poll' && item.group.events.filter((e) => e.kind === 'send')).toHaveLength(2);
    expect(rest.every((i) => i.kind === 'event' && i.event.kind === 'close')).toBe(true);
  });

  it('sends pipelined lines together, and refuses a session whose endpoint the transcript does not name', () => {
    const scenario: ReportScenario = {
      id: 'smtp/x',
      file: 'x.yaml',
      durationMs: 1,
      steps: [
        {
          name: 's',
          action: 'smtp.send',
          transcript: [
            entry('smtp:smtp', 'info', 'connecting to 127.0.0.1:25, security none'),
            entry('smtp:smtp', 'client', 'MAIL FROM:<a@b>'),
            entry('smtp:smtp', 'client', 'RCPT TO:<c@d>'),
            entry('smtp:smtp', 'server', '250 ok'),
            entry('smtp:smtp', 'server', '250 ok'),
          ],
        },
      ],
      cleanup: [],
    };
    const plan = planScenario(scenario, { ...context, protocolOf: () => 'smtp' });
    if ('reason' in plan) throw new Error(plan.reason);
    expect(plan.items[1]).toEqual({ kind: 'event', event: { kind: 'send', conn: 0, lines: ['MAIL FROM:<a@b>', 'RCPT TO:<c@d>'] } });
    const imapflow = { ...scenario, steps: [{ name: 's', action: 'imap.find', transcript: [entry('laptop', 'client', '1 NOOP')] }] };
    expect(planScenario(imapflow, context)).toMatchObject({ reason: expect.stringMatching(/no recorded endpoint/) });
  });
});
