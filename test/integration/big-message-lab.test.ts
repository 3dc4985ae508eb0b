import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { generateMessage } from '../../src/protocols/smtp/generated-message.js';
import { loadSuiteChecks, outcomeOf } from '../support/checks.js';
import { startLabPop3Proxy, startLabProxy } from '../support/lab-proxy.js';
import { labEnv, REPO_ROOT, runSuite, summarize } from '../support/run-suite.js';

/**
 * Issue 12: "a 25 MB message round-trips on both protocols". The example
 * scenario submits a generated 25,000,000-octet message to the Dovecot lab,
 * saves it by IMAP (partial fetches) and by POP3 (RETR) and checks each copy
 * on disk against its own X-Mailprobe-Body header. Here each copy is also
 * checked byte for byte against the generator: the message is generated again
 * from the run id, Message-ID and Date the copy carries, and the copy must end
 * with exactly those octets (what is before them: the lab's trace fields).
 */
const SIZE = 25_000_000;
const EXAMPLE = join(REPO_ROOT, 'examples', 'big-message.yaml');

async function tailSha256(path: string, octets: number): Promise<string> {
  const { size } = await stat(path);
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { start: size - octets })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function headOf(path: string): Promise<string> {
  for await (const chunk of createReadStream(path, { end: 64 * 1024 })) return (chunk as Buffer).toString('latin1');
  return '';
}

function field(head: string, name: string): string {
  const match = new RegExp(`\\r\\n${name}: ([^\\r\\n]*)\\r\\n`, 'i').exec(`\r\n${head}`);
  if (!match) throw new Error(`no ${name} in the copy`);
  return match[1] as string;
}

describe('a 25 MB message against the Dovecot lab', () => {
  it('round-trips by IMAP FETCH and POP3 RETR into local copies that are byte-exact', { timeout: 180_000 }, async () => {
    const lab = inject('lab');
    const messagesDir = await mkdtemp(join(tmpdir(), 'mailprobe-big-'));
    try {
      const { result } = await runSuite({
        targetFile: lab.targetFile,
        env: await labEnv(lab.envFile),
        paths: [EXAMPLE],
        messagesDir,
      });
      const scenario = result.scenarios[0];
      expect(scenario?.state, summarize(result)).toBe('passed');
      expect(scenario?.leftovers).toEqual([]);
      // The transfers went in pieces: many partial fetches, no whole BODY.PEEK[].
      const clientLines = scenario?.steps.flatMap((s) => s.transcript.filter((t) => t.direction === 'client').map((t) => t.text)) ?? [];
      const partials = clientLines.filter((l) => /BODY\.PEEK\[\]<\d+\.\d+>/.test(l));
      expect(partials.length).toBeGreaterThanOrEqual(Math.ceil(SIZE / (1024 * 1024)));
      expect(clientLines.some((l) => /BODY\.PEEK\[\](?!<)/.test(l))).toBe(false);
      expect(clientLines.some((l) => new RegExp(`^MAIL FROM:<[^>]*> SIZE=${SIZE}$`).test(l))).toBe(true);

      const copies = (await readdir(messagesDir, { recursive: true })).filter((f) => f.endsWith('.eml'));
      expect(copies.length).toBe(2);
      for (const copy of copies) {
        const path = join(messagesDir, copy);
        const head = await headOf(path);
        const again = generateMessage({
          runId: field(head, 'X-Mailprobe-Run'),
          from: field(head, 'From'),
          to: field(head, 'To').split(', '),
          subject: field(head, 'Subject'),
          size: SIZE,
          date: new Date(field(head, 'Date')),
          messageId: field(head, 'Message-ID'),
        });
        expect((await stat(path)).size, copy).toBeGreaterThanOrEqual(SIZE);
        expect(await tailSha256(path, SIZE), copy).toBe(again.sha256);
      }
    } finally {
      await rm(messagesDir, { recursive: true, force: true });
    }
  });

  it('leaves the message unread even when a proxy turns the partial BODY.PEEK fetches into BODY[] (INBOX is opened with EXAMINE)', {
    timeout: 180_000,
  }, async () => {
    // Two guards against \Seen on other mail: PEEK, and a read-only EXAMINE of any mailbox outside the run's folders.
    // With the first one taken away by the proxy, the second still holds: the flags read after the download have no \Seen.
    const { proxy, targetFile, env, dir } = await startLabProxy(inject('lab'), 'big-peek');
    try {
      proxy.mutations.peekSetsSeen = true;
      const { result } = await runSuite({ targetFile, env, paths: [EXAMPLE], messagesDir: dir });
      const scenario = result.scenarios[0];
      expect(scenario?.state, summarize(result)).toBe('passed');
      const save = scenario?.steps.find((s) => s.name === 'IMAP saves a local copy in partial fetches');
      const lines = save?.transcript.map((t) => `${t.direction} ${t.text}`) ?? [];
      const flags = lines.filter((l) => /^server \* \d+ FETCH \(UID \d+ FLAGS /.test(l));
      expect(flags.length).toBeGreaterThan(0);
      for (const line of flags) expect(line).not.toMatch(/\\Seen/);
      expect(scenario?.leftovers).toEqual([]);
    } finally {
      await proxy.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
  /**
   * The example's IMAP checks that cite a clause, each shown to be the first to fail under a proxy fault: a server
   * that sends other octets than it stores, and one that sets \Seen on a read with PEEK in a read-only mailbox.
   * (Under either fault alone, the \Seen check passes: see the test above.)
   */
  for (const [faults, firstFailing, clause] of [
    [['corruptFetchedBody'], 'IMAP saves a local copy in partial fetches › body_verified equals true', 'RFC 9051 §6.4.5 (FETCH BODY[]<partial>)'],
    [['peekSetsSeen', 'examineIsSelect'], 'IMAP saves a local copy in partial fetches › flags not_contains \\Seen', 'RFC 9051 §6.4.5 (BODY.PEEK)'],
  ] as const) {
    it(`fails first at "${firstFailing}" under ${faults.join(' + ')}`, { timeout: 180_000 }, async () => {
      const { proxy, targetFile, env, dir } = await startLabProxy(inject('lab'), 'big-fault');
      try {
        for (const fault of faults) proxy.mutations[fault] = true;
        const { result } = await runSuite({ targetFile, env, paths: [EXAMPLE], messagesDir: dir });
        const scenario = result.scenarios[0]!;
        expect(outcomeOf(scenario, await loadSuiteChecks([EXAMPLE])), summarize(result)).toBe(`failed at ${scenario.id} › ${firstFailing}`);
        if (scenario.state === 'failed') expect(scenario.failure.rfc).toBe(clause);
        // The run's own message is still cleaned up (by POP3), whatever the IMAP side did.
        expect(scenario.leftovers).toEqual([]);
      } finally {
        await proxy.close();
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
  /** And its POP3 checks that cite a clause, each the first to fail under a fault of a POP3 proxy in front of the lab. */
  // The first row: the proxy alone changes no verdict, so the fault is what each other row's failure comes from.
  for (const [fault, firstFailing, clause] of [
    [undefined, undefined, undefined],
    ['corruptRetrBody', 'POP3 saves a local copy as RETR reads it › body_verified equals true', 'RFC 1939 §7 (RETR)'],
    [
      'inflateListSizes',
      'POP3 saves a local copy as RETR reads it › octets equals ${captures.found.size}',
      'RFC 1939 §5 (LIST: the exact size of the message in octets)',
    ],
  ] as const) {
    it(`${firstFailing === undefined ? 'passes through the POP3 proxy with no fault' : `fails first at "${firstFailing}" under the POP3 fault ${fault}`}`, {
      timeout: 180_000,
    }, async () => {
      const { proxy, targetFile, env, dir } = await startLabPop3Proxy(inject('lab'), 'big-pop3-fault');
      try {
        if (fault !== undefined) proxy.faults[fault] = true;
        const { result } = await runSuite({ targetFile, env, paths: [EXAMPLE], messagesDir: dir });
        const scenario = result.scenarios[0]!;
        const outcome = outcomeOf(scenario, await loadSuiteChecks([EXAMPLE]));
        expect(outcome, summarize(result)).toBe(firstFailing === undefined ? 'passed' : `failed at ${scenario.id} › ${firstFailing}`);
        if (scenario.state === 'failed') expect(scenario.failure.rfc).toBe(clause);
        expect(scenario.leftovers).toEqual([]);
      } finally {
        await proxy.close();
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
});
