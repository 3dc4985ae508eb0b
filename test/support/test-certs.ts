import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface KeyPair {
  readonly key: string;
  readonly cert: string;
}

/**
 * A throwaway CA and two leaf certificates it signed, made with openssl at test
 * time in a temp dir (keys are never committed):
 * - `localhost`: SAN DNS:localhost, IP:127.0.0.1, IP:::1
 * - `named`: SAN DNS:mail.example.test only (for servername / name-mismatch tests)
 * - `expired`: like `localhost`, signed by the same CA, but already expired
 * plus `otherCa`, an unrelated CA that must not verify either.
 */
export interface TestCerts {
  readonly dir: string;
  readonly ca: string;
  readonly otherCa: string;
  readonly localhost: KeyPair;
  readonly named: KeyPair;
  readonly expired: KeyPair;
  cleanup(): Promise<void>;
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/**
 * A new EC key and a certificate for it in `dir`, signed by the CA whose
 * `<ca>.crt` and `<ca>.key` are there, with the openssl extensions `ext`
 * (SAN, CA:TRUE for an intermediate, …). Files are `<name>.key|csr|ext|crt`.
 */
export async function signCertificate(
  dir: string,
  name: string,
  options: { readonly ca: string; readonly subject: string; readonly days: string; readonly ext: string },
): Promise<KeyPair> {
  const at = (file: string): string => join(dir, file);
  await run('openssl', ['req', ...EC_KEY, '-keyout', at(`${name}.key`), '-out', at(`${name}.csr`), '-subj', options.subject]);
  await writeFile(at(`${name}.ext`), options.ext);
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    at(`${name}.csr`),
    '-CA',
    at(`${options.ca}.crt`),
    '-CAkey',
    at(`${options.ca}.key`),
    '-CAcreateserial',
    '-out',
    at(`${name}.crt`),
    '-days',
    options.days,
    '-extfile',
    at(`${name}.ext`),
  ]);
  return { key: await readFile(at(`${name}.key`), 'utf8'), cert: await readFile(at(`${name}.crt`), 'utf8') };
}

let cached: Promise<TestCerts> | undefined;

/** Generated once per test file (module instance) and reused. */
export function testCerts(): Promise<TestCerts> {
  cached ??= generate();
  return cached;
}

async function generate(): Promise<TestCerts> {
  const dir = await mkdtemp(join(tmpdir(), 'mailprobe-certs-'));
  const at = (name: string): string => join(dir, name);

  const makeCa = async (name: string, cn: string): Promise<void> => {
    await run('openssl', [
      'req',
      '-x509',
      ...EC_KEY,
      '-keyout',
      at(`${name}.key`),
      '-out',
      at(`${name}.crt`),
      '-days',
      '2',
      '-subj',
      `/CN=${cn}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
  };
  const makeLeaf = (name: string, cn: string, san: string, days = '2'): Promise<KeyPair> =>
    signCertificate(dir, name, {
      ca: 'ca',
      subject: `/CN=${cn}`,
      days,
      ext: `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n`,
    });

  await makeCa('ca', 'mailprobe test CA');
  await makeCa('other-ca', 'mailprobe unrelated CA');
  const localhost = await makeLeaf('localhost', 'localhost', 'DNS:localhost,IP:127.0.0.1,IP:::1');
  const named = await makeLeaf('named', 'mail.example.test', 'DNS:mail.example.test');
  // -days -1 puts notAfter a day before notBefore (now): expired from the start.
  const expired = await makeLeaf('expired', 'localhost', 'DNS:localhost,IP:127.0.0.1', '-1');
  return {
    dir,
    ca: await readFile(at('ca.crt'), 'utf8'),
    otherCa: await readFile(at('other-ca.crt'), 'utf8'),
    localhost,
    named,
    expired,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
