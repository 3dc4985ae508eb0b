import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeMailHost, Pop3Faults } from '../../fixtures/servers/fake-mail-host.js';
import type { TestCertificate } from '../../fixtures/servers/test-cert.js';
import { DOTTED_BODY, PLAIN_BODY, message, startHost, withTempCert } from './setup.js';
import { WireClient, linesOf, unstuff } from './wire-client.js';

/**
 * Each observation checks one RFC behaviour a shipped scenario relies on, on a
 * fresh host, and says whether the server honoured it. The table below then
 * shows that every fault flag breaks exactly the observations it names and
 * leaves all the others intact.
 */
type Observation = (host: FakeMailHost, cert: TestCertificate) => Promise<boolean>;

// Set once the test certificate exists: a host with TLS takes no password on its clear port.
let testCa: string | undefined;

/** A connection on which a password may be sent: POP3S where the host has TLS. */
async function secureConnection(host: FakeMailHost): Promise<WireClient> {
  const { client } = host.pop3sPort !== undefined ? await WireClient.open(host.pop3sPort, { ca: testCa! }) : await WireClient.open(host.pop3Port);
  return client;
}

async function session(host: FakeMailHost): Promise<WireClient> {
  const client = await secureConnection(host);
  const reply = await client.login('alice', 'alice-secret');
  if (!reply.startsWith('+OK')) throw new Error(`login failed: ${reply}`);
  return client;
}

function seed(host: FakeMailHost, bodies: string[][] = [PLAIN_BODY, PLAIN_BODY]): void {
  for (const [i, body] of bodies.entries()) host.deliver('alice', message(`m${i}`, body));
}

const observations = {
  /** RFC 1939 §6: marks take effect only in UPDATE state; a drop leaves the message. */
  async deleCommitsOnlyAtQuit(host) {
    seed(host);
    const a = await session(host);
    await a.cmd('DELE 1');
    await a.drop();
    await host.maildropUnlocked('alice');
    const b = await session(host);
    return (await b.cmd('STAT')).startsWith('+OK 2 ') && host.maildrop('alice').length === 2;
  },
  /** RFC 1939 §6: QUIT in TRANSACTION state removes the marked messages. */
  async quitExpunges(host) {
    seed(host);
    const a = await session(host);
    await a.cmd('DELE 1');
    await a.quit();
    const b = await session(host);
    return (await b.cmd('STAT')).startsWith('+OK 1 ') && host.maildrop('alice').length === 1;
  },
  /** RFC 1939 §5 RSET: unmarks everything, seen in the same session. */
  async rsetClearsMarks(host) {
    seed(host);
    const a = await session(host);
    await a.cmd('DELE 1');
    await a.cmd('RSET');
    return (await a.cmd('STAT')).startsWith('+OK 2 ') && (await a.multi('RETR 1')).status.startsWith('+OK');
  },
  /** RFC 1939 §5: a message marked deleted may not be referred to. */
  async deletedRefused(host) {
    seed(host);
    const a = await session(host);
    await a.cmd('DELE 1');
    const replies = [await a.cmd('RETR 1'), await a.cmd('LIST 1'), await a.cmd('TOP 1 0')];
    return replies.every((r) => r.startsWith('-ERR'));
  },
  /** RFC 1939 §5 STAT: messages marked deleted are not counted. */
  async statSkipsDeleted(host) {
    seed(host);
    const a = await session(host);
    await a.cmd('DELE 1');
    return (await a.cmd('STAT')).startsWith('+OK 1 ');
  },
  /** RFC 1939 §6, §8: while one session holds marks, another sees the maildrop unchanged, or is refused with [IN-USE]. */
  async marksStayInSession(host) {
    seed(host);
    const a = await session(host);
    await a.cmd('DELE 1');
    const b = await secureConnection(host);
    const login = await b.login('alice', 'alice-secret');
    const seen = login.startsWith('+OK') ? (await b.cmd('STAT')).startsWith('+OK 2 ') : login.includes('[IN-USE]');
    await b.drop();
    await a.drop();
    return seen;
  },
  /** RFC 1939 §6: after QUIT removed a message, a new session counts (STAT) and lists (LIST, UIDL) only what remains. */
  async removedStayGone(host) {
    seed(host);
    const a = await session(host);
    await a.multi('RETR 1');
    await a.cmd('DELE 1');
    await a.quit();
    const b = await session(host);
    const counted = (await b.cmd('STAT')).startsWith('+OK 1 ');
    return counted && linesOf((await b.multi('LIST')).body).length === 1 && linesOf((await b.multi('UIDL')).body).length === 1;
  },
  /** RFC 1939 §7 UIDL: the same message keeps its id across sessions. */
  async uidlStable(host) {
    seed(host);
    const a = await session(host);
    const first = (await a.multi('UIDL')).body;
    await a.quit();
    const b = await session(host);
    return (await b.multi('UIDL')).body.equals(first);
  },
  /** RFC 1939 §5, §11: LIST/STAT sizes are the octets RETR sends (CRLF, unstuffed). */
  async sizesMatchRetr(host) {
    seed(host);
    const a = await session(host);
    const sizes = linesOf((await a.multi('LIST')).body).map((l) => Number(l.split(' ')[1]));
    const retrieved = [unstuff((await a.multi('RETR 1')).body).length, unstuff((await a.multi('RETR 2')).body).length];
    const stat = await a.cmd('STAT');
    return sizes.join() === retrieved.join() && stat === `+OK 2 ${retrieved[0]! + retrieved[1]!}`;
  },
  /** RFC 1939 §3: every body line starting with '.' goes out with an extra '.', and only those. */
  async dotStuffing(host) {
    seed(host, [DOTTED_BODY]);
    const expected = message('m0', DOTTED_BODY).toString('latin1').replace(/\r\n$/, '').split('\r\n');
    const a = await session(host);
    // Compare only the dot structure, so a fault that flips a letter is not counted here.
    const got = linesOf((await a.multi('RETR 1')).body);
    return (
      got.length === expected.length &&
      got.every((line, i) => line.startsWith('.') === expected[i]!.startsWith('.') && (line === `.${expected[i]}` || !line.startsWith('.')))
    );
  },
  /** The bytes RETR delivers, unstuffed, are the stored message exactly. */
  async retrExact(host) {
    seed(host);
    const a = await session(host);
    return unstuff((await a.multi('RETR 1')).body).equals(host.maildrop('alice')[0]!.raw);
  },
  /** RFC 2595: STLS in CAPA, STLS upgrades with a verifiable certificate, login works after it. */
  async stlsOffered(host, cert) {
    const { client } = await WireClient.open(host.pop3Port);
    if (!linesOf((await client.multi('CAPA')).body).includes('STLS')) return false;
    if (!(await client.cmd('STLS')).startsWith('+OK')) return false;
    await client.startTls(cert.ca);
    const capaAfter = linesOf((await client.multi('CAPA')).body);
    return client.encrypted && !capaAfter.includes('STLS') && (await client.login('alice', 'alice-secret')).startsWith('+OK');
  },
  /** RFC 2595 §2.3: before STLS the clear port neither lists nor takes USER/PASS or SASL PLAIN. */
  async plaintextRefusedBeforeStls(host) {
    const { client } = await WireClient.open(host.pop3Port);
    const capa = linesOf((await client.multi('CAPA')).body);
    if (capa.includes('USER') || capa.some((l) => /^SASL .*\bPLAIN\b/.test(l))) return false;
    return (await client.cmd('USER alice')).startsWith('-ERR') && (await client.cmd('AUTH PLAIN')).startsWith('-ERR');
  },
  /** Implicit TLS (POP3S) works; no fault should touch it. */
  async pop3sWorks(host, cert) {
    const { client, greeting } = await WireClient.open(host.pop3sPort!, { ca: cert.ca });
    return greeting.startsWith('+OK') && (await client.login('alice', 'alice-secret')).startsWith('+OK');
  },
} satisfies Record<string, Observation>;

type ObservationName = keyof typeof observations;

async function observe(faults: Pop3Faults, cert: TestCertificate): Promise<Record<ObservationName, boolean>> {
  const result = {} as Record<ObservationName, boolean>;
  for (const [name, check] of Object.entries(observations) as Array<[ObservationName, Observation]>) {
    const host = await startHost({ ...faults }, cert);
    try {
      result[name] = await check(host, cert);
    } finally {
      await host.close();
    }
  }
  return result;
}

const allPass = Object.fromEntries(Object.keys(observations).map((k) => [k, true])) as Record<ObservationName, boolean>;

// Which observations each fault must break: exactly these, and no others.
const breaks: Record<keyof Required<Pop3Faults>, ObservationName[]> = {
  deleteAtDele: ['deleCommitsOnlyAtQuit'],
  ignoreRset: ['rsetClearsMarks'],
  serveDeleted: ['deletedRefused'],
  unstableUidl: ['uidlStable'],
  wrongListSize: ['sizesMatchRetr'],
  noDotStuffing: ['dotStuffing'],
  noStlsCapa: ['stlsOffered'],
  keepAfterQuit: ['quitExpunges', 'removedStayGone'],
  corruptRetr: ['retrExact'],
  listDeleted: ['deletedRefused'],
  statCountsDeleted: ['statSkipsDeleted'],
  wrongStatSize: ['sizesMatchRetr'],
  stlsAfterUpgrade: ['stlsOffered'],
  hideMarkedElsewhere: ['marksStayInSession'],
  statShowsRemoved: ['removedStayGone'],
  plaintextBeforeStls: ['plaintextRefusedBeforeStls'],
  overflowingStat: ['sizesMatchRetr'],
  negativeListSize: ['sizesMatchRetr'],
};

describe('POP3 fault flags', () => {
  let cert: TestCertificate;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ cert, cleanup } = await withTempCert());
    testCa = cert.ca;
  });
  afterAll(() => cleanup());

  it('the well-behaved server passes every observation', async () => {
    expect(await observe({}, cert)).toEqual(allPass);
  });

  it.each(Object.entries(breaks) as Array<[keyof Pop3Faults, ObservationName[]]>)('%s breaks exactly %j', async (fault, broken) => {
    const expected = { ...allPass };
    for (const name of broken) expected[name] = false;
    expect(await observe({ [fault]: true }, cert)).toEqual(expected);
  });

  it('noDotStuffing lets a lone "." body line end the response early', async () => {
    const host = await startHost({ noDotStuffing: true });
    try {
      host.deliver('alice', message('dots', DOTTED_BODY));
      const a = await session(host);
      const { body } = await a.multi('RETR 1');
      // Lines go out as stored: a client unstuffs "..two dots" to ".two dots", loses the
      // dot of ".hidden line", then stops at the bare "." line; the rest of the body
      // arrives as if it were replies to later commands.
      expect(linesOf(body).slice(-3)).toEqual(['Dots ahead:', '.hidden line', '..two dots']);
      expect(await a.readLine()).toBe('after a lone dot');
    } finally {
      await host.close();
    }
  });

  it('deleteAtDele removes the message from the maildrop at DELE, before any QUIT', async () => {
    const host = await startHost({ deleteAtDele: true });
    try {
      seed(host);
      const a = await session(host);
      await a.cmd('DELE 1');
      expect(host.maildrop('alice')).toHaveLength(1);
    } finally {
      await host.close();
    }
  });

  it('faults are live: flipping one between sessions changes the next session', async () => {
    const host = await startHost();
    try {
      seed(host);
      const a = await session(host);
      const before = (await a.multi('UIDL')).body;
      await a.quit();
      host.faults.unstableUidl = true;
      const b = await session(host);
      expect((await b.multi('UIDL')).body.equals(before)).toBe(false);
      await b.quit();
      host.faults.unstableUidl = false;
      const c = await session(host);
      expect((await c.multi('UIDL')).body.equals(before)).toBe(true);
    } finally {
      await host.close();
    }
  });

  it('per-command overrides can split a reply across writes', async () => {
    const host = await startHost();
    try {
      host.pop3Overrides.NOOP = (_args, io) => {
        if (io.state !== 'transaction') return false;
        io.write('+O');
        io.write('K spl');
        io.write('it\r\n');
        return true;
      };
      const a = await session(host);
      expect(await a.cmd('NOOP')).toBe('+OK split');
    } finally {
      await host.close();
    }
  });
});
