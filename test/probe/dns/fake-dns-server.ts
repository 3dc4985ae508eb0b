import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import * as dnsPacket from 'dns-packet';
import type { Answer, DecodedPacket } from 'dns-packet';

/**
 * An in-process DNS server on 127.0.0.1 for what a real one cannot be made
 * to do: wrong ids, answers from another port, oversize or truncated
 * answers, silence. UDP and TCP share one port number, as a DNS server's do.
 */

export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

export interface UdpExchange {
  readonly query: DecodedPacket;
  readonly from: RemoteInfo;
  /** Sends bytes to the client from the server's own socket. */
  send(bytes: Buffer): void;
  /** Sends bytes to the client from another socket (another port). */
  sendFromStranger(bytes: Buffer): void;
}

export interface FakeDnsOptions {
  readonly udp: (exchange: UdpExchange) => void;
  /** Gets the query and the socket; writes what it likes. Without it, TCP connections are accepted and left silent. */
  readonly tcp?: (query: DecodedPacket, socket: Socket) => void;
}

export interface FakeDns {
  readonly port: number;
  readonly server: string;
  readonly udpQueries: DecodedPacket[];
  readonly tcpQueries: DecodedPacket[];
  close(): Promise<void>;
}

/** The answer to `query`: its id and question, the given answers and RCODE, and extra header flags (TC). */
export function response(query: DecodedPacket, answers: Answer[], options: { rcode?: number; flags?: number; id?: number } = {}): Buffer {
  return dnsPacket.encode({
    type: 'response',
    id: options.id ?? query.id,
    flags: (options.flags ?? 0) | (options.rcode ?? RCODE.NOERROR),
    questions: query.questions,
    answers,
  });
}

export function tlsaAnswer(name: string, bytes: number, fill = 0xab): Answer {
  return { type: 'TLSA', name, ttl: 60, class: 'IN', data: { usage: 3, selector: 1, matchingType: 1, certificate: Buffer.alloc(bytes, fill) } };
}

/** With the two-byte length prefix of DNS over TCP. */
export function framed(message: Buffer): Buffer {
  const length = Buffer.alloc(2);
  length.writeUInt16BE(message.length);
  return Buffer.concat([length, message]);
}

export async function startFakeDns(options: FakeDnsOptions): Promise<FakeDns> {
  for (let attempt = 0; ; attempt++) {
    const udp = createSocket('udp4');
    const stranger = createSocket('udp4');
    await Promise.all([bind(udp, 0), bind(stranger, 0)]);
    const port = udp.address().port;
    const sockets = new Set<Socket>();
    const tcp = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
      let buffered = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        if (buffered.length < 2 || buffered.length < 2 + buffered.readUInt16BE(0)) return;
        const query = dnsPacket.decode(buffered.subarray(2, 2 + buffered.readUInt16BE(0)));
        fake.tcpQueries.push(query);
        options.tcp?.(query, socket);
      });
    });
    const listening = await new Promise<boolean>((resolve) => {
      tcp.once('error', () => resolve(false));
      tcp.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (!listening) {
      udp.close();
      stranger.close();
      if (attempt >= 5) throw new Error('no port free for both UDP and TCP');
      continue;
    }
    const fake: FakeDns = {
      port,
      server: `127.0.0.1:${port}`,
      udpQueries: [],
      tcpQueries: [],
      async close() {
        for (const socket of sockets) socket.destroy();
        await Promise.all([closeUdp(udp), closeUdp(stranger), new Promise<void>((resolve) => (tcp as Server).close(() => resolve()))]);
      },
    };
    udp.on('message', (message: Buffer, from: RemoteInfo) => {
      const query = dnsPacket.decode(message);
      fake.udpQueries.push(query);
      options.udp({
        query,
        from,
        send: (bytes) => udp.send(bytes, from.port, from.address),
        sendFromStranger: (bytes) => stranger.send(bytes, from.port, from.address),
      });
    });
    return fake;
  }
}

function bind(socket: UdpSocket, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, '127.0.0.1', () => resolve());
  });
}

function closeUdp(socket: UdpSocket): Promise<void> {
  return new Promise((resolve) => socket.close(() => resolve()));
}
