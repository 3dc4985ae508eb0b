import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { labDown, labUp, parseServerList, type ServerName } from '../src/lab/index.js';

/**
 * One private lab for the whole test run: real Dovecot and Postfix on
 * 127.0.0.1, in its own state folder so it never fights a lab a developer
 * started with `mailprobe lab up`, nor the test lab of another checkout. Integration tests get its files by
 * inject('lab').
 */
// One folder per checkout, so two clones (a developer's and CI's) never share, or stop, a lab.
const STATE_DIR = `/tmp/mailprobe-lab-vitest-${createHash('sha256')
  .update(fileURLToPath(new URL('..', import.meta.url)))
  .digest('hex')
  .slice(0, 8)}`;

/**
 * Which servers the lab runs besides Dovecot: MAILPROBE_LAB_SERVERS (as
 * `lab up --servers`), or all three in CI, where the cross-server matrix
 * test must run. A developer's `npx vitest run test/x` starts Dovecot alone,
 * and the tests that need the others say they were skipped and why.
 */
function wantedServers(env: NodeJS.ProcessEnv): ServerName[] {
  const asked = env['MAILPROBE_LAB_SERVERS'];
  if (asked !== undefined && asked.trim() !== '') return parseServerList(asked);
  return env['CI'] === 'true' ? ['dovecot', 'cyrus', 'courier'] : ['dovecot'];
}

export interface ProvidedLabServer {
  name: string;
  targetFile: string;
  hosts: Record<string, string>;
  ports: Record<string, number>;
}

declare module 'vitest' {
  export interface ProvidedContext {
    lab: { targetFile: string; envFile: string; stateDir: string; caFile: string; servers: ProvidedLabServer[] };
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  const lab = await labUp({ stateDir: STATE_DIR, servers: wantedServers(process.env), log: (line) => process.stderr.write(`[lab] ${line}\n`) });
  process.stderr.write(`[lab] ${lab.servers.map((s) => s.name).join(', ')} ready in ${Date.now() - started} ms\n`);
  project.provide('lab', {
    targetFile: lab.targetFile,
    envFile: lab.envFile,
    stateDir: lab.stateDir,
    caFile: lab.caFile,
    servers: lab.servers.map((s) => ({ name: s.name, targetFile: s.targetFile, hosts: { ...s.hosts }, ports: { ...s.ports } })),
  });
  return async () => {
    // A lab that was already up (a developer's warm run) stays up.
    if (!lab.alreadyRunning) await labDown({ stateDir: STATE_DIR });
  };
}
