/**
 * One finding of `mailprobe probe`, as the TLS facts produce it. Kept to the
 * shape the findings model (src/probe/findings.ts) uses, so that the two fold
 * into one type.
 */
export interface Finding {
  /** Stable id, e.g. "tls-expired": scripts and JUnit gate on it. */
  id: string;
  severity: 'ok' | 'info' | 'warn' | 'fail';
  host: string;
  address: string;
  port: number;
  title: string;
  /** The exact fact or error the finding rests on. */
  evidence: string;
  /** What a support engineer can read out to a customer. */
  hint: string;
}
