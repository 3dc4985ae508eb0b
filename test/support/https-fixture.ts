import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ResolveAddresses } from '../../src/probe/domain-model.js';
import { signCertificate, testCerts, type KeyPair } from './test-certs.js';

/**
 * A local HTTPS server for the discovery tests, on 127.0.0.1 and ::1 at one
 * free port, with a certificate from the throwaway test CA whose SANs are the
 * made-up zone's discovery names. Routes are set per test: status, body,
 * headers, a delay before the head, a redirect, a body that never ends (fast:
 * for the size limit) or one that trickles (slow: for the body timeout).
 */

export const FIXTURE_NAMES = ['example.test', 'autoconfig.example.test', 'mta-sts.example.test', 'autodiscover.example.test'] as const;

export interface Route {
  readonly status?: number;
  readonly body?: string | Buffer;
  readonly headers?: Readonly<Record<string, string>>;
  /** Wait this long before sending the response head. */
  readonly delayMs?: number;
  /** Answer 302 with this Location. */
  readonly redirect?: string;
  /** After `body`, keep writing 16 KiB chunks until the client goes away. */
  readonly endless?: boolean;
  /** After `body`, send one byte every 200 ms until the client goes away. */
  readonly trickle?: boolean;
}

export interface RecordedRequest {
  readonly method: string;
  /** The Host header without its port. */
  readonly host: string;
  readonly path: string;
  /** The address the request arrived on (127.0.0.1 or ::1). */
  readonly localAddress: string;
  readonly servername: string | false;
  readonly body: string;
}

export interface HttpsFixture {
  readonly port: number;
  /** PEM of the CA that signed the fixture's certificate (pass as `ca`). */
  readonly ca: string;
  /** PEM of a CA that did not (to see verification fail). */
  readonly otherCa: string;
  readonly requests: RecordedRequest[];
  route(method: 'GET' | 'POST', host: string, path: string, route: Route): void;
  /**
   * A ResolveAddresses over `zone` (name → addresses); names not in it have no
   * address. Every call is recorded in `resolved`.
   */
  resolver(zone: Readonly<Record<string, readonly string[]>>): ResolveAddresses;
  readonly resolved: string[];
  close(): Promise<void>;
}

let leaf: Promise<KeyPair> | undefined;

/** The fixture's certificate: the four discovery names, signed by the test CA (made once per test file). */
export async function discoveryCertificate(): Promise<KeyPair> {
  leaf ??= testCerts().then((certs) =>
    signCertificate(certs.dir, 'discovery', {
      ca: 'ca',
      subject: '/CN=example.test',
      days: '2',
      ext: `subjectAltName=${FIXTURE_NAMES.map((name) => `DNS:${name}`).join(',')}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n`,
    }),
  );
  return leaf;
}

export async function startHttpsFixture(options: { readonly cert?: KeyPair } = {}): Promise<HttpsFixture> {
  const certs = await testCerts();
  const cert = options.cert ?? (await discoveryCertificate());
  const routes = new Map<string, Route>();
  const requests: RecordedRequest[] = [];
  const resolved: string[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const host = (req.headers.host ?? '').replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      const socket = req.socket as Socket & { servername?: string | false };
      requests.push({
        method: req.method ?? '',
        host,
        path: req.url ?? '/',
        localAddress: socket.localAddress ?? '',
        servername: socket.servername ?? false,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      const route = routes.get(`${req.method} ${host}${path}`) ?? { status: 404, body: 'not found\n' };
      const later = (ms: number, fn: () => void): void => {
        const timer = setTimeout(() => {
          timers.delete(timer);
          fn();
        }, ms);
        timers.add(timer);
      };
      const respond = (): void => {
        if (res.destroyed) return;
        if (route.redirect !== undefined) {
          res.writeHead(302, { location: route.redirect, 'content-length': '0' }).end();
          return;
        }
        const streaming = route.endless === true || route.trickle === true;
        const body = route.body ?? '';
        res.writeHead(route.status ?? 200, { ...(streaming ? {} : { 'content-length': String(Buffer.byteLength(body)) }), ...route.headers });
        if (!streaming) {
          res.end(body);
          return;
        }
        res.write(body);
        if (route.endless === true) {
          const chunk = Buffer.alloc(16 * 1024, 0x61);
          const pump = (): void => {
            while (!res.destroyed && res.write(chunk)) {}
            if (!res.destroyed) res.once('drain', pump);
          };
          pump();
        } else {
          const drip = (): void => {
            if (res.destroyed) return;
            res.write('a');
            later(200, drip);
          };
          drip();
        }
      };
      if (route.delayMs === undefined) respond();
      else later(route.delayMs, respond);
    });
  };

  const servers: Server[] = [];
  const listen = (host: string, port: number): Promise<Server> =>
    new Promise((resolve, reject) => {
      const server = createServer({ key: cert.key, cert: cert.cert }, handle);
      server.on('connection', (socket: Socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
      });
      server.once('error', reject);
      server.listen(port, host, () => resolve(server));
    });

  // One port on both loopback addresses: the first at a free port, the second at
  // the same one (retried on a fresh port in the rare case ::1 has it taken).
  for (let attempt = 0; servers.length === 0; attempt++) {
    const v4 = await listen('127.0.0.1', 0);
    const port = (v4.address() as AddressInfo).port;
    try {
      servers.push(v4, await listen('::1', port));
    } catch (error) {
      await new Promise<void>((resolve) => v4.close(() => resolve()));
      if (attempt >= 5) throw error;
    }
  }
  const port = (servers[0]!.address() as AddressInfo).port;

  return {
    port,
    ca: certs.ca,
    otherCa: certs.otherCa,
    requests,
    resolved,
    route: (method, host, path, route) => void routes.set(`${method} ${host}${path}`, route),
    resolver: (zone) => async (name) => {
      resolved.push(name);
      return zone[name] ?? [];
    },
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      for (const socket of sockets) socket.destroy();
      await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    },
  };
}
