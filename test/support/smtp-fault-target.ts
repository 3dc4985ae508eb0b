import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { startSmtpFaultServer, type SmtpFaults, type SmtpFaultServer } from '../../fixtures/servers/smtp-fault-server.js';
import { LAB_ACCOUNTS, LAB_DOMAIN } from '../../src/lab/accounts.js';
import { SmtpClient, type SmtpEndpoint } from '../../src/protocols/smtp/client.js';
import { Transcript } from '../../src/transport/transcript.js';
import { labEnv } from './run-suite.js';
import { testCerts } from './test-certs.js';

/**
 * The three SMTP fault servers in front of the lab, and a target file for them:
 * - `smtp` (MX, no AUTH), `submission` (STARTTLS, AUTH only under TLS) and
 *   `smtps` (implicit TLS) are the fault servers, with the test CA's localhost
 *   certificate (the CA is written beside the target file and named by those
 *   three endpoints' own `tls`);
 * - everything else (host, accounts, pop3/pop3s/imap/imaps, timeouts, tls) is
 *   the lab's target file as it is.
 * They serve the lab's domain and users with the lab's passwords, and forward
 * what they accept to the lab Postfix's MX port, so a scenario sends through
 * a fault and reads the copy back over the lab's IMAP and POP3. The three
 * share one live `faults` object: set a flag, and every server commits it.
 */
export interface SmtpFaultTarget {
  readonly faults: SmtpFaults;
  readonly servers: { readonly mx: SmtpFaultServer; readonly submission: SmtpFaultServer; readonly submissions: SmtpFaultServer };
  readonly targetFile: string;
  /** The lab's passwords, which the target file's password_env names. */
  readonly env: Record<string, string>;
  /** The folder the target file is in. */
  readonly dir: string;
  /** Every server forgets its greylist and what it took: each matrix case starts afresh. */
  reset(): void;
  close(): Promise<void>;
}

interface LabTargetShape {
  host: string;
  endpoints: { smtp: { host?: string; port: number } };
}

/** The lab's own SMTP timeouts are not in its target file; these bound the forwarding hop. */
const FORWARD_TIMEOUTS = { dns: 5_000, tcp: 5_000, tls: 10_000, greeting: 10_000, command: 15_000 };

export async function startSmtpFaultTarget(lab: { targetFile: string; envFile: string }, name: string): Promise<SmtpFaultTarget> {
  const labText = await readFile(lab.targetFile, 'utf8');
  const labTarget = parseDocument(labText).toJS() as LabTargetShape;
  const env = await labEnv(lab.envFile);
  const users = Object.fromEntries(
    LAB_ACCOUNTS.map((a) => {
      const password = env[a.passwordEnv];
      if (password === undefined) throw new Error(`${lab.envFile} has no ${a.passwordEnv}`);
      return [a.user, password];
    }),
  );
  const certs = await testCerts();
  const faults: SmtpFaults = {};
  const upstream = {
    endpoint: { host: labTarget.endpoints.smtp.host ?? labTarget.host, port: labTarget.endpoints.smtp.port, security: 'none' as const, tls: { verify: true } },
    timeouts: FORWARD_TIMEOUTS,
  };
  // Greylisted pairs stay refused for the whole run, as a real greylister's minimum retry wait keeps them:
  // every scenario that sends is then inconclusive, whatever order the scenarios run in.
  const common = {
    domain: LAB_DOMAIN,
    users,
    faults,
    forward: upstream,
    keys: certs.localhost,
    greylistDelayMs: 10 * 60_000,
    sizeLimit: await advertisedSize(upstream.endpoint),
  };
  const started: SmtpFaultServer[] = [];
  try {
    for (const role of ['mx', 'submission', 'submissions'] as const) started.push(await startSmtpFaultServer({ ...common, role }));
  } catch (error) {
    await Promise.all(started.map((s) => s.close()));
    throw error;
  }
  const [mx, submission, submissions] = started as [SmtpFaultServer, SmtpFaultServer, SmtpFaultServer];

  const dir = await mkdtemp(join(tmpdir(), `mailprobe-${name}-`));
  const caFile = join(dir, 'fault-ca.pem');
  await writeFile(caFile, certs.ca);
  const doc = parseDocument(labText);
  const endpoint = (port: number, security: 'none' | 'starttls' | 'tls') =>
    doc.createNode({ host: '127.0.0.1', port, security, tls: { verify: true, ca_file: caFile, servername: 'localhost' } }, { flow: true });
  doc.setIn(['endpoints', 'smtp'], endpoint(mx.port, 'none'));
  doc.setIn(['endpoints', 'submission'], endpoint(submission.port, 'starttls'));
  doc.setIn(['endpoints', 'smtps'], endpoint(submissions.port, 'tls'));
  doc.set('name', `SMTP fault servers in front of ${String(doc.get('name'))}`);
  // The lab delivers in well under a second; under accepted-not-delivered every scenario that waits
  // for its message waits the whole delivery timeout (and cleanup as long again), so it is kept short.
  doc.setIn(['timeouts', 'delivery'], 8000);
  const targetFile = join(dir, 'target.yaml');
  await writeFile(targetFile, doc.toString());

  return {
    faults,
    servers: { mx, submission, submissions },
    targetFile,
    env,
    dir,
    reset: () => {
      for (const s of started) s.reset();
    },
    close: async () => {
      await Promise.all(started.map((s) => s.close()));
    },
  };
}

/** The SIZE limit the lab's MX advertises, so the fault servers take exactly what the lab takes (RFC 1870). */
async function advertisedSize(endpoint: SmtpEndpoint): Promise<number> {
  const client = await SmtpClient.connect({ endpoint, transcript: new Transcript(), session: 'lab-size', timeouts: FORWARD_TIMEOUTS });
  try {
    await client.ehlo();
    const limit = client.advertised.size?.limit;
    if (limit === undefined || limit <= 0) throw new Error(`the lab's MX at ${endpoint.host}:${endpoint.port} advertises no SIZE limit`);
    return limit;
  } finally {
    await client.quit();
  }
}
