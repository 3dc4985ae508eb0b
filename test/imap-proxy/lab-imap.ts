import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { ImapFlow } from 'imapflow';
import { inject } from 'vitest';
import { parse } from 'yaml';
import { type ImapMutations, type ImapProxy, startImapProxy } from '../../fixtures/servers/imap-proxy.js';

/**
 * What the proxy tests need from the lab: Dovecot's implicit-TLS port, the
 * lab CA and alice's login. Read straight from the lab's target and env
 * files so these tests do not depend on the target loader in src/.
 */
export interface LabImap {
  readonly targetFile: string;
  readonly imapsPort: number;
  readonly ca: string;
  readonly user: string;
  readonly password: string;
}

export async function labImap(): Promise<LabImap> {
  const lab = inject('lab');
  const target = parse(await readFile(lab.targetFile, 'utf8')) as {
    tls: { ca_file: string };
    endpoints: Record<string, { port: number }>;
    accounts: Record<string, { user: string; password_env: string }>;
  };
  const env = await readFile(lab.envFile, 'utf8');
  const primary = target.accounts.primary!;
  const line = env.split('\n').find((l) => l.startsWith(`${primary.password_env}=`));
  if (!line) throw new Error(`${lab.envFile} has no ${primary.password_env}`);
  return {
    targetFile: lab.targetFile,
    imapsPort: target.endpoints.imaps!.port,
    ca: await readFile(target.tls.ca_file, 'utf8'),
    user: primary.user,
    password: line.slice(line.indexOf('=') + 1).trim(),
  };
}

export function startProxy(lab: LabImap, mutations: ImapMutations = {}): Promise<ImapProxy> {
  return startImapProxy({ upstream: { host: '127.0.0.1', port: lab.imapsPort, ca: lab.ca }, mutations });
}

/** A unique folder prefix, so parallel runs and other tests never collide. */
export function testPrefix(): string {
  return `mp-proxytest-${randomBytes(4).toString('hex')}`;
}

function clientOptions(lab: LabImap): ConstructorParameters<typeof ImapFlow>[0] {
  return {
    host: '127.0.0.1',
    port: 0,
    secure: false,
    auth: { user: lab.user, pass: lab.password },
    logger: false,
    disableAutoIdle: true,
    disableAutoEnable: true,
    tls: { ca: lab.ca, servername: 'localhost' },
  };
}

/** An imapflow client through the proxy (plaintext; the proxy hides STARTTLS). */
export async function proxiedClient(lab: LabImap, proxy: ImapProxy): Promise<ImapFlow> {
  const client = new ImapFlow({ ...clientOptions(lab), host: proxy.host, port: proxy.port });
  await client.connect();
  return client;
}

/** An imapflow client straight to Dovecot's imaps port: the control and the cleanup path. */
export async function directClient(lab: LabImap): Promise<ImapFlow> {
  const client = new ImapFlow({ ...clientOptions(lab), port: lab.imapsPort, secure: true });
  await client.connect();
  return client;
}

export async function closeAll(...clients: Array<ImapFlow | undefined>): Promise<void> {
  await Promise.all(clients.map((c) => c?.logout().catch(() => c.close())));
}

/** APPENDs and returns the new message's UID (Dovecot has UIDPLUS, so it is always known). */
export async function appendUid(client: ImapFlow, path: string, message: Buffer, flags?: string[]): Promise<number> {
  const result = await client.append(path, message, flags);
  if (!result || result.uid === undefined) throw new Error(`APPEND to ${path} gave no UID`);
  return result.uid;
}

/** A message's flags, sorted, without \\Recent (which depends only on which session saw it first). */
export function storedFlags(flags: Set<string> | undefined): string[] {
  return [...(flags ?? [])].filter((f) => f !== '\\Recent').sort();
}

/** A small message whose Message-ID makes it findable and whose body has letters to corrupt. */
export function testMessage(prefix: string, label: string): Buffer {
  return Buffer.from(
    [
      'From: alice@lab.test',
      'To: alice@lab.test',
      `Subject: ${prefix} ${label}`,
      `Message-ID: <${prefix}.${label}.${randomBytes(4).toString('hex')}@lab.test>`,
      'Date: Thu, 01 Jan 2026 00:00:00 +0000',
      '',
      'Line one of the proxy test body.',
      '.a line starting with a dot',
      'Line three.',
      '',
    ].join('\r\n'),
  );
}

/**
 * A raw IMAP client over a plain socket (or TLS to Dovecot directly), to
 * see exact bytes: capability lists, LIST attributes, BAD answers. It is
 * deliberately independent of the proxy's framing code; it finds a
 * command's end by its tagged line, which is enough for the small
 * responses it is used on.
 */
export class RawImap {
  readonly #socket: Socket;
  #buffer = Buffer.alloc(0);
  #waiter: (() => void) | null = null;
  #closed = false;
  #next = 1;
  greeting = '';

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      this.#waiter?.();
    });
    socket.on('close', () => {
      this.#closed = true;
      this.#waiter?.();
    });
    socket.on('error', () => {});
  }

  static async proxied(proxy: ImapProxy): Promise<RawImap> {
    const socket = netConnect({ host: proxy.host, port: proxy.port });
    const raw = new RawImap(socket);
    raw.greeting = await raw.#readUntil(/\r\n/);
    return raw;
  }

  static async direct(lab: LabImap): Promise<RawImap> {
    const socket = tlsConnect({ host: '127.0.0.1', port: lab.imapsPort, ca: lab.ca, servername: 'localhost' });
    const raw = new RawImap(socket);
    raw.greeting = await raw.#readUntil(/\r\n/);
    return raw;
  }

  /** Sends `<tag> <command>` and returns everything up to and including the tagged response. */
  async command(command: string): Promise<{ text: string; bytes: Buffer; tagged: string }> {
    const tag = `R${this.#next++}`;
    this.#socket.write(`${tag} ${command}\r\n`);
    const text = await this.#readUntil(new RegExp(`(^|\\r\\n)${tag} [^\\r\\n]*\\r\\n`));
    const bytes = Buffer.from(text, 'latin1');
    const tagged = text.slice(text.lastIndexOf(`${tag} `)).trimEnd();
    return { text, bytes, tagged };
  }

  async login(lab: LabImap): Promise<void> {
    const reply = await this.command(`LOGIN "${lab.user}" "${lab.password}"`);
    if (!/ OK /.test(reply.tagged)) throw new Error(`login failed: ${reply.tagged}`);
  }

  /** Sends `<tag> <line>` without waiting; returns the tag (for commands with synchronizing literals). */
  begin(line: string): string {
    const tag = `R${this.#next++}`;
    this.#socket.write(`${tag} ${line}\r\n`);
    return tag;
  }

  /** Writes raw bytes (a literal, the rest of a command line). */
  write(data: string | Buffer): void {
    this.#socket.write(data);
  }

  /** Everything up to and including the tagged response to `tag`. */
  finish(tag: string): Promise<string> {
    return this.#readUntil(new RegExp(`(^|\\r\\n)${tag} [^\\r\\n]*\\r\\n`));
  }

  /** Starts IDLE and resolves once the server's `+` says it is idling; returns the IDLE's tag. */
  async startIdle(): Promise<string> {
    const tag = `R${this.#next++}`;
    this.#socket.write(`${tag} IDLE\r\n`);
    await this.#readUntil(/(^|\r\n)\+ [^\r\n]*\r\n/);
    return tag;
  }

  /** Sends DONE and returns everything up to the IDLE's tagged response. */
  async endIdle(tag: string): Promise<string> {
    this.#socket.write('DONE\r\n');
    return this.#readUntil(new RegExp(`(^|\\r\\n)${tag} [^\\r\\n]*\\r\\n`));
  }

  /** Waits (without a deadline of its own: the test timeout bounds it) for a pattern. */
  waitFor(pattern: RegExp): Promise<string> {
    return this.#readUntil(pattern);
  }

  /** Resolves with whatever arrives before `ms` passes (used to assert that nothing does). */
  async collectFor(ms: number): Promise<string> {
    await new Promise((r) => setTimeout(r, ms));
    const text = this.#buffer.toString('latin1');
    this.#buffer = Buffer.alloc(0);
    return text;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    const closed = new Promise<void>((r) => this.#socket.once('close', () => r()));
    this.#socket.end('Z LOGOUT\r\n');
    setTimeout(() => this.#socket.destroy(), 2000).unref();
    await closed;
  }

  async #readUntil(end: RegExp): Promise<string> {
    for (;;) {
      const text = this.#buffer.toString('latin1');
      const match = end.exec(text);
      if (match) {
        const upTo = match.index + match[0].length;
        this.#buffer = this.#buffer.subarray(upTo);
        return text.slice(0, upTo);
      }
      if (this.#closed) throw new Error(`connection closed; got ${JSON.stringify(text)}`);
      await new Promise<void>((r) => (this.#waiter = r));
      this.#waiter = null;
    }
  }
}
