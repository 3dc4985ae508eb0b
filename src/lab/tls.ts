import { randomBytes } from 'node:crypto';
import { chmod, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LabError } from './errors.js';
import { run } from './exec.js';
import type { LabLayout } from './paths.js';
import { ENDPOINT_HOST, SERVER_HOST } from './ports.js';
import { makeFolders } from '../transport/private-files.js';

const DAYS = '30';

async function openssl(args: string[], what: string): Promise<void> {
  let res;
  try {
    res = await run('openssl', args);
  } catch (err) {
    throw new LabError('ELAB_TLS', `cannot run openssl to ${what}: ${(err as Error).message}`, { cause: err });
  }
  if (res.code !== 0) {
    throw new LabError('ELAB_TLS', `openssl failed to ${what} (exit ${res.code}):\n${res.stderr.trim()}`);
  }
}

/**
 * A fresh CA and a server certificate signed by it, made at every lab start
 * and never committed: a private key in the repository is a key some user
 * would end up trusting (LAB-NOTES 11). The SAN carries DNS:localhost,
 * IP:127.0.0.1 and IP:127.0.0.2 (the plain IMAP/POP3 address, see
 * ENDPOINT_HOST) and each further server's own address (SERVER_HOST) so clients verify whether they name the host or an address,
 * and DNS:*.lab.test (a reserved TLD, RFC 6761 §6.2) so that a made-up mail
 * domain lab.test, served by a test DNS server, can name the lab's hosts
 * (mail.lab.test, imap.lab.test) in its MX and SRV records.
 * The CA key is deleted once the server cert is signed, so trusting ca.pem
 * trusts exactly this one certificate.
 */
export async function createLabCertificates(layout: LabLayout): Promise<void> {
  await rm(layout.tlsDir, { recursive: true, force: true });
  await makeFolders(layout.tlsDir, 0o755);
  await chmod(layout.tlsDir, 0o755);
  const caKey = join(layout.tlsDir, 'ca.key');
  const csr = join(layout.tlsDir, 'server.csr');
  const ext = join(layout.tlsDir, 'server.ext');
  const serial = join(layout.tlsDir, 'ca.srl');
  const tag = randomBytes(4).toString('hex');
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  try {
    await openssl(
      [
        'req',
        '-x509',
        ...ec,
        '-keyout',
        caKey,
        '-out',
        layout.caFile,
        '-days',
        DAYS,
        '-subj',
        `/O=mailprobe lab/CN=mailprobe lab CA ${tag}`,
        '-addext',
        'basicConstraints=critical,CA:TRUE,pathlen:0',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign',
      ],
      'create the lab CA',
    );
    await openssl(['req', '-new', ...ec, '-keyout', layout.serverKey, '-out', csr, '-subj', '/O=mailprobe lab/CN=localhost'], 'create the server key');
    await writeFile(
      ext,
      'basicConstraints=critical,CA:FALSE\n' +
        'keyUsage=critical,digitalSignature,keyEncipherment\n' +
        'extendedKeyUsage=serverAuth\n' +
        `subjectAltName=DNS:localhost,DNS:*.lab.test,${[...new Set([...Object.values(ENDPOINT_HOST), ...Object.values(SERVER_HOST)])].map((ip) => `IP:${ip}`).join(',')}\n`,
    );
    await openssl(
      [
        'x509',
        '-req',
        '-in',
        csr,
        '-CA',
        layout.caFile,
        '-CAkey',
        caKey,
        '-CAserial',
        serial,
        '-CAcreateserial',
        '-out',
        layout.serverCert,
        '-days',
        DAYS,
        '-extfile',
        ext,
      ],
      'sign the server certificate',
    );
  } finally {
    await Promise.all([caKey, csr, ext, serial].map((f) => rm(f, { force: true })));
  }
  // Daemons read the key as root before dropping privileges; nobody else needs it.
  await chmod(layout.serverKey, 0o600);
  await chmod(layout.serverCert, 0o644);
  await chmod(layout.caFile, 0o644);
}
