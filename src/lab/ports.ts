import { createServer } from 'node:net';

/** Endpoints in target-file order; the names are the target file's endpoint keys. */
export const ENDPOINTS = ['smtp', 'submission', 'smtps', 'pop3', 'pop3s', 'imap', 'imaps'] as const;
export type EndpointName = (typeof ENDPOINTS)[number];
export type LabPorts = Record<EndpointName, number>;

export const ENDPOINT_SECURITY: Record<EndpointName, 'none' | 'starttls' | 'tls'> = {
  smtp: 'none',
  submission: 'starttls',
  smtps: 'tls',
  pop3: 'starttls',
  pop3s: 'tls',
  imap: 'starttls',
  imaps: 'tls',
};

/** Ask the kernel for a free loopback port: bind 127.0.0.1:0, note the port, close. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

/** Can we bind this exact port right now? Used to reuse the previous run's ports. */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * Ports for a fresh start. The previous run's ports are reused when all are
 * still free, so a copied target file keeps working across down/up.
 */
export async function choosePorts(previous?: Partial<LabPorts>): Promise<LabPorts> {
  if (previous && ENDPOINTS.every((e) => typeof previous[e] === 'number')) {
    const prev = previous as LabPorts;
    const free = await Promise.all(ENDPOINTS.map((e) => portIsFree(prev[e])));
    if (free.every(Boolean) && new Set(Object.values(prev)).size === ENDPOINTS.length) return { ...prev };
  }
  const chosen = new Set<number>();
  const ports = {} as LabPorts;
  for (const endpoint of ENDPOINTS) {
    let port = await freePort();
    // The kernel may hand back a port we already noted, since each probe socket is closed.
    while (chosen.has(port)) port = await freePort();
    chosen.add(port);
    ports[endpoint] = port;
  }
  return ports;
}
