import { REDACTED, type TranscriptEntry } from './transcript.js';

/**
 * Report-time scrubbing. Everything a reporter writes passes through a
 * Redactor that knows every secret value of the run (passwords read from the
 * environment, and their base64 forms as they appear inside AUTH PLAIN), plus
 * patterns for credential-bearing commands in case a line was not marked at
 * its source.
 */
export class Redactor {
  readonly #secrets: string[];
  readonly #encoded: string[];

  constructor(secrets: Iterable<string> = []) {
    const plain = new Set<string>();
    const encoded = new Set<string>();
    for (const secret of secrets) {
      if (secret.length < 1) continue;
      plain.add(secret);
      for (const form of encodedForms(secret)) encoded.add(form);
    }
    // Longest first, so a secret that contains another is replaced whole.
    this.#secrets = [...plain].sort((a, b) => b.length - a.length);
    this.#encoded = [...encoded];
  }

  get size(): number {
    return this.#secrets.length;
  }

  /** Only the known secret values, without the command patterns (for titles and names). */
  secrets(input: string): string {
    let out = input;
    for (const secret of this.#secrets) {
      if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    }
    if (this.#encoded.length === 0) return out;
    // A base64 form is replaced with the whole base64 token around it: the
    // characters either side of a matched core still decode to parts of the secret.
    return out.replace(BASE64_TOKEN, (token) => (this.#encoded.some((form) => token.includes(form)) ? REDACTED : token));
  }

  text(input: string): string {
    return scrubCredentialCommands(this.secrets(input));
  }

  entry(entry: TranscriptEntry): TranscriptEntry {
    const text = this.text(entry.text);
    return text === entry.text ? entry : { ...entry, text };
  }

  entries(entries: readonly TranscriptEntry[]): TranscriptEntry[] {
    return entries.map((e) => this.entry(e));
  }
}

const BASE64_TOKEN = /[A-Za-z0-9+/]{4,}={0,2}/g;

function encodedForms(secret: string): string[] {
  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
  // A password alone, and inside "\0user\0password" framed at any byte offset,
  // leaves a recognisable base64 core: cover the three alignments.
  const forms = [b64(secret)];
  for (const pad of ['\0', '\0\0']) {
    const encoded = b64(pad + secret);
    const skip = Math.ceil((pad.length * 4) / 3) + 1;
    const core = encoded.slice(skip, encoded.length - 4);
    if (core.length >= 8) forms.push(core);
  }
  return forms;
}

const CREDENTIAL_PATTERNS: Array<[RegExp, string]> = [
  // POP3 PASS, APOP digest
  [/^(PASS )(.+)$/i, `$1${REDACTED}`],
  [/^(APOP \S+ )(.+)$/i, `$1${REDACTED}`],
  // SASL with an initial response (POP3 AUTH, SMTP AUTH, IMAP AUTHENTICATE)
  [/^((?:\S+ )?(?:AUTH|AUTHENTICATE) (?:PLAIN|LOGIN|XOAUTH2|OAUTHBEARER) )(\S+)$/i, `$1${REDACTED}`],
  // IMAP LOGIN user password
  [/^(\S+ LOGIN (?:"[^"]*"|\S+) )(.+)$/i, `$1${REDACTED}`],
];

function scrubCredentialCommands(line: string): string {
  for (const [pattern, replacement] of CREDENTIAL_PATTERNS) {
    if (pattern.test(line)) return line.replace(pattern, replacement);
  }
  return line;
}
