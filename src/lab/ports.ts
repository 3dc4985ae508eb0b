import { createServer } from 'node:net';
import { ENDPOINT_NAMES, ENDPOINTS as ENDPOINT_SPECS, type EndpointName, type Security } from '../core/protocols.js';

/** The lab listens on every endpoint a target may define, in target-file order (src/core/protocols.ts owns the list). */
export const ENDPOINTS: readonly EndpointName[] = ENDPOINT_NAMES;
export type { EndpointName };
export type LabPorts = Record<EndpointName, number>;

/**
 * The security the lab's target file names for each endpoint: each
 * endpoint's default, except the MX port. Postfix offers STARTTLS there
 * (smtpd_tls_security_level = may in main.cf.tmpl) but, like an MX, does not
 * require it, and the lab's target file names it plain text.
 */
export const ENDPOINT_SECURITY: Readonly<Record<EndpointName, Security>> = {
  ...(Object.fromEntries(ENDPOINT_NAMES.map((e) => [e, ENDPOINT_SPECS[e].defaultSecurity])) as Record<EndpointName, Security>),
  smtp: 'none',
};

/** The lab's main loopback address: implicit-TLS ports, SMTP, submission, and the target file's `host`. */
export const LAB_HOST = '127.0.0.1';
/**
 * A second loopback address for the plain-text IMAP and POP3 ports. Dovecot
 * counts a connection as "secured" when the client's IP equals its own local
 * IP, which always holds for 127.0.0.1 -> 127.0.0.1: it would then allow
 * plaintext login and never advertise LOGINDISABLED before STARTTLS/STLS,
 * unlike any real host (RFC 9051 §6.2.3, RFC 2595). A client connecting to
 * 127.0.0.2 gets source address 127.0.0.1 (Linux's `local 127.0.0.0/8 ...
 * src 127.0.0.1` route), so the IPs differ and Dovecot behaves as on a real
 * network. fixtures/lab/dovecot.conf.tmpl binds the same addresses.
 */
export const LAB_PLAIN_HOST = '127.0.0.2';

/**
 * The address of each further lab server (\`lab up --servers\`): each runs on its
 * own loopback address, so its ports never mix with Dovecot's and a port number
 * plus address names one server. Every listener of such a server, its Postfix
 * endpoints included, binds this one address. 127.0.0.2 is Dovecot's (above).
 */
export const SERVER_HOST = { cyrus: '127.0.0.3', courier: '127.0.0.4' } as const;

/** The address each endpoint listens on; everything that binds, probes or names an endpoint uses this. */
export const ENDPOINT_HOST: Record<EndpointName, string> = {
  smtp: LAB_HOST,
  submission: LAB_HOST,
  smtps: LAB_HOST,
  pop3: LAB_PLAIN_HOST,
  pop3s: LAB_HOST,
  imap: LAB_PLAIN_HOST,
  imaps: LAB_HOST,
};

/** A lab endpoint's listening socket. */
export interface LabSocket {
  host: string;
  port: number;
}

export function labSockets(ports: LabPorts): LabSocket[] {
  return ENDPOINTS.map((e) => ({ host: ENDPOINT_HOST[e], port: ports[e] }));
}

/**
 * Values for dovecot.conf.tmpl: each Dovecot listener's address, and the
 * top-level `listen` naming every address they use.
 */
export function dovecotAddresses(): Record<string, string> {
  const dovecot = ['imap', 'imaps', 'pop3', 'pop3s'] as const;
  return {
    listen: [...new Set(dovecot.map((e) => ENDPOINT_HOST[e]))].sort().join(', '),
    ...Object.fromEntries(dovecot.map((e) => [`${e}_address`, ENDPOINT_HOST[e]])),
  };
}

/** Ask the kernel for a free loopback port on `host`: bind host:0, note the port, close. */
export function freePort(host: string = LAB_HOST): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

/** Can we bind this exact host:port right now? Used to reuse the previous run's ports. */
export function portIsFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * Ports for a fresh start. The previous run's ports are reused when all are
 * still free, so a copied target file keeps working across down/up.
 */
export async function choosePorts(previous?: Partial<LabPorts>): Promise<LabPorts> {
  if (previous && ENDPOINTS.every((e) => typeof previous[e] === 'number')) {
    const prev = previous as LabPorts;
    const free = await Promise.all(ENDPOINTS.map((e) => portIsFree(ENDPOINT_HOST[e], prev[e])));
    if (free.every(Boolean) && new Set(Object.values(prev)).size === ENDPOINTS.length) return { ...prev };
  }
  const chosen = new Set<number>();
  const ports = {} as LabPorts;
  for (const endpoint of ENDPOINTS) {
    // Probe the address the endpoint will bind: a port free on 127.0.0.1 says nothing about 127.0.0.2.
    let port = await freePort(ENDPOINT_HOST[endpoint]);
    // The kernel may hand back a port we already noted, since each probe socket is closed.
    // Ports stay distinct across both addresses, so a port alone names one lab endpoint.
    while (chosen.has(port)) port = await freePort(ENDPOINT_HOST[endpoint]);
    chosen.add(port);
    ports[endpoint] = port;
  }
  return ports;
}
