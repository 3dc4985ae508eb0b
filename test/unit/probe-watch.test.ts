import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { watchProbe } from '../../src/cli/probe-watch.js';
import { finding } from '../../src/probe/findings.js';
import type { HostReport } from '../../src/probe/host-probe.js';
import { SAMPLE_HOST, samplePort, sampleHostReport } from '../support/probe-sample.js';

/**
 * The --watch loop (src/cli/probe-watch.ts) with scripted rounds: it is
 * bounded by rounds (the script aborts after the last), never by the clock;
 * the pause between rounds is a few milliseconds here (the CLI's minimum is 5 s).
 */
class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _e: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

const refused110 = (): HostReport => sampleHostReport();
const open110 = (): HostReport => {
  const r = sampleHostReport();
  const ports = r.ports.map((p) =>
    p.port !== 110
      ? p
      : samplePort('127.0.0.1', 110, { expected: p.expected, spoken: 'pop3', tls: { outcome: 'ok' } }, (w) => [
          finding('port-ok', w, 'greeting', { spoken: 'POP3', security: ' and STARTTLS works' }),
        ]),
  );
  return { host: SAMPLE_HOST, ports, findings: ports.flatMap((p) => p.findings) };
};

type Step = (() => HostReport) | Error | 'abort-in-round';

async function watch(script: readonly Step[]) {
  const abort = new AbortController();
  const stdout = new Capture();
  const said: string[] = [];
  const after: boolean[] = [];
  let n = 0;
  const code = await watchProbe(0.005, {
    round: async () => {
      const step = script[n++];
      if (step === undefined) throw new Error('the script ran out: the watch did not stop');
      if (step === 'abort-in-round') {
        abort.abort();
        throw new Error('aborted');
      }
      if (step instanceof Error) throw step;
      return { hosts: [step()] };
    },
    afterRound: async (_reports, first) => {
      after.push(first);
      if (n === script.length) abort.abort();
      return 0;
    },
    say: (line) => said.push(line),
    stdout,
    signal: abort.signal,
    now: () => new Date(Date.UTC(2026, 11, 1, 17, 0, 0)),
  });
  return { code, stdout: stdout.text, said, after, rounds: n };
}

describe('--watch loop', () => {
  it('round 1 announces itself; an unchanged round prints nothing; a changed one prints its changes under a timestamp', async () => {
    const r = await watch([refused110, refused110, open110]);
    expect(r.code).toBe(130);
    expect(r.rounds).toBe(3);
    expect(r.after).toEqual([true, false, false]);
    expect(r.stdout).toBe(
      [
        '2026-12-01T17:00:00Z round 1; watching every 0.005 s, printing only what changes (Ctrl-C ends)',
        '2026-12-01T17:00:00Z round 3: 3 changes',
        '  port 127.0.0.1:110: refused → connected, answers pop3, tls ok',
        '  + ok    127.0.0.1:110  port-ok  port 110 speaks POP3 and STARTTLS works',
        '  - info  127.0.0.1:110  tcp-refused  port 110 refused the connection',
        '',
      ].join('\n'),
    );
    expect(r.said).toEqual(['mailprobe probe: interrupted; the watch ended']);
  });

  it('a round that could not happen is said on stderr, and the watch compares the next with the last good one', async () => {
    const r = await watch([refused110, new Error('cannot resolve mail.example.test: ETIMEOUT'), refused110]);
    expect(r.said[0]).toBe('2026-12-01T17:00:00Z round 2: could not probe: cannot resolve mail.example.test: ETIMEOUT');
    expect(r.stdout).not.toContain('round 3');
    expect(r.after).toEqual([true, false]);
  });

  it('Ctrl-C inside a round: 130, and the interrupted round is neither compared nor written', async () => {
    const r = await watch([refused110, 'abort-in-round']);
    expect(r.code).toBe(130);
    expect(r.after).toEqual([true]);
    expect(r.said).toEqual(['mailprobe probe: interrupted; the watch ended']);
  });
});
