import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectionBudget } from '../../src/transport/budget.js';
import { connect } from '../../src/transport/connect.js';
import { TransportError } from '../../src/transport/errors.js';
import { Transcript } from '../../src/transport/transcript.js';

/**
 * The per-host connection budget of `run --concurrency` (issue 10 §6), on real
 * sockets: a server on 127.0.0.1:0 counts the connections it holds open and
 * records when each arrived. The server closes each connection itself after a
 * while, so its count is the true number open (a client's slot comes back only
 * once the client sees the close). Counts are in windows of arrival times, never
 * assertions on how long anything took, except generous upper bounds.
 */
interface CountingServer {
  readonly port: number;
  /** Most connections open at once. */
  peak: number;
  open: number;
  /** performance.now() of each arrival. */
  readonly arrivals: number[];
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise<void>((resolve) => s.close(() => resolve()));
});

async function countingServer(holdMs: number | undefined): Promise<CountingServer> {
  const held = new Set<Socket>();
  const state = {
    port: 0,
    peak: 0,
    open: 0,
    arrivals: [] as number[],
  };
  const server = createServer((socket) => {
    state.arrivals.push(performance.now());
    state.open++;
    state.peak = Math.max(state.peak, state.open);
    held.add(socket);
    socket.on('error', () => undefined);
    const hangUp = () => socket.destroy();
    // Counted down as the server hangs up, before the client can see the close and ask for its next slot.
    socket.destroy = new Proxy(socket.destroy, {
      apply: (target, self, args) => {
        if (held.has(socket)) {
          held.delete(socket);
          state.open--;
        }
        return Reflect.apply(target, self, args);
      },
    });
    socket.on('end', () => socket.destroy());
    if (holdMs !== undefined) setTimeout(hangUp, holdMs);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  state.port = (server.address() as AddressInfo).port;
  return state;
}

const open = (port: number, gate: ReturnType<ReturnType<ConnectionBudget['lease']>['gate']>, extra: { signal?: AbortSignal; tcpMs?: number } = {}) =>
  connect({
    host: '127.0.0.1',
    port,
    security: 'none',
    transcript: new Transcript(),
    session: 'budget',
    gate,
    ...(extra.signal ? { signal: extra.signal } : {}),
    ...(extra.tcpMs !== undefined ? { timeouts: { dns: extra.tcpMs, tcp: extra.tcpMs, tls: extra.tcpMs } } : {}),
  });

/** The most arrivals inside any window of `ms`. */
function mostInWindow(arrivals: readonly number[], ms: number): number {
  const sorted = [...arrivals].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i]! - sorted[j]! >= ms) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

describe('the per-host connection budget', () => {
  it('never has more than M open to one host, nor more than R new in a second, with more scenarios asking than it allows', async () => {
    const M = 2;
    const R = 4;
    const server = await countingServer(150);
    const budget = new ConnectionBudget({ maxPerHost: M, connectsPerSecond: R });
    // Three scenarios (leases) at once, each opening four connections one after another, as a scenario's steps do:
    // each waits for its connection, uses it until the server hangs up, then opens the next.
    const scenario = async () => {
      const lease = budget.lease();
      for (let i = 0; i < 4; i++) {
        const c = await open(server.port, lease.gate('127.0.0.1'));
        await c.readLine({ phase: 'command' }).catch(() => undefined);
      }
    };
    await Promise.all([scenario(), scenario(), scenario()]);
    expect(server.arrivals).toHaveLength(12);
    expect(server.peak, 'connections open at once').toBeLessThanOrEqual(M);
    expect(server.peak, 'the bound was reached, so it was what held them back').toBe(M);
    // At most R arrivals in any window a little under a second (the margin absorbs loopback jitter)…
    expect(mostInWindow(server.arrivals, 900), 'new connections in a second').toBeLessThanOrEqual(R);
    // …and the rate did hold them back: twelve connections at four a second take more than two windows.
    expect(mostInWindow(server.arrivals, 2_000)).toBeLessThan(12);
    expect(budget.overruns).toBe(0);
    // Every slot comes back once its socket has closed (a moment after the read saw the end).
    for (let waited = 0; budget.openTo('127.0.0.1') > 0 && waited < 2_000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(budget.openTo('127.0.0.1')).toBe(0);
  });

  it('leases that wait for more while holding some, whose held connections end by themselves, never push past M', async () => {
    // Every holder is waiting at moments here, yet no deadlock: the server hangs up each connection after
    // a while. Taking that for a deadlock (as a first version did, at once) let a fourth past M = 3.
    const M = 3;
    const server = await countingServer(150);
    const budget = new ConnectionBudget({ maxPerHost: M, connectsPerSecond: 100 });
    const leases = [budget.lease(), budget.lease(), budget.lease()];
    const connections = await Promise.all(leases.flatMap((lease) => [0, 1, 2, 3].map(() => open(server.port, lease.gate('127.0.0.1')))));
    await Promise.all(connections.map((c) => c.readLine({ phase: 'command' }).catch(() => undefined)));
    expect(server.arrivals).toHaveLength(12);
    expect(server.peak, 'connections open at once').toBeLessThanOrEqual(M);
    expect(budget.overruns).toBe(0);
  });

  it('waiting for a slot is no phase of the connection: a TCP timeout far below the wait does not fire', async () => {
    const server = await countingServer(undefined);
    const budget = new ConnectionBudget({ maxPerHost: 1, connectsPerSecond: 100 });
    const first = await open(server.port, budget.lease().gate('127.0.0.1'));
    let secondSettled = false;
    const second = open(server.port, budget.lease().gate('127.0.0.1'), { tcpMs: 50 }).finally(() => {
      secondSettled = true;
    });
    // Hold the only slot well past the second connection's phase timeouts (50 ms).
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(secondSettled, 'the second connection waited for the slot').toBe(false);
    expect(server.arrivals).toHaveLength(1);
    first.destroy();
    const c = await second;
    expect(c.closed).toBe(false);
    expect(server.arrivals).toHaveLength(2);
    c.destroy();
  });

  it('Ctrl-C while waiting for a slot ends the wait promptly, with nothing connected', async () => {
    const server = await countingServer(undefined);
    const budget = new ConnectionBudget({ maxPerHost: 1, connectsPerSecond: 100 });
    const first = await open(server.port, budget.lease().gate('127.0.0.1'));
    const abort = new AbortController();
    const waiting = open(server.port, budget.lease().gate('127.0.0.1'), { signal: abort.signal });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = performance.now();
    abort.abort(new Error('interrupted by SIGINT'));
    const error = await waiting.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TransportError);
    expect((error as TransportError).code).toBe('EABORTED');
    expect(performance.now() - started, 'ends within a generous bound').toBeLessThan(2_000);
    expect(server.arrivals, 'the waiting connection never reached the server').toHaveLength(1);
    // The slot it never had is not lost: the next one gets the slot once the first goes.
    first.destroy();
    const next = await open(server.port, budget.lease().gate('127.0.0.1'));
    next.destroy();
    expect(server.arrivals).toHaveLength(2);
  });

  it('a lease that needs more than M by itself is let through rather than waiting for itself forever', async () => {
    const server = await countingServer(undefined);
    const budget = new ConnectionBudget({ maxPerHost: 1, connectsPerSecond: 100 });
    const lease = budget.lease();
    const a = await open(server.port, lease.gate('127.0.0.1'));
    const b = await open(server.port, lease.gate('127.0.0.1'));
    expect(budget.overruns).toBe(1);
    a.destroy();
    b.destroy();
  });
});
