import { createHash, randomBytes } from 'node:crypto';
import { chmod, open, readFile, rename } from 'node:fs/promises';
import { parseEnvFile } from '../target/env-file.js';

export const LAB_DOMAIN = 'lab.test';

export interface LabAccount {
  role: string;
  user: string;
  address: string;
  passwordEnv: string;
  /** A stand-in for `role`'s account (the target's `stand_ins:`), not the role's own account. */
  standIn?: true;
}

/**
 * Every lab mailbox. `primary`, which nearly every shipped scenario uses, has three stand-ins, so
 * that `run --concurrency 4` on the lab has four interchangeable INBOXes (src/runner/stand-ins.ts).
 */
export const LAB_ACCOUNTS: readonly LabAccount[] = [
  { role: 'primary', user: 'alice', address: `alice@${LAB_DOMAIN}`, passwordEnv: 'MAILPROBE_LAB_PRIMARY_PASSWORD' },
  { role: 'secondary', user: 'bob', address: `bob@${LAB_DOMAIN}`, passwordEnv: 'MAILPROBE_LAB_SECONDARY_PASSWORD' },
  { role: 'third', user: 'carol', address: `carol@${LAB_DOMAIN}`, passwordEnv: 'MAILPROBE_LAB_THIRD_PASSWORD' },
  ...['dave', 'erin', 'frank'].map(
    (user, i): LabAccount => ({
      role: 'primary',
      user,
      address: `${user}@${LAB_DOMAIN}`,
      passwordEnv: `MAILPROBE_LAB_PRIMARY_${i + 2}_PASSWORD`,
      standIn: true,
    }),
  ),
];

/** A per-lab password: 18 random bytes, base64url so it survives shells, env files and SASL. */
export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}

/**
 * Dovecot's {SSHA512}: base64(sha512(password || salt) || salt). Computed here
 * so the password never appears on a command line (doveadm pw would put it in
 * argv, visible in ps) and never sits in the passwd file in clear.
 */
export function ssha512(password: string, salt: Buffer = randomBytes(16)): string {
  const digest = createHash('sha512').update(password, 'utf8').update(salt).digest();
  return `{SSHA512}${Buffer.concat([digest, salt]).toString('base64')}`;
}

export function passwdFile(passwords: ReadonlyMap<string, string>): string {
  return (
    LAB_ACCOUNTS.map((a) => {
      const pw = passwords.get(a.passwordEnv);
      if (pw === undefined) throw new Error(`no password generated for ${a.user}`);
      return `${a.user}:${ssha512(pw)}::::::`;
    }).join('\n') + '\n'
  );
}

/** Write a file that is 0600 from its first byte (no window where it is world-readable). */
export async function writePrivateFile(path: string, content: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  const handle = await open(tmp, 'w', 0o600);
  try {
    await handle.writeFile(content);
  } finally {
    await handle.close();
  }
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}

export function labEnvText(passwords: ReadonlyMap<string, string>): string {
  const lines = ['# mailprobe lab passwords, regenerated at every lab start. Keep this file private (0600).'];
  for (const a of LAB_ACCOUNTS) lines.push(`${a.passwordEnv}=${passwords.get(a.passwordEnv) ?? ''}`);
  return lines.join('\n') + '\n';
}

/**
 * The lab's env file, read by the one env-file parser `--env-file` uses
 * (src/target/env-file.ts): the lab writes it, the tests and `mailprobe run`
 * read it back, and both must agree on every line.
 */
export async function readLabEnv(envFile: string): Promise<Record<string, string>> {
  return parseEnvFile(await readFile(envFile, 'utf8'), envFile);
}
