import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml, stringify } from 'yaml';
import { ECHO_OPEN, echo, type ListenerSpec, type Mechanism, type WireSecret } from './echo-server.js';

/**
 * The redaction canary's moving parts: which passwords, which mechanisms, the
 * target and scenario files that make mailprobe log in with each of them, and
 * the search of every output for what was sent.
 */

/** Printable ASCII punctuation (every printable character that is not a letter or digit), and space. */
export const SPECIALS = [...'!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~', ' '];

/**
 * Password characters: every special, mixed with a few letters and digits.
 * None of them is 'u' or 'x', which user names are made of, so a password
 * form never hides part of a user name and the positive check below stays exact.
 */
const CYCLE = SPECIALS.flatMap((c, i) => [c, 'KqWz789'[i % 7] as string]);

/** A password of `length` characters; the offset moves with the length so every special shows up at every position over the matrix. */
export function passwordOfLength(length: number): string {
  return Array.from({ length }, (_, i) => CYCLE[(length * 5 + i) % CYCLE.length]).join('');
}

/** Every special alone, then inside a longer password (the issue's example shape: `Quo"te\…`). */
export function specialPasswords(): { short: string[]; long: string[] } {
  return {
    short: [...SPECIALS],
    long: [...SPECIALS.map((c) => `Kq${c}7W${c}z`), 'Quo"te\\Kq"9\\\\z'],
  };
}

/** User names of lengths 1–6, so the user name's length takes every value mod 3. */
export function userFor(index: number): string {
  return `u${'x'.repeat(index % 6)}`;
}

export interface CanaryAccount {
  readonly role: string;
  readonly user: string;
  readonly password: string;
  readonly envName: string;
}

export function accountsFor(passwords: readonly string[], offset = 0): CanaryAccount[] {
  return passwords.map((password, i) => ({ role: `a${offset + i}`, user: userFor(offset + i), password, envName: `CANARY_A${offset + i}_PASSWORD` }));
}

/** Echo-host listeners by endpoint name: which mechanism each endpoint makes a client pick. */
export const LISTENERS: Record<'main' | 'saslLogin', Record<string, ListenerSpec>> = {
  main: {
    pop3: { protocol: 'pop3', sasl: [] },
    pop3s: { protocol: 'pop3', sasl: ['PLAIN'] },
    // No AUTH=: imapflow sends LOGIN; the raw client always does.
    imap: { protocol: 'imap', sasl: [] },
    // LOGINDISABLED with AUTH=PLAIN: imapflow authenticates with SASL PLAIN (it would refuse LOGIN).
    imaps: { protocol: 'imap', sasl: ['PLAIN'], capabilities: ['LOGINDISABLED'] },
    smtp: { protocol: 'smtp', sasl: ['PLAIN'] },
    submission: { protocol: 'smtp', sasl: ['LOGIN'] },
  },
  // imapflow takes AUTHENTICATE LOGIN only when AUTH=PLAIN is not offered: a run of its own.
  saslLogin: {
    imap: { protocol: 'imap', sasl: ['LOGIN'] },
  },
};

/** One scenario per account and mechanism: a single step that needs a logged-in session. */
const SCENARIOS: Record<'main' | 'saslLogin', Record<string, (role: string) => Record<string, unknown>>> = {
  main: {
    'pop3-user': (role) => ({ sessions: { box: { protocol: 'pop3', endpoint: 'pop3', account: role } }, steps: [{ action: 'pop3.stat', session: 'box' }] }),
    'pop3-plain': (role) => ({ sessions: { box: { protocol: 'pop3', endpoint: 'pop3s', account: role } }, steps: [{ action: 'pop3.stat', session: 'box' }] }),
    'imap-login': (role) => ({ sessions: { box: { protocol: 'imap', endpoint: 'imap', account: role } }, steps: [{ action: 'imap.noop', session: 'box' }] }),
    'imap-raw-login': (role) => ({
      sessions: { box: { protocol: 'imap', endpoint: 'imap', account: role } },
      steps: [{ action: 'imap.raw-noop', session: 'box' }],
    }),
    'imap-sasl-plain': (role) => ({
      sessions: { box: { protocol: 'imap', endpoint: 'imaps', account: role } },
      steps: [{ action: 'imap.noop', session: 'box' }],
    }),
    'smtp-plain': (role) => smtpScenario(role, 'smtp'),
    'smtp-login': (role) => smtpScenario(role, 'submission'),
  },
  saslLogin: {
    'imap-sasl-login': (role) => ({
      sessions: { box: { protocol: 'imap', endpoint: 'imap', account: role } },
      steps: [{ action: 'imap.noop', session: 'box' }],
    }),
  },
};

function smtpScenario(role: string, endpoint: string): Record<string, unknown> {
  return {
    // Cleanup is required after a send; its POP3 login is refused (and echoed) too.
    sessions: { box: { protocol: 'pop3', endpoint: 'pop3', account: role } },
    steps: [{ action: 'smtp.send', with: { endpoint, account: role, auth: true, to: [`${role}@echo.test`] } }],
    cleanup: [{ action: 'pop3.cleanup', session: 'box' }],
  };
}

/** The mechanisms a configuration's scenarios make the clients use (asserted against the wire). */
export const EXPECTED_MECHANISMS: Record<'main' | 'saslLogin', readonly Mechanism[]> = {
  main: ['pop3 USER/PASS', 'pop3 AUTH PLAIN', 'imap LOGIN', 'imap AUTHENTICATE PLAIN', 'smtp AUTH PLAIN', 'smtp AUTH LOGIN'],
  saslLogin: ['imap AUTHENTICATE LOGIN'],
};

export async function writeRunFiles(
  dir: string,
  kind: 'main' | 'saslLogin',
  ports: Record<string, number>,
  accounts: readonly CanaryAccount[],
): Promise<{ targetFile: string; scenarioDir: string; env: Record<string, string>; scenarioCount: number }> {
  const endpoints = Object.fromEntries(Object.keys(LISTENERS[kind]).map((name) => [name, { port: ports[name], security: 'none' }]));
  const target = {
    name: 'echo canary',
    host: '127.0.0.1',
    endpoints,
    accounts: Object.fromEntries(accounts.map((a) => [a.role, { user: a.user, address: `${a.role}@echo.test`, password_env: a.envName }])),
    timeouts: { greeting: 10_000, command: 10_000 },
  };
  await mkdir(dir, { recursive: true });
  const targetFile = join(dir, 'target.yaml');
  await writeFile(targetFile, stringify(target));
  const scenarioDir = join(dir, 'scenarios');
  await mkdir(scenarioDir, { recursive: true });
  let scenarioCount = 0;
  for (const account of accounts) {
    for (const [mechanism, build] of Object.entries(SCENARIOS[kind])) {
      const doc = { name: `canary ${mechanism} ${account.role}`, ...build(account.role) };
      await writeFile(join(scenarioDir, `${account.role}-${mechanism}.yaml`), stringify(doc));
      scenarioCount++;
    }
  }
  return { targetFile, scenarioDir, env: Object.fromEntries(accounts.map((a) => [a.envName, a.password])), scenarioCount };
}

/** RFC 9051 §9 `quoted`: `"` and `\` escaped with a backslash; computed here independently of src/. */
function quoted(value: string): string {
  return `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/** The password a wire secret carries, decoded from what was sent (so the test does not trust the client's own idea of it). */
export function passwordOnWire(secret: WireSecret): string {
  const { mechanism, token } = secret;
  if (mechanism === 'pop3 USER/PASS') return token;
  if (mechanism === 'imap LOGIN') return token.startsWith('"') ? token.slice(1, -1).replace(/\\(.)/g, '$1') : token;
  const decoded = Buffer.from(token, 'base64').toString('utf8');
  if (mechanism.endsWith('LOGIN')) return decoded;
  // RFC 4616 §2: message = [authzid] UTF8NUL authcid UTF8NUL passwd
  return decoded.split('\0').slice(2).join('\0');
}

/**
 * Every view of an output a reader could decode: the bytes as written, and
 * the text inside the format's own escaping (JSON strings, XML and HTML
 * entities, the YAML blocks of TAP), so a secret escaped by the format is still found.
 */
export function views(name: string, text: string): string[] {
  return decodedViews(name, text).map((view) => view.split('[redacted]').join(MARKER));
}

/**
 * What "[redacted]" becomes in a view: a NUL, which no password can hold
 * (the clients refuse it), so that a secret ending in "[" (the raw client
 * sends the password "[" as an atom) is not found in the marker that replaced it.
 */
const MARKER = '\0';

function decodedViews(name: string, text: string): string[] {
  const out = [text];
  if (name.startsWith('json')) {
    try {
      out.push(strings(JSON.parse(text)).join('\n'));
    } catch {
      // A truncated report is still searched as bytes.
    }
  }
  // XML and HTML character references (the HTML report writes &amp; &lt; &gt; &quot; &#39;).
  if (name.startsWith('junit') || name.startsWith('html')) {
    out.push(
      text
        .replace(/&#x([0-9a-f]+);/gi, (_, h: string) => String.fromCodePoint(parseInt(h, 16)))
        .replace(/&#(\d+);/g, (_, d: string) => String.fromCodePoint(Number(d)))
        .replace(/&quot;/g, '"')
        .replace(/&apos;/g, "'")
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
        .replace(/&amp;/g, '&'),
    );
  }
  if (name.startsWith('tap')) {
    // Test point descriptions escape '\\' and '#' (TAP 14); only those lines are read that way.
    out.push(
      text
        .split('\n')
        .filter((line) => /^(not )?ok /.test(line))
        .map((line) => line.replace(/\\([\\#])/g, '$1'))
        .join('\n'),
    );
    for (const block of text.matchAll(/^ {2}---\n([\s\S]*?)^ {2}\.\.\.$/gm)) {
      try {
        out.push(strings(parseYaml((block[1] ?? '').replace(/^ {2}/gm, ''))).join('\n'));
      } catch {
        // Searched as bytes above.
      }
    }
  }
  return out;
}

function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}

/**
 * A form shorter than this is searched only where the server put it (inside
 * the echo markers) and in its command line, never alone: a 1-character
 * password is in almost any text ("[redacted]" itself holds an 'e'), and a
 * 2-character base64 tail turns up in any run id. From this length on, a form
 * is searched everywhere, bare, in every view of every output.
 */
export const BARE_SEARCH_MIN = 8;

export interface Leak {
  readonly output: string;
  readonly mechanism: Mechanism;
  readonly what: string;
  readonly needle: string;
  /** The password the leaked secret carried, decoded from the wire. */
  readonly password: string;
}

/**
 * Searches every output for every form of every secret that was on the wire:
 * the token as sent, the echoed line, the password decoded from the wire, and
 * its IMAP-quoted form.
 */
export function findLeaks(outputs: Record<string, string>, secrets: readonly WireSecret[]): Leak[] {
  const leaks: Leak[] = [];
  const viewed = Object.entries(outputs).map(([name, text]) => [name, views(name, text)] as const);
  for (const secret of secrets) {
    const password = passwordOnWire(secret);
    const needles: Array<[string, string]> = [
      ['the echo of the line as sent', echo(secret.line)],
      ['the line as sent', secret.line],
      ['the token as sent', secret.token],
      ['the password', password],
      ['the password, IMAP-quoted', quoted(password)],
    ];
    for (const [what, needle] of needles) {
      if (needle.length < BARE_SEARCH_MIN && !needle.startsWith(ECHO_OPEN)) continue;
      for (const [name, texts] of viewed) {
        if (texts.some((t) => t.includes(needle))) leaks.push({ output: name, mechanism: secret.mechanism, what, needle, password });
      }
    }
  }
  return leaks;
}

/**
 * The other half: the echo of each secret-bearing line reached every output
 * with exactly the secret replaced, so the search above looked at text that
 * really carried it back. Only for passwords of 4 or more characters: a
 * shorter password is (rightly) hidden wherever it occurs, marker text included.
 */
export function missingRedactedEchoes(outputs: Record<string, string>, secrets: readonly WireSecret[]): string[] {
  const missing: string[] = [];
  const viewed = Object.entries(outputs).map(([name, text]) => [name, views(name, text)] as const);
  for (const secret of secrets) {
    const shown = echo(secret.line.slice(0, secret.line.length - secret.token.length) + MARKER);
    for (const [name, texts] of viewed) {
      if (!name.startsWith('out-dir') && !texts.some((t) => t.includes(shown))) missing.push(`${name}: ${shown}`);
    }
  }
  return missing;
}

/** Every regular file under `dir` (none if it does not exist), as name → latin1 text. */
export async function filesAsOutputs(dir: string, prefix: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (at: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(at, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) out[`${prefix}${path.slice(dir.length)}`] = await readFile(path, 'latin1');
    }
  };
  await walk(dir);
  return out;
}
