import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';

/**
 * A real DNS server for the DNS tests: dnsmasq (Debian's dnsmasq-base) on a
 * loopback address and a free high port, serving one made-up zone under the
 * reserved .test TLD and nothing else (no upstream, no /etc/hosts, no
 * config file). --local makes it the authority for the zone, so a name or a
 * type it has no record for gets NXDOMAIN or NODATA, not REFUSED.
 */

export const DNSMASQ = '/usr/sbin/dnsmasq';

export interface ZoneSpec {
  /** The zone, e.g. "example.test". */
  readonly zone: string;
  /** name → addresses (A and AAAA mixed). */
  readonly hosts?: Readonly<Record<string, readonly string[]>>;
  readonly mx?: readonly { readonly name: string; readonly exchange: string; readonly preference: number }[];
  /** target "." says the service is not offered. */
  readonly srv?: readonly { readonly name: string; readonly target: string; readonly port: number; readonly priority?: number; readonly weight?: number }[];
  /** Each entry is one TXT record of one or more strings. */
  readonly txt?: readonly { readonly name: string; readonly strings: readonly string[] }[];
  /** Any record as raw RDATA (type number, hex), e.g. TLSA (52) or the Null MX "0 ." (15, "000000"). */
  readonly raw?: readonly { readonly name: string; readonly type: number; readonly hex: string }[];
}

export interface RunningDnsmasq {
  readonly address: string;
  readonly port: number;
  /** The --dns-server form: "127.0.0.1:PORT" or "[::1]:PORT". */
  readonly server: string;
  readonly pid: number;
  stop(): Promise<void>;
}

export function dnsmasqArgs(spec: ZoneSpec, address: string, port: number): string[] {
  // On the command line dnsmasq takes no quotes (they would become part of the text) and splits strings at commas.
  const plain = (text: string): string => {
    if (text.includes(',')) throw new Error(`dnsmasq cannot serve a TXT string with a comma from its command line: ${text}`);
    return text;
  };
  return [
    '-C',
    '/dev/null',
    '-k',
    '--no-resolv',
    '--no-hosts',
    `--listen-address=${address}`,
    '--bind-interfaces',
    '-p',
    String(port),
    '--log-facility=-',
    `--local=/${spec.zone}/`,
    ...Object.entries(spec.hosts ?? {}).map(([name, addresses]) => `--host-record=${name},${addresses.join(',')}`),
    ...(spec.mx ?? []).map((mx) => `--mx-host=${mx.name},${mx.exchange},${mx.preference}`),
    ...(spec.srv ?? []).map((srv) => `--srv-host=${srv.name},${srv.target},${srv.port},${srv.priority ?? 0},${srv.weight ?? 0}`),
    ...(spec.txt ?? []).map((txt) => `--txt-record=${txt.name},${txt.strings.map(plain).join(',')}`),
    ...(spec.raw ?? []).map((rr) => `--dns-rr=${rr.name},${rr.type},${rr.hex}`),
  ];
}

/** A port nothing uses on `address` right now (never 5353, mDNS's). */
async function freeUdpPort(address: string): Promise<number> {
  for (;;) {
    const socket = createSocket(isIP(address) === 6 ? 'udp6' : 'udp4');
    const port = await new Promise<number>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, address, () => resolve(socket.address().port));
    });
    await new Promise<void>((resolve) => socket.close(() => resolve()));
    if (port !== 5353) return port;
  }
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** A test process that exits without afterAll closes the guards' stdin now, rather than when the OS reaps it. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const guard of running) guard.stdin?.destroy();
  });
}

/**
 * dnsmasq runs under a small sh guard that holds our pipe on its stdin: when
 * this process ends in any way (even SIGKILL, where no exit hook runs) the
 * pipe closes, the guard's read returns and it kills dnsmasq. The guard
 * prints dnsmasq's PID first, so stop() ends dnsmasq by its own PID.
 */
const GUARD = 'exec 3<&0; "$0" "$@" </dev/null & echo "$!"; read -r _ <&3; kill "$!" 2>/dev/null; wait';

export async function startDnsmasq(spec: ZoneSpec, address = '127.0.0.1'): Promise<RunningDnsmasq> {
  installExitHook();
  let lastError = '';
  // A free port can be taken between finding it and dnsmasq binding it: try a few.
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freeUdpPort(address);
    const guard = spawn('/bin/sh', ['-c', GUARD, DNSMASQ, ...dnsmasqArgs(spec, address, port)], { stdio: ['pipe', 'pipe', 'pipe'] });
    running.add(guard);
    let output = '';
    const pid = new Promise<number | undefined>((resolve) => {
      let stdout = '';
      guard.stdout?.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        const line = /^(\d+)\n/.exec(stdout);
        if (line !== null) resolve(Number(line[1]));
      });
      guard.once('exit', () => resolve(undefined));
    });
    guard.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<void>((resolve) => guard.once('exit', () => resolve()));
    guard.once('error', (error) => (lastError = error.message));
    const dnsmasqPid = await pid;
    const server = isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`;
    const alive = (): boolean => dnsmasqPid !== undefined && isRunning(dnsmasqPid);
    const ready = dnsmasqPid !== undefined && (await waitUntilAnswering(server, spec.zone, alive));
    const stop = async (): Promise<void> => {
      if (dnsmasqPid !== undefined && isRunning(dnsmasqPid)) process.kill(dnsmasqPid, 'SIGTERM');
      guard.stdin?.end();
      if (guard.exitCode === null && guard.signalCode === null) await exited;
      running.delete(guard);
    };
    if (ready && dnsmasqPid !== undefined) return { address, port, server, pid: dnsmasqPid, stop };
    await stop();
    lastError = output.trim() || lastError || 'dnsmasq did not answer';
  }
  throw new Error(`dnsmasq did not start on ${address}: ${lastError}`);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Until dnsmasq answers a question about its zone (any answer, NXDOMAIN included); false after 10 s or once it has died. */
async function waitUntilAnswering(server: string, zone: string, alive: () => boolean): Promise<boolean> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && alive()) {
    const resolver = new Resolver({ timeout: 200, tries: 1 });
    resolver.setServers([server]);
    try {
      await resolver.resolve4(`readiness-check.${zone}`);
      return true;
    } catch (error) {
      if (['ENOTFOUND', 'ENODATA'].includes((error as NodeJS.ErrnoException).code ?? '')) return true;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}
