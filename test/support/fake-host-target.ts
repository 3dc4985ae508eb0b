import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeMailHost, type FakeMailHost } from '../../fixtures/servers/fake-mail-host.js';
import { makeTestCertificate } from '../../fixtures/servers/test-cert.js';

export interface FakeHostTarget {
  readonly host: FakeMailHost;
  /** A target file for the host, its CA trusted. */
  readonly targetFile: string;
  /** The passwords the target file's password_env names expect. */
  readonly env: Record<string, string>;
}

/** The fake mail host with TLS (alice and bob), and a target file for running shipped scenarios against it. */
export async function startFakeHostTarget(prefix: string): Promise<FakeHostTarget> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const cert = await makeTestCertificate(dir);
  const host = await startFakeMailHost({
    accounts: { alice: { password: 'alice-Secret-1', address: 'alice@fake.test' }, bob: { password: 'bob-Secret-2', address: 'bob@fake.test' } },
    tls: { key: cert.key, cert: cert.cert },
  });
  const targetFile = join(dir, 'target.yaml');
  await host.writeTarget(targetFile, { caFile: cert.caFile });
  return { host, targetFile, env: host.passwordEnv() };
}
