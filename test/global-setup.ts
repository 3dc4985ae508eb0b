import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { labDown, labUp } from '../src/lab/index.js';

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

declare module 'vitest' {
  export interface ProvidedContext {
    lab: { targetFile: string; envFile: string; stateDir: string };
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const lab = await labUp({ stateDir: STATE_DIR, log: (line) => process.stderr.write(`[lab] ${line}\n`) });
  project.provide('lab', { targetFile: lab.targetFile, envFile: lab.envFile, stateDir: lab.stateDir });
  return async () => {
    // A lab that was already up (a developer's warm run) stays up.
    if (!lab.alreadyRunning) await labDown({ stateDir: STATE_DIR });
  };
}
