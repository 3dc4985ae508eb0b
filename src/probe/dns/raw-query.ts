import { randomInt } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { isIP, type Socket } from 'node:net';
import * as dnsPacket from 'dns-packet';
import type { Answer, DecodedPacket, RecordType } from 'dns-packet';
import { tcpConnect } from '../../transport/connect.js';
import { TransportError, isTransportError } from '../../transport/errors.js';
import { waitPhase } from '../../transport/phase.js';
import { DnsLookupError, kindOfRcode } from './errors.js';
import { formatDnsServer, type DnsServer } from './servers.js';

/**
 * One DNS question asked with dns-packet over node:dgram, for the record
 * types Node's Resolver cannot ask (TLSA on Node 20). Server bytes are
 * hostile input: an answer counts only if it comes from the server's own
 * address and port, carries the random id of the query and repeats its
 * question; anything else is ignored as a possible spoof (the attempt then
 * runs into its timeout). A truncated answer (TC) is asked again over TCP.
 */

export interface RawQueryLimits {
  /** Largest UDP answer read. The query carries no EDNS, so a server may send at most 512 bytes (RFC 1035 §4.2.1). */
  readonly maxUdpBytes: number;
  /** Largest TCP answer read (the message behind the two-byte length). */
  readonly maxTcpBytes: number;
}

export const DEFAULT_RAW_QUERY_LIMITS: RawQueryLimits = { maxUdpBytes: 512, maxTcpBytes: 65_535 };

export interface RawQueryOptions {
  /** Per attempt, and again for the TCP retry's connect and its answer. */
  readonly timeoutMs: number;
  /** UDP attempts before giving up with a timeout. */
  readonly tries: number;
  readonly signal?: AbortSignal | undefined;
  readonly limits?: Partial<RawQueryLimits> | undefined;
}

/** The answers of `type` for `name`; [] for NXDOMAIN or no data. Throws DnsLookupError when no answer could be had. */
export async function rawQuery(server: DnsServer, name: string, type: RecordType, options: RawQueryOptions): Promise<Answer[]> {
  const limits = { ...DEFAULT_RAW_QUERY_LIMITS, ...options.limits };
  const query = { name, type };
  let response: DecodedPacket | undefined;
  for (let attempt = 1; attempt <= Math.max(1, options.tries) && response === undefined; attempt++) {
    try {
      response = await udpAttempt(server, query, limits, options);
    } catch (error) {
      if (!(error instanceof DnsLookupError) || error.kind !== 'timeout' || attempt >= options.tries) throw error;
    }
  }
  if (response === undefined) throw new DnsLookupError('timeout', query, `no answer from ${formatDnsServer(server)} for ${name} ${type}`);
  // TC: "longer messages are truncated and the TC bit is set" (RFC 1035 §4.2.1); the whole answer is asked for again over TCP.
  if (response.flag_tc) response = await tcpAttempt(server, query, limits, options);
  return answersOf(response, server, query);
}

interface Question {
  readonly name: string;
  readonly type: RecordType;
}

function encodeQuery(id: number, question: Question): dnsPacket.Packet {
  return { type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: question.type, name: question.name, class: 'IN' }] };
}

function answersOf(response: DecodedPacket, server: DnsServer, question: Question): Answer[] {
  const rcode = (response as DecodedPacket & { rcode?: string }).rcode ?? 'NOERROR';
  const kind = kindOfRcode(rcode);
  if (kind !== undefined) throw new DnsLookupError(kind, question, `${formatDnsServer(server)} answered ${rcode} for ${question.name} ${question.type}`);
  return (response.answers ?? []).filter((answer) => answer.type === question.type);
}

/** Is this the answer to our query: a response with our id, repeating our question? */
function answersQuestion(packet: DecodedPacket, id: number, question: Question): boolean {
  if (packet.id !== id || packet.type !== 'response') return false;
  const asked = packet.questions?.[0];
  return (
    packet.questions?.length === 1 &&
    asked !== undefined &&
    asked.type === question.type &&
    asked.name.toLowerCase().replace(/\.$/, '') === question.name.toLowerCase().replace(/\.$/, '')
  );
}

function tryDecode(bytes: Buffer): DecodedPacket | undefined {
  try {
    return dnsPacket.decode(bytes);
  } catch {
    return undefined;
  }
}

function asLookupError(error: unknown, question: Question, server: DnsServer): unknown {
  if (!isTransportError(error)) return error;
  const kind = error.code === 'EABORTED' ? 'aborted' : error.code === 'ETIMEOUT' ? 'timeout' : 'unreachable';
  // The timeout texts are already ours and name the server; the tcp phase's own texts need the query added.
  const message = error.phase === 'dns' ? error.message : `${question.name} ${question.type} at ${formatDnsServer(server)}: ${error.message}`;
  return new DnsLookupError(kind, question, message, { cause: error });
}

function udpAttempt(server: DnsServer, question: Question, limits: RawQueryLimits, options: RawQueryOptions): Promise<DecodedPacket> {
  const id = randomInt(0, 0x1_0000);
  const where = formatDnsServer(server);
  let socket: UdpSocket | undefined;
  return waitPhase<DecodedPacket>({
    phase: 'dns',
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    onTimeout: () => new TransportError('ETIMEOUT', 'dns', `no answer from ${where} for ${question.name} ${question.type} within ${options.timeoutMs} ms`),
    start: (resolve, reject) => {
      socket = createSocket(isIP(server.address) === 6 ? 'udp6' : 'udp4');
      socket.on('message', (message: Buffer, from: RemoteInfo) => {
        // Not connected on purpose: every datagram is seen here, and only the server's own address and port count.
        if (from.address !== server.address || from.port !== server.port) return;
        if (message.length > limits.maxUdpBytes) {
          reject(
            new DnsLookupError(
              'bad-response',
              question,
              `${where} sent a ${message.length}-byte UDP answer for ${question.name} ${question.type}; at most ${limits.maxUdpBytes} are read`,
            ),
          );
          return;
        }
        const packet = tryDecode(message);
        if (packet !== undefined && answersQuestion(packet, id, question)) resolve(packet);
        else if (packet === undefined && message.length >= 2 && message.readUInt16BE(0) === id)
          reject(new DnsLookupError('bad-response', question, `${where} sent an answer for ${question.name} ${question.type} that is not a DNS message`));
        // Otherwise a stray or spoofed datagram: ignored, the attempt waits on.
      });
      socket.on('error', (error) =>
        reject(new DnsLookupError('unreachable', question, `${question.name} ${question.type} at ${where}: ${error.message}`, { cause: error })),
      );
      socket.send(dnsPacket.encode(encodeQuery(id, question)), server.port, server.address);
      return () => socket?.close();
    },
  })
    .catch((error: unknown) => {
      throw asLookupError(error, question, server);
    })
    .finally(() => {
      try {
        socket?.close();
      } catch {
        // already closed by the cancel
      }
    });
}

async function tcpAttempt(server: DnsServer, question: Question, limits: RawQueryLimits, options: RawQueryOptions): Promise<DecodedPacket> {
  const id = randomInt(0, 0x1_0000);
  const where = formatDnsServer(server);
  let socket: Socket;
  try {
    socket = await tcpConnect(server.address, server.address, server.port, options.timeoutMs, options.signal);
  } catch (error) {
    throw asLookupError(error, question, server);
  }
  return waitPhase<DecodedPacket>({
    phase: 'dns',
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    onTimeout: () => new TransportError('ETIMEOUT', 'dns', `no TCP answer from ${where} for ${question.name} ${question.type} within ${options.timeoutMs} ms`),
    start: (resolve, reject) => {
      const chunks: Buffer[] = [];
      let received = 0;
      const fail = (message: string): void => reject(new DnsLookupError('bad-response', question, `${where} over TCP: ${message}`));
      socket.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        received += chunk.length;
        const bytes = Buffer.concat(chunks, received);
        if (bytes.length < 2) return;
        // RFC 1035 §4.2.2: each message is prefixed with a two byte length field.
        const length = bytes.readUInt16BE(0);
        if (length > limits.maxTcpBytes)
          return fail(`an answer of ${length} bytes for ${question.name} ${question.type}; at most ${limits.maxTcpBytes} are read`);
        if (bytes.length < 2 + length) return;
        const packet = tryDecode(bytes.subarray(2, 2 + length));
        if (packet === undefined) return fail(`the answer for ${question.name} ${question.type} is not a DNS message`);
        // On our own TCP connection a wrong id or question is no spoof but a broken server.
        if (!answersQuestion(packet, id, question)) return fail(`the answer does not match the query for ${question.name} ${question.type}`);
        resolve(packet);
      });
      socket.on('error', (error) =>
        reject(new DnsLookupError('unreachable', question, `${question.name} ${question.type} at ${where} over TCP: ${error.message}`, { cause: error })),
      );
      socket.on('end', () => fail(`the connection closed before the whole answer for ${question.name} ${question.type} arrived`));
      socket.write(dnsPacket.streamEncode(encodeQuery(id, question)));
      return () => socket.destroy();
    },
  })
    .catch((error: unknown) => {
      throw asLookupError(error, question, server);
    })
    .finally(() => socket.destroy());
}
