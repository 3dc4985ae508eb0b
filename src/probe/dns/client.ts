import { getServers } from 'node:dns';
import { Resolver } from 'node:dns/promises';
import type { TlsaAnswer } from 'dns-packet';
import type { TlsaRecord } from '../domain-model.js';
import { DnsLookupError, EMPTY_ANSWER_CODES, kindOfResolverCode } from './errors.js';
import { rawQuery, type RawQueryLimits } from './raw-query.js';
import { formatDnsServer, parseDnsServer, type DnsServer } from './servers.js';

/**
 * The probe's DNS: Node's Resolver (whose servers can be set, unlike
 * dns.lookup's) for A, AAAA, MX, SRV and TXT, and a query of our own for
 * TLSA, which Node 20's Resolver cannot ask. Every method returns [] for an
 * empty answer (no such name, or no record of that type) and throws a
 * DnsLookupError when the question went unanswered (SERVFAIL, REFUSED,
 * timeout, abort…), so that callers never mistake a failed lookup for an
 * absent record.
 */
export interface DnsClient {
  /** The servers asked, as "address:port". */
  readonly servers: readonly string[];
  /** A then AAAA. */
  addresses(name: string): Promise<string[]>;
  /** "." for the exchange of a Null MX. */
  mx(name: string): Promise<MxRecord[]>;
  /** "." for a target that says the service is not offered. */
  srv(name: string): Promise<SrvRecord[]>;
  /** Each TXT record, its strings joined. */
  txt(name: string): Promise<string[]>;
  tlsa(name: string): Promise<TlsaRecord[]>;
}

export interface MxRecord {
  readonly exchange: string;
  readonly preference: number;
}

export interface SrvRecord {
  readonly target: string;
  readonly port: number;
  readonly priority: number;
  readonly weight: number;
}

export interface DnsClientOptions {
  /** The --dns-server forms ("127.0.0.1:5300", "[::1]:5300"); the system's servers when absent. */
  readonly servers?: readonly string[] | undefined;
  /** Per attempt (c-ares's timeout, and each of our own TLSA attempts). */
  readonly timeoutMs?: number | undefined;
  readonly tries?: number | undefined;
  /** Aborting cancels every lookup in flight and refuses new ones. */
  readonly signal?: AbortSignal | undefined;
  readonly limits?: Partial<RawQueryLimits> | undefined;
}

export const DEFAULT_DNS_TIMEOUT_MS = 5_000;
export const DEFAULT_DNS_TRIES = 2;

export function createDnsClient(options: DnsClientOptions = {}): DnsClient {
  const timeoutMs = options.timeoutMs ?? DEFAULT_DNS_TIMEOUT_MS;
  const tries = options.tries ?? DEFAULT_DNS_TRIES;
  const servers: DnsServer[] = (options.servers ?? getServers()).map(parseDnsServer);
  if (servers.length === 0) throw new Error('no DNS server is configured on this system; give one with --dns-server');
  const resolver = new Resolver({ timeout: timeoutMs, tries });
  resolver.setServers(servers.map(formatDnsServer));
  options.signal?.addEventListener('abort', () => resolver.cancel(), { once: true });
  // TLSA goes to the first server only: a second server is a fallback c-ares handles for the rest.
  const tlsaServer = servers[0]!;

  async function ask<T>(name: string, type: string, query: () => Promise<T[]>): Promise<T[]> {
    if (options.signal?.aborted) throw new DnsLookupError('aborted', { name, type }, `${name} ${type}: cancelled before it was asked`);
    try {
      return await query();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== undefined && EMPTY_ANSWER_CODES.has(code)) return [];
      throw new DnsLookupError(kindOfResolverCode(code), { name, type }, `${name} ${type}: ${(error as Error).message}`, { cause: error });
    }
  }

  return {
    servers: servers.map(formatDnsServer),
    async addresses(name) {
      const [v4, v6] = await Promise.all([ask(name, 'A', () => resolver.resolve4(name)), ask(name, 'AAAA', () => resolver.resolve6(name))]);
      return [...v4, ...v6];
    },
    async mx(name) {
      const answers = await ask(name, 'MX', () => resolver.resolveMx(name));
      return answers.map((mx) => ({ exchange: rootAsDot(mx.exchange), preference: mx.priority }));
    },
    async srv(name) {
      const answers = await ask(name, 'SRV', () => resolver.resolveSrv(name));
      return answers.map((srv) => ({ target: rootAsDot(srv.name), port: srv.port, priority: srv.priority, weight: srv.weight }));
    },
    async txt(name) {
      const answers = await ask(name, 'TXT', () => resolver.resolveTxt(name));
      return answers.map((strings) => strings.join(''));
    },
    async tlsa(name) {
      if (options.signal?.aborted) throw new DnsLookupError('aborted', { name, type: 'TLSA' }, `${name} TLSA: cancelled before it was asked`);
      const answers = await rawQuery(tlsaServer, name, 'TLSA', { timeoutMs, tries, signal: options.signal, limits: options.limits });
      return answers.map((answer) => {
        const data = (answer as TlsaAnswer).data;
        return { usage: data.usage, selector: data.selector, matchingType: data.matchingType, data: data.certificate.toString('hex') };
      });
    },
  };
}

/** c-ares gives the root name as ""; the records say ".". */
function rootAsDot(name: string): string {
  return name === '' || name === '.' ? '.' : name;
}
