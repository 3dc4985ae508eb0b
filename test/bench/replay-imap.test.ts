import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { hiddenPlainUser, planScenario, type PlanContext, type ReplayPlan, type ReportScenario, type TranscriptEntry } from '../../bench/replay-plan.js';
import { imapShape, Replayer, replayMessage } from '../../bench/replay-run.js';
import { answerUids, expandSet, UidMap, uidKey, uidsNamed } from '../../bench/replay-uids.js';

const RUN = '20261202t000000-abcdef';
const MID = `<mailprobe.${RUN}.0123456789ab@mailprobe.invalid>`;
const b64 = (s: string) => Buffer.from(s).toString('base64');

const context: PlanContext = {
  runId: RUN,
  credentialsFor: () => ({ user: 'alice', passwordEnv: 'ALICE_PASSWORD' }),
  protocolOf: () => 'imap',
};

type Line = [direction: 'c' | 's' | 'i', text: string];

function scenario(steps: Array<{ action?: string; lines: Line[] }>): ReportScenario {
  return {
    id: 'imap/test',
    file: 'suites/imap/test.yaml',
    durationMs: 10,
    steps: steps.map((step, i) => ({
      name: `step ${i}`,
      action: step.action ?? 'imap.fetch',
      transcript: step.lines.map(
        ([d, text], at): TranscriptEntry => ({ at, direction: d === 'c' ? 'client' : d === 's' ? 'server' : 'info', session: 'laptop', text }),
      ),
    })),
    cleanup: [],
  };
}

const login: Line[] = [
  ['i', 'connecting to 127.0.0.1:1143, security none'],
  ['s', '* OK ready'],
  ['c', '1 AUTHENTICATE PLAIN'],
  ['s', '+'],
  ['c', b64('\0alice\0(* value hidden *)')],
  ['s', '1 OK logged in'],
];

describe('IMAP UIDs in the replay come from its own answers', () => {
  it('reads APPENDUID, COPYUID and SEARCH results, each for its mailbox', () => {
    expect(answerUids('A APPEND "Drafts" (\\Draft) {3}', ['A OK [APPENDUID 9 4] done'], undefined)).toEqual({ mailbox: 'Drafts', uids: [4] });
    expect(answerUids('B UID MOVE 2 a/b', ['* OK [COPYUID 7 2 1:2] moved', 'B OK'], 'INBOX')).toEqual({ mailbox: 'a/b', uids: [1, 2] });
    expect(answerUids('C UID SEARCH HEADER X 1', ['* SEARCH 3 5', 'C OK'], 'INBOX')).toEqual({ mailbox: 'INBOX', uids: [3, 5] });
    expect(answerUids('D NOOP', ['D OK'], 'INBOX')).toBeUndefined();
    expect(expandSet('1:3,7')).toEqual([1, 2, 3, 7]);
    expect(expandSet('1:*')).toBeUndefined();
  });

  it('rewrites a recorded UID to the mapped one, and refuses one nothing mapped', () => {
    const map = new UidMap();
    const key = uidKey('alice', 'INBOX');
    expect(map.learn(key, [14], [15])).toBe(true);
    expect(map.rewrite('A UID STORE 14 +FLAGS (\\Deleted)', key)).toBe('A UID STORE 15 +FLAGS (\\Deleted)');
    expect(map.rewrite('A004 UID SEARCH UID 14', key)).toBe('A004 UID SEARCH UID 15');
    expect(() => map.rewrite('B UID FETCH 13 (FLAGS)', key)).toThrow(/UID 13 of INBOX was named by no answer/);
    // Counts that differ (the replay's search found nothing yet) teach nothing.
    expect(map.learn(key, [13], [])).toBe(false);
    expect(uidsNamed('C UID FETCH 1:2 (UID FLAGS)')).toEqual({ set: '1:2', uids: [1, 2] });
  });
});

describe('planning an IMAP transcript', () => {
  it('turns an APPEND into a message of the recorded size and Message-ID, and keeps the UIDs its answers named', () => {
    const plan = planScenario(
      scenario([
        {
          lines: [
            ...login,
            ['i', `[literal: 409 octets, Message-ID ${MID}; not shown]`],
            ['c', 'A APPEND box (\\Seen) "(* 409B literal *)"'],
            ['s', 'A OK [APPENDUID 1796 1] Append completed'],
            ['c', 'B SELECT box'],
            ['s', 'B OK [READ-WRITE] done'],
            ['c', `C UID SEARCH HEADER MESSAGE-ID ${MID}`],
            ['s', '* SEARCH 1'],
            ['s', 'C OK done'],
            ['c', 'D UID FETCH 1 (UID FLAGS)'],
            ['s', 'D OK done'],
          ],
        },
      ]),
      context,
    ) as ReplayPlan;
    expect('reason' in plan).toBe(false);
    const events = plan.items.flatMap((i) => (i.kind === 'event' ? [i.event] : []));
    expect(events.find((e) => e.kind === 'append')).toMatchObject({
      command: 'A APPEND box (\\Seen)',
      octets: 409,
      messageId: MID,
      synchronizing: false,
      recordedUids: [1],
    });
    const search = events.find((e) => e.kind === 'send' && e.lines[0]!.startsWith('C '));
    expect(search).toMatchObject({ recordedUids: { 0: [1] }, recordedStatus: { 0: 'OK' } });
    expect(plan.recorded).toEqual({ clientLines: 6, connections: 1, polls: 0 });
    expect(hiddenPlainUser(b64('\0alice\0(* value hidden *)'))).toBe('alice');
  });

  it('refuses a UID no recorded answer named and an APPEND without its message line; an IDLE awaits its push', () => {
    const unnamed = planScenario(
      scenario([{ lines: [...login, ['c', 'B SELECT box'], ['s', 'B OK'], ['c', 'C UID FETCH 7 (FLAGS)'], ['s', 'C OK']] }]),
      context,
    );
    expect(unnamed).toMatchObject({ reason: expect.stringMatching(/UID 7 .* named by no earlier server answer/) });
    const append = planScenario(scenario([{ lines: [...login, ['c', 'A APPEND box "(* 9B literal *)"'], ['s', 'A OK']] }]), context);
    expect(append).toMatchObject({ reason: expect.stringMatching(/APPEND whose message/) });
    const idle = planScenario(
      scenario([{ lines: [...login, ['c', 'B IDLE'], ['s', '+ idling'], ['s', '* 1 EXISTS'], ['c', 'DONE'], ['s', 'B OK done']] }]),
      context,
    ) as ReplayPlan;
    // The push the harness waited for is awaited before DONE; the IDLE's status is its tagged answer after DONE.
    const kinds = idle.items.flatMap((i) => (i.kind === 'event' ? [i.event.kind === 'send' ? i.event.lines[0] : i.event.kind] : []));
    expect(kinds.slice(-4)).toEqual(['B IDLE', 'await-exists', 'DONE', 'close']);
    expect(idle.items.find((i) => i.kind === 'event' && i.event.kind === 'send' && i.event.lines[0] === 'B IDLE')).toMatchObject({
      event: { recordedStatus: { 0: 'OK' } },
    });
  });

  it('makes an imap.wait-for a poll: its last NOOP and UID SEARCH, repeated until the search finds as many UIDs', () => {
    const plan = planScenario(
      scenario([
        { lines: [...login, ['c', 'B EXAMINE INBOX'], ['s', 'B OK']] },
        {
          action: 'imap.wait-for',
          lines: [
            ['c', 'C NOOP'],
            ['s', 'C OK'],
            ['c', 'D UID SEARCH HEADER X 1'],
            ['s', '* SEARCH'],
            ['s', 'D OK'],
            ['c', 'E NOOP'],
            ['s', 'E OK'],
            ['c', 'F NOOP'],
            ['s', 'F OK'],
            ['c', 'G UID SEARCH HEADER X 1'],
            ['s', '* SEARCH 14'],
            ['s', 'G OK'],
            ['c', 'H UID FETCH 14 (UID)'],
            ['s', 'H OK'],
          ],
        },
      ]),
      context,
    ) as ReplayPlan;
    const poll = plan.items.find((i) => i.kind === 'imap-poll');
    expect(poll?.kind === 'imap-poll' && poll.group).toMatchObject({ wantUids: 1, recordedPolls: 2 });
    expect(poll?.kind === 'imap-poll' && poll.group.attempt.map((e) => (e.kind === 'send' ? e.lines[0] : e.kind))).toEqual([
      'F NOOP',
      'G UID SEARCH HEADER X 1',
    ]);
    expect(poll?.kind === 'imap-poll' && poll.group.between.map((e) => (e.kind === 'send' ? e.lines[0] : e.kind))).toEqual(['E NOOP']);
    expect(plan.recorded.polls).toBe(2);
  });

  it('regenerates an APPEND message of exactly the recorded size, with its Message-ID and run header', () => {
    const raw = replayMessage(RUN, 'x', imapShape(409), MID).toString('latin1');
    expect(raw.length).toBe(409);
    expect(raw).toContain(`\r\nMessage-ID: ${MID}\r\n`);
    expect(raw).toContain(`\r\nX-Mailprobe-Run: ${RUN}\r\n`);
  });
});

/** An IMAP server that answers each tagged line with ANSWER(line) and records the lines it got. */
async function imapServer(answer: (line: string) => string): Promise<{ port: number; got: string[] }> {
  const got: string[] = [];
  const server = createServer((socket: Socket) => {
    socket.write('* OK fake\r\n');
    let buffer = '';
    socket.on('data', (chunk) => {
      buffer += chunk.toString('latin1');
      for (let at = buffer.indexOf('\r\n'); at !== -1; at = buffer.indexOf('\r\n')) {
        const line = buffer.slice(0, at);
        buffer = buffer.slice(at + 2);
        got.push(line);
        socket.write(answer(line));
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  onTestFinished(() => void server.close());
  return { port: (server.address() as AddressInfo).port, got };
}

describe('the replayer on the wire', () => {
  it('sends the UID the server itself answered, restores the hidden AUTHENTICATE PLAIN password, and notes an answer that differs', async () => {
    const { port, got } = await imapServer((line) => {
      const tag = line.split(' ', 1)[0]!;
      if (line === '1 AUTHENTICATE PLAIN') return '+\r\n';
      if (line.startsWith('AGFs')) return '1 OK in\r\n';
      if (line.includes('UID SEARCH')) return `* SEARCH 15\r\n${tag} OK\r\n`;
      if (line.includes('UID STORE')) return `${tag} NO [CANNOT] refused\r\n`;
      return `${tag} OK\r\n`;
    });
    const recorded = scenario([
      {
        lines: [
          ['i', `connecting to 127.0.0.1:${port}, security none`],
          ...login.slice(1),
          ['c', 'B EXAMINE INBOX'],
          ['s', 'B OK'],
          ['c', 'C UID SEARCH HEADER X 1'],
          ['s', '* SEARCH 14'],
          ['s', 'C OK'],
          ['c', 'D UID FETCH 14 (UID)'],
          ['s', 'D OK'],
          ['c', 'E UID STORE 14 +FLAGS (\\Deleted)'],
          ['s', 'E OK'],
        ],
      },
    ]);
    const plan = planScenario(recorded, context) as ReplayPlan;
    const result = await new Replayer(plan, { ca: '', servername: 'localhost' }, { ALICE_PASSWORD: 's3cret' }).run();
    expect(got).toContain(b64('\0alice\0s3cret'));
    expect(got).toContain('D UID FETCH 15 (UID)');
    expect(got).toContain('E UID STORE 15 +FLAGS (\\Deleted)');
    expect(result.divergences).toEqual(['E UID STORE 14 +FLAGS (\\Deleted) → E NO [CANNOT] refused (recorded OK)']);
  });
});
