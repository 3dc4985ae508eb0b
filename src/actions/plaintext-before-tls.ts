/**
 * How a clear (STARTTLS/STLS) port shows whether it takes a password before
 * the upgrade, judged alike for POP3 and IMAP (RFC 2595 §2.3: a server that
 * implements STARTTLS MUST be configurable to refuse all clear-text login
 * commands or mechanisms until TLS is active; RFC 9051 §6.2.3 for IMAP LOGIN).
 *
 * The check never sends a password, real or made up, in clear:
 * - the real one would be exposed to anyone on the path, which is what is
 *   being tested for;
 * - a wrong one proves nothing (a refused plaintext login and a refused wrong
 *   password both answer -ERR / NO) and counts as a failed login on a real
 *   account, which can lock it or get the probe's address banned.
 * So it reads only what the server offers before TLS: IMAP's LOGINDISABLED and
 * AUTH= capabilities, POP3's SASL mechanisms, and POP3's answer to USER with the
 * account's name (no PASS follows). A +OK to USER is the server asking for the
 * password in clear; a server that refuses plaintext says -ERR there already
 * (Dovecot, Cyrus). The account name is sent: it is the address mail is
 * delivered to, in clear, in every SMTP envelope, not a secret.
 */

/** SASL mechanisms whose client response is the password itself (RFC 4616 PLAIN, the obsolete LOGIN). */
const PLAINTEXT_SASL = new Set(['PLAIN', 'LOGIN']);

/** The mechanisms in `mechanisms` (upper- or mixed-case names) that carry a plaintext password. */
export function plaintextMechanisms(mechanisms: readonly string[]): string[] {
  return mechanisms.map((m) => m.toUpperCase()).filter((m) => PLAINTEXT_SASL.has(m));
}
