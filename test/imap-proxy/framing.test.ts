import { describe, expect, it } from 'vitest';
import {
  type Frame,
  ImapFramer,
  type ImapMessage,
  literalAnnouncement,
  MessageAssembler,
  messageBytes,
  TokenReader,
} from '../../fixtures/servers/imap-proxy-framing.js';
import {
  announcesFetchedBody,
  isIdleNotification,
  rewriteCapabilities,
  stripFlagFromLists,
  stripSpecialUseAttributes,
} from '../../fixtures/servers/imap-proxy-mutations.js';

/** A server stream with the framing traps: literals holding CRLF and fake tagged lines, BINARY, empty literals. */
const STREAM = Buffer.concat([
  Buffer.from('* OK [CAPABILITY IMAP4rev1 STARTTLS IDLE] ready\r\n'),
  Buffer.from('* 1 FETCH (UID 7 BODY[] {25}\r\n'),
  Buffer.from('a\r\nA1 OK fake\r\n{3}\r\nxyz\r\n'), // 25 octets that look like protocol
  Buffer.from(' FLAGS (\\Seen))\r\n'),
  Buffer.from('* 2 FETCH (BINARY[] ~{4}\r\n'),
  Buffer.from([0, 1, 0x0d, 0x0a]),
  Buffer.from(' BODY[TEXT] {0}\r\n)\r\n'),
  Buffer.from('* LIST (\\HasNoChildren) "/" {5}\r\nab cd\r\n'),
  Buffer.from('A1 OK done\r\n'),
]);

function assemble(frames: Frame[]): ImapMessage[] {
  const assembler = new MessageAssembler();
  return frames.map((f) => assembler.add(f)).filter((m): m is ImapMessage => m !== null);
}

describe('IMAP proxy framing', () => {
  it('reads literal announcements: sync, non-sync, binary, and none inside text', () => {
    expect(literalAnnouncement('A1 APPEND x {12}')).toEqual({ size: 12, nonSync: false, binary: false });
    expect(literalAnnouncement('A1 APPEND x {12+}')).toEqual({ size: 12, nonSync: true, binary: false });
    expect(literalAnnouncement('* 1 FETCH (BINARY[] ~{3}')).toEqual({ size: 3, nonSync: false, binary: true });
    expect(literalAnnouncement('* OK {5} is not at the end')).toBeNull();
  });

  it('splits into the same messages however the stream is cut', () => {
    const whole = assemble(new ImapFramer().push(STREAM));
    expect(whole.map((m) => messageBytes(m).toString('latin1').split('\r\n')[0])).toEqual([
      '* OK [CAPABILITY IMAP4rev1 STARTTLS IDLE] ready',
      '* 1 FETCH (UID 7 BODY[] {25}',
      '* 2 FETCH (BINARY[] ~{4}',
      '* LIST (\\HasNoChildren) "/" {5}',
      'A1 OK done',
    ]);
    expect(whole[1]!.literals).toEqual([Buffer.from('a\r\nA1 OK fake\r\n{3}\r\nxyz\r\n')]);
    expect(whole[2]!.literals).toEqual([Buffer.from([0, 1, 0x0d, 0x0a]), Buffer.alloc(0)]);
    expect(Buffer.concat(whole.map(messageBytes)).equals(STREAM)).toBe(true);

    // Every single cut point, and one byte at a time: same messages, same bytes.
    for (let cut = 1; cut < STREAM.length; cut++) {
      const framer = new ImapFramer();
      const frames = [...framer.push(STREAM.subarray(0, cut)), ...framer.push(STREAM.subarray(cut))];
      expect(assemble(frames), `cut at ${cut}`).toEqual(whole);
    }
    const framer = new ImapFramer();
    const bytewise = [...STREAM].flatMap((b) => framer.push(Buffer.from([b])));
    expect(assemble(bytewise)).toEqual(whole);
  });

  it('forgets a literal the proxy refused, so the next line is a new command', () => {
    const framer = new ImapFramer();
    const [line] = framer.push(Buffer.from('A1 UID MOVE 1 {4}\r\n'));
    expect(line).toMatchObject({ kind: 'line', literal: { size: 4 } });
    framer.cancelLiteral();
    expect(framer.push(Buffer.from('A2 NOOP\r\n'))).toMatchObject([{ kind: 'line', literal: null }]);
  });

  it('reads mailbox names as quoted strings, atoms and literals', () => {
    const names = (wire: string): Array<string | null> => {
      const [message] = assemble(new ImapFramer().push(Buffer.from(wire)));
      const reader = new TokenReader(message!);
      const out: Array<string | null> = [];
      while (!reader.atEnd()) out.push(reader.next());
      return out;
    };
    expect(names('A1 RENAME "a \\"b\\"" plain\r\n')).toEqual(['A1', 'RENAME', 'a "b"', 'plain']);
    expect(names('A1 CREATE {5+}\r\nx/y z\r\n')).toEqual(['A1', 'CREATE', 'x/y z']);

    const [list] = assemble(new ImapFramer().push(Buffer.from('* LIST (\\Noselect (x)) NIL {3}\r\na b\r\n')));
    const reader = new TokenReader(list!);
    reader.next();
    reader.next();
    reader.skipList();
    expect([reader.next(), reader.next()]).toEqual([null, 'a b']);
  });
});

describe('IMAP proxy rewrites', () => {
  it('edits capability lists only where they appear, and returns untouched text unchanged', () => {
    expect(rewriteCapabilities('* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED IDLE] hi', {})).toBe('* OK [CAPABILITY IMAP4rev1 IDLE] hi');
    expect(rewriteCapabilities('* CAPABILITY IMAP4rev1 MOVE IDLE SPECIAL-USE', { hideMove: true, hideIdle: true })).toBe('* CAPABILITY IMAP4rev1 SPECIAL-USE');
    expect(rewriteCapabilities('a1 OK [CAPABILITY IMAP4rev1 SPECIAL-USE MOVE] Logged in', { hideSpecialUse: true })).toBe(
      'a1 OK [CAPABILITY IMAP4rev1 MOVE] Logged in',
    );
    const untouched = '* OK [CAPABILITY IMAP4rev1 MOVE] hi';
    expect(rewriteCapabilities(untouched, {})).toBe(untouched);
    expect(rewriteCapabilities('* 1 FETCH (FLAGS (STARTTLS))', {})).toBe('* 1 FETCH (FLAGS (STARTTLS))');
  });

  it('strips special-use attributes and the \\Draft flag, and nothing else', () => {
    expect(stripSpecialUseAttributes('* LIST (\\HasNoChildren \\Drafts) "/" Drafts')).toBe('* LIST (\\HasNoChildren) "/" Drafts');
    expect(stripSpecialUseAttributes('* LIST (\\Trash) "/" Trash')).toBe('* LIST () "/" Trash');
    expect(stripSpecialUseAttributes('* LIST (\\HasChildren) "/" x')).toBe('* LIST (\\HasChildren) "/" x');
    expect(stripFlagFromLists('A1 APPEND "a\\\\Draft (x)" (\\Seen \\draft) {5+}', '\\Draft')).toBe('A1 APPEND "a\\\\Draft (x)" (\\Seen) {5+}');
  });

  it('recognises whole-body FETCH literals and IDLE notifications', () => {
    expect(announcesFetchedBody('* 1 FETCH (UID 3 BODY[] {120}')).toBe(true);
    expect(announcesFetchedBody('* 1 FETCH (BODY[]<0> {10}')).toBe(true);
    expect(announcesFetchedBody('* 1 FETCH (BINARY[] ~{10}')).toBe(true);
    expect(announcesFetchedBody('* 1 FETCH (BODY[HEADER] {10}')).toBe(false);
    expect(isIdleNotification('* 4 EXISTS')).toBe(true);
    expect(isIdleNotification('* 2 FETCH (FLAGS (\\Seen))')).toBe(true);
    expect(isIdleNotification('* OK Still here')).toBe(false);
  });
});
