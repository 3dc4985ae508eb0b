import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { startImapProxy, type ImapProxy } from '../../fixtures/servers/imap-proxy.js';
import { startPop3Proxy, type Pop3Proxy } from '../../fixtures/servers/pop3-proxy.js';
import { labEnv } from './run-suite.js';

/**
 * The mutating IMAP proxy in front of the lab's implicit-TLS Dovecot port, with
 * a target file whose `imaps` endpoint is the proxy, and the lab's passwords.
 */
export interface LabProxy {
  readonly proxy: ImapProxy;
  readonly targetFile: string;
  readonly env: Record<string, string>;
  /** The folder the target file is in, for variants of it. */
  readonly dir: string;
}

export async function startLabProxy(lab: { targetFile: string; envFile: string }, name: string): Promise<LabProxy> {
  const labTarget = await readLabTarget(lab.targetFile);
  const proxy = await startImapProxy({
    upstream: { host: '127.0.0.1', port: labTarget.endpoints.imaps.port, ca: await readFile(labTarget.tls.ca_file, 'utf8'), servername: 'localhost' },
  });
  return { proxy, ...(await proxiedTarget(lab, name, (file) => proxy.writeTarget(file, { labTargetFile: lab.targetFile, as: 'imaps' }))) };
}

/** The POP3 proxy in front of the lab's pop3s port, with a target file whose `pop3s` endpoint is the proxy. */
export async function startLabPop3Proxy(lab: { targetFile: string; envFile: string }, name: string): Promise<Omit<LabProxy, 'proxy'> & { proxy: Pop3Proxy }> {
  const labTarget = await readLabTarget(lab.targetFile);
  const proxy = await startPop3Proxy({ host: '127.0.0.1', port: labTarget.endpoints.pop3s.port, ca: await readFile(labTarget.tls.ca_file, 'utf8') });
  return { proxy, ...(await proxiedTarget(lab, name, (file) => proxy.writeTarget(file, lab.targetFile))) };
}

/** A fresh folder with the target file `write` puts there, and the lab's passwords. */
async function proxiedTarget(lab: { envFile: string }, name: string, write: (file: string) => Promise<void>): Promise<Omit<LabProxy, 'proxy'>> {
  const dir = await mkdtemp(join(tmpdir(), `mailprobe-${name}-`));
  const targetFile = join(dir, 'target.yaml');
  await write(targetFile);
  return { targetFile, env: await labEnv(lab.envFile), dir };
}

async function readLabTarget(file: string) {
  return parseDocument(await readFile(file, 'utf8')).toJS() as {
    endpoints: { imaps: { port: number }; pop3s: { port: number } };
    tls: { ca_file: string };
  };
}

/** A target file for a fake IMAP server whose plain port offers STARTTLS, trusting `ca`. */
export async function writeFakeImapTarget(server: { host: string; port: number }, ca: string, passwordEnv: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mailprobe-fake-imap-'));
  const caFile = join(dir, 'ca.pem');
  await writeFile(caFile, ca);
  const target = join(dir, 'target.yaml');
  await writeFile(
    target,
    [
      'name: fake imap',
      `host: ${server.host}`,
      `tls: { verify: true, ca_file: ${caFile}, servername: localhost }`,
      'endpoints:',
      `  imap: { port: ${server.port}, security: starttls }`,
      'accounts:',
      `  primary: { user: alice, address: alice@fake.test, password_env: ${passwordEnv} }`,
      '',
    ].join('\n'),
  );
  return target;
}
