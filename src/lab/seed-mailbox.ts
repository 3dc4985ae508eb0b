import { createHash } from 'node:crypto';
import { chown, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/**
 * Fills a lab account's Maildir directly, the way a big real mailbox looks to
 * Dovecot, without sending anything: N messages in INBOX and M folders beside
 * it, written as files (50,000 messages take seconds, where SMTP would take
 * hours). Every name carries `S=<size>` (the file's exact size, which Dovecot
 * reads as the message size instead of stat()ing) and an empty flag part
 * `:2,`, so every seeded message is unseen; they sit in cur/, where Dovecot
 * leaves the names as they are.
 *
 * The lab keeps each account's mail in `<lab dir>/mail/<user>/Maildir`
 * (fixtures/lab/dovecot.conf.tmpl, mail_location = maildir:…/%n/Maildir),
 * owned by the lab's mail user; the namespace separator is "/" on the wire and
 * folders are Maildir++ directories `.<name>` on disk.
 *
 * restore() removes exactly what seeding added; verify() says whether every
 * seeded message is still there, byte for byte, and still without \Seen.
 */
export interface SeedOptions {
  /** The account's Maildir, e.g. `<lab dir>/mail/alice/Maildir`. */
  readonly maildir: string;
  readonly messages: number;
  readonly folders: number;
  /** Owner of the files (the lab's mail user); omitted: left to the current user. */
  readonly owner?: { readonly uid: number; readonly gid: number };
  /** Marks names and Message-IDs, so two seedings never collide. Default "seed". */
  readonly tag?: string;
}

export interface SeededMailbox {
  readonly messageFiles: readonly string[];
  readonly folderDirs: readonly string[];
  /** Problems found: a seeded message missing, changed, or flagged \Seen (empty when untouched). */
  verify(): Promise<string[]>;
  /** Removes every file and folder the seeding added. */
  restore(): Promise<void>;
}

/** A small, deterministic message; its number shows in the Message-ID, subject and body. */
export function seedMessage(tag: string, n: number): Buffer {
  return Buffer.from(
    [
      `Message-ID: <${tag}-${n}@seed.invalid>`,
      'From: Seeder <seed@seed.invalid>',
      'To: someone@seed.invalid',
      `Subject: seeded message ${n}`,
      'Date: Tue, 01 Dec 2026 00:00:00 +0000',
      '',
      `Seeded body ${n}; no mailprobe run made this message.`,
      '',
    ].join('\r\n'),
  );
}

export async function seedMaildir(options: SeedOptions): Promise<SeededMailbox> {
  const tag = options.tag ?? 'seed';
  const { maildir, owner } = options;
  const own = async (path: string) => {
    if (owner) await chown(path, owner.uid, owner.gid);
  };
  const made: string[] = [];
  const ensureDir = async (path: string) => {
    const existed = await stat(path).then(
      () => true,
      () => false,
    );
    if (existed) return;
    // Level by level, each owned by the mail user: Dovecot cannot use a home that root owns.
    await ensureDir(dirname(path));
    await mkdir(path, { mode: 0o700 });
    await own(path);
    made.push(path);
  };
  for (const sub of ['', 'cur', 'new', 'tmp']) await ensureDir(join(maildir, sub));

  const stamp = 1_764_547_200; // a fixed time in 2025: the names sort before any delivery's
  const messageFiles: string[] = [];
  const digests = new Map<string, string>();
  for (let n = 1; n <= options.messages; n++) {
    const body = seedMessage(tag, n);
    const base = `${stamp}.M${n}P0.${tag},S=${body.length}`;
    const file = join(maildir, 'cur', `${base}:2,`);
    await writeFile(file, body, { mode: 0o600, flag: 'wx' });
    await own(file);
    messageFiles.push(file);
    digests.set(base, createHash('sha256').update(body).digest('hex'));
  }

  const folderDirs: string[] = [];
  for (let f = 1; f <= options.folders; f++) {
    const dir = join(maildir, `.${tag}-folder-${String(f).padStart(5, '0')}`);
    await mkdir(dir, { mode: 0o700 });
    await own(dir);
    for (const sub of ['cur', 'new', 'tmp']) {
      await mkdir(join(dir, sub), { mode: 0o700 });
      await own(join(dir, sub));
    }
    // Maildir++: marks the directory as a folder of the maildir above it.
    await writeFile(join(dir, 'maildirfolder'), '', { mode: 0o600 });
    await own(join(dir, 'maildirfolder'));
    folderDirs.push(dir);
  }

  /** Seeded files now in cur/ or new/, by their base name (before ":2,"): a server may add flags. */
  const current = async (): Promise<Map<string, { path: string; flags: string }>> => {
    const found = new Map<string, { path: string; flags: string }>();
    for (const sub of ['cur', 'new']) {
      for (const name of await readdir(join(maildir, sub))) {
        const [base = '', flags = ''] = name.split(':2,');
        if (digests.has(base)) found.set(base, { path: join(maildir, sub, name), flags });
      }
    }
    return found;
  };

  return {
    messageFiles,
    folderDirs,
    async verify() {
      const problems: string[] = [];
      const now = await current();
      for (const [base, digest] of digests) {
        const file = now.get(base);
        if (!file) {
          problems.push(`${base}: gone`);
          continue;
        }
        if (file.flags.includes('S')) problems.push(`${base}: marked \\Seen (flags "${file.flags}")`);
        if (file.flags.includes('T')) problems.push(`${base}: marked \\Deleted (flags "${file.flags}")`);
        const body = await readFile(file.path);
        if (createHash('sha256').update(body).digest('hex') !== digest) problems.push(`${base}: changed`);
      }
      for (const dir of folderDirs) {
        if (
          !(await stat(dir).then(
            () => true,
            () => false,
          ))
        )
          problems.push(`${dir}: folder gone`);
      }
      return problems;
    },
    async restore() {
      for (const file of (await current()).values()) await rm(file.path, { force: true });
      for (const dir of folderDirs) await rm(dir, { recursive: true, force: true });
      for (const dir of made.reverse()) await rm(dir, { recursive: true, force: true });
    },
  };
}
