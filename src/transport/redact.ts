import { REDACTED, type SecretSink, type TranscriptEntry } from './transcript.js';

/** An account's credentials, as the clients put them on the wire. */
export interface Credential {
  readonly user: string;
  readonly password: string;
}

/**
 * Report-time scrubbing. Everything a reporter writes passes through a
 * Redactor that knows every exact form in which mailprobe or its libraries
 * send a secret (see {@link sentForms}), plus every token a client marked
 * secret while it was sent (registered through the transcript, see
 * {@link Redactor.add}), plus patterns for credential-bearing commands in
 * case a client line was not marked at its source.
 *
 * Each form is replaced whole, wherever it appears: a server that echoes the
 * client's command in its error text puts the exact token back in the
 * transcript and in the error message, and nothing of it may survive.
 *
 * There is no search for the password inside arbitrary base64 any more: the
 * cores it looked for at guessed alignments had to be 8 characters or more,
 * so every AUTH PLAIN token of a password under 8 characters (and some of 8)
 * and every AUTH LOGIN token under 3 went through, and it swallowed whole
 * runs of unrelated letters around a match. The tokens sent are known exactly.
 */
export class Redactor implements SecretSink {
  readonly #forms = new Set<string>();
  #sorted: string[] | undefined = [];
  #values = 0;

  /** Bare strings are secret values whose user is not known: the value and its encodings are covered. */
  constructor(secrets: Iterable<string | Credential> = []) {
    for (const secret of secrets) {
      if (typeof secret === 'string') {
        if (secret.length === 0) continue;
        this.#values++;
        for (const form of valueForms(secret)) this.#forms.add(form);
      } else {
        if (secret.password.length === 0) continue;
        this.#values++;
        for (const form of sentForms(secret)) this.#forms.add(form);
      }
    }
    this.#sorted = undefined;
  }

  /** How many secret values (passwords) the run gave it; registered tokens do not count. */
  get size(): number {
    return this.#values;
  }

  /**
   * Registers an exact token a client sent as a secret (the transcript calls
   * this for every line part marked `secret`), so that a mechanism added later
   * is covered even if nobody updates {@link sentForms}.
   */
  add(token: string): void {
    if (token.length === 0 || this.#forms.has(token)) return;
    this.#forms.add(token);
    this.#sorted = undefined;
  }

  /** Only the known secret forms, without the command patterns (for titles and names). */
  secrets(input: string): string {
    return hideAll(input, this.#tokens());
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

  #tokens(): string[] {
    this.#sorted ??= [...this.#forms].sort((a, b) => b.length - a.length);
    return this.#sorted;
  }
}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
const unpadded = (s: string): string => s.replace(/=+$/, '');

/**
 * IMAP quoted string, as imapflow's LOGIN and the raw client send a password
 * that is not an atom: RFC 9051 §9, `quoted = DQUOTE *QUOTED-CHAR DQUOTE` with
 * `"\" quoted-specials` for `quoted-specials = DQUOTE / "\"`.
 */
export function imapQuoted(value: string): string {
  return `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/** The value in every text form a line can carry it: as is, IMAP-quoted, and JSON-quoted (imapflow's log form of a string). */
function textForms(value: string): string[] {
  const quoted = imapQuoted(value);
  const json = JSON.stringify(value);
  // The inner parts too: a server may echo an escaped string without its quotes.
  return [value, quoted, quoted.slice(1, -1), json, json.slice(1, -1)];
}

/** A secret whose user is not known: the text forms and the AUTH LOGIN token (base64 of the value alone). */
function valueForms(value: string): string[] {
  const login = b64(value);
  return [...textForms(value), login, unpadded(login)];
}

/**
 * Every exact form in which a password leaves mailprobe:
 * - the password itself (POP3 PASS, an IMAP LOGIN atom, a literal);
 * - IMAP quoted strings (imapflow LOGIN always quotes; the raw client quotes what is not an atom);
 * - base64 of the SASL PLAIN message, RFC 4616 §2 `[authzid] UTF8NUL authcid UTF8NUL passwd`: our POP3
 *   client, imapflow (no authzid is configured) and our SMTP client all send an empty authzid; the
 *   authzid = user variant is what other clients send and costs nothing to cover;
 * - base64 of the password alone, the AUTH LOGIN password response (imapflow, our SMTP client;
 *   draft-murchison-sasl-login: the second response is the password, base64 on the wire);
 * each base64 form with and without its '=' padding (a server may echo it trimmed).
 */
export function sentForms(credential: Credential): string[] {
  const { user, password } = credential;
  const forms = valueForms(password);
  for (const authzid of ['', user]) {
    const plain = b64(`${authzid}\0${user}\0${password}`);
    forms.push(plain, unpadded(plain));
  }
  return forms;
}

/**
 * Replaces every occurrence of every token with one marker per covered span,
 * in one pass over the input: spans of all tokens are merged first, so a
 * shorter token inside (or overlapping) a longer one can never split it and
 * leave part of it visible, and the marker text itself is never searched.
 */
function hideAll(input: string, tokens: readonly string[]): string {
  if (input.length === 0 || tokens.length === 0) return input;
  const spans: Array<[number, number]> = [];
  for (const token of tokens) {
    for (let at = input.indexOf(token); at !== -1; at = input.indexOf(token, at + 1)) spans.push([at, at + token.length]);
  }
  if (spans.length === 0) return input;
  spans.sort((a, b) => a[0] - b[0]);
  let out = '';
  let written = 0;
  let [start, end] = spans[0] as [number, number];
  for (const [s, e] of spans) {
    if (s <= end) {
      end = Math.max(end, e);
      continue;
    }
    out += input.slice(written, start) + REDACTED;
    written = end;
    [start, end] = [s, e];
  }
  return out + input.slice(written, start) + REDACTED + input.slice(end);
}

// An IMAP quoted string with its escapes (RFC 9051 §9 `quoted`), or anything up to the next space.
const ASTRING = String.raw`(?:"(?:[^"\\]|\\.)*"|\S+)`;

const CREDENTIAL_PATTERNS: Array<[RegExp, string]> = [
  // POP3 PASS, APOP digest
  [/^(PASS )(.+)$/i, `$1${REDACTED}`],
  [/^(APOP \S+ )(.+)$/i, `$1${REDACTED}`],
  // SASL with an initial response (POP3 AUTH, SMTP AUTH, IMAP AUTHENTICATE)
  [/^((?:\S+ )?(?:AUTH|AUTHENTICATE) (?:PLAIN|LOGIN|XOAUTH2|OAUTHBEARER) )(\S+)$/i, `$1${REDACTED}`],
  // IMAP LOGIN user password; the user may be quoted with escaped quotes and spaces in it.
  [new RegExp(String.raw`^(\S+ LOGIN ${ASTRING} )(.+)$`, 'i'), `$1${REDACTED}`],
];

function scrubCredentialCommands(line: string): string {
  for (const [pattern, replacement] of CREDENTIAL_PATTERNS) {
    if (pattern.test(line)) return line.replace(pattern, replacement);
  }
  return line;
}
