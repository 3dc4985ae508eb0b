import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { startImapProxy, type ImapProxy } from '../../fixtures/servers/imap-proxy.js';
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
  const labTarget = parseDocument(await readFile(lab.targetFile, 'utf8')).toJS() as {
    endpoints: { imaps: { port: number } };
    tls: { ca_file: string };
  };
  const proxy = await startImapProxy({
    upstream: { host: '127.0.0.1', port: labTarget.endpoints.imaps.port, ca: await readFile(labTarget.tls.ca_file, 'utf8'), servername: 'localhost' },
  });
  const dir = await mkdtemp(join(tmpdir(), `mailprobe-${name}-`));
  const targetFile = join(dir, 'target.yaml');
  await proxy.writeTarget(targetFile, { labTargetFile: lab.targetFile, as: 'imaps' });
  return { proxy, targetFile, env: await labEnv(lab.envFile), dir };
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
