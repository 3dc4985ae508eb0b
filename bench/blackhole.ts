import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A network namespace, created by the bench and removed afterwards, in which one address never answers: a TCP
 * connect to it sends SYNs that are dropped, so it neither completes nor is refused, and only the connect timeout
 * ends it. It is the far side of a veth pair whose peer is down (a veth drops what it cannot hand to a peer), with a
 * permanent neighbour entry so that no ARP failure ends the connect early. A listener that never calls accept()
 * would not do: the kernel completes the handshake for it. Nothing leaves the namespace.
 */
export interface Blackhole {
  /** The namespace; commands run in it with `ip netns exec NAME …`. */
  readonly name: string;
  /** The address whose SYNs are dropped. */
  readonly address: string;
  remove(): Promise<void>;
}

const ADDRESS = '10.255.0.2';

export async function createBlackhole(): Promise<Blackhole> {
  const name = `mailprobe-bench-${process.pid}`;
  await run('ip', ['netns', 'add', name]);
  const remove = async (): Promise<void> => {
    await run('ip', ['netns', 'del', name]).catch(() => undefined);
  };
  try {
    const inNs = (...args: string[]) => run('ip', ['netns', 'exec', name, 'ip', ...args]);
    await inNs('link', 'set', 'lo', 'up');
    await inNs('link', 'add', 'bh0', 'type', 'veth', 'peer', 'name', 'bh1');
    await inNs('addr', 'add', '10.255.0.1/24', 'dev', 'bh0');
    await inNs('link', 'set', 'bh0', 'up');
    await inNs('neigh', 'add', ADDRESS, 'lladdr', '02:00:00:00:00:02', 'dev', 'bh0', 'nud', 'permanent');
  } catch (err) {
    await remove();
    throw err;
  }
  return { name, address: ADDRESS, remove };
}

/** The argv that runs ARGV inside the namespace. */
export function inNamespace(blackhole: Blackhole, argv: readonly string[]): string[] {
  return ['ip', 'netns', 'exec', blackhole.name, ...argv];
}
