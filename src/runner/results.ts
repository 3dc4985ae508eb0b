import type { SourcePos } from '../core/source.js';
import type { TranscriptEntry } from '../transport/transcript.js';

/**
 * The one result model. Console, JUnit, TAP and JSON all render from these
 * types, so the formats can never disagree about what happened.
 *
 * - failed:       the server answered, and the answer breaks the promise (non-compliance)
 * - errored:      the check could not happen (refused, TLS, timeout, bad credentials)
 * - inconclusive: the server refused for now (4xx, [IN-USE], [SYS/TEMP]); try again later
 * - skipped:      the target lacks what the scenario requires (endpoint, account, capability)
 */
export type Verdict = 'passed' | 'failed' | 'errored' | 'skipped' | 'inconclusive';

export type { CheckResult, ProblemInfo } from '../core/checks.js';
import type { CheckResult, ProblemInfo } from '../core/checks.js';

interface StepCommon {
  readonly name: string;
  readonly action: string;
  readonly session?: string;
  readonly source: SourcePos;
  /** Wall time spent in this step's protocol exchanges, in milliseconds. */
  readonly durationMs: number;
  readonly checks: readonly CheckResult[];
  /** Redacted lines exchanged during the step. */
  readonly transcript: readonly TranscriptEntry[];
  /**
   * On a failed step: the items the server did not send (e.g. "uidnext",
   * "captures.s1.uidnext"), when they are all that failed. The scenario then
   * goes on; checks that need those items are reported as not judged.
   */
  readonly missing?: readonly string[];
}

export type StepResult =
  | (StepCommon & { readonly state: 'passed' })
  | (StepCommon & { readonly state: 'failed' })
  | (StepCommon & { readonly state: 'errored'; readonly problem: ProblemInfo })
  | (StepCommon & { readonly state: 'inconclusive'; readonly reason: string })
  | (StepCommon & {
      readonly state: 'skipped';
      readonly reason: string;
      /** Only this step was skipped (its own requires, or a skipped step it depends on); the scenario went on. */
      readonly stepOnly?: true;
    });

/**
 * A case of a run. Most are scenarios, read from a file; a case may also come
 * from elsewhere (a finding of `mailprobe probe` on one address:port) and then
 * has no file or line. The optional fields below say how such a case is
 * grouped and shown; a scenario leaves them out and reads as it always did.
 */
interface ScenarioCommon {
  /** Stable id: the scenario file path relative to the suite root, without extension. */
  readonly id: string;
  readonly name: string;
  readonly description?: string;
  /** Path of the scenario file as the user gave it; absent for a case that no file describes. */
  readonly file?: string;
  /** Line of the scenario in its file; present exactly when `file` is. */
  readonly line?: number;
  /** What groups cases into one JUnit <testsuite> (e.g. the probed host); default: the file. */
  readonly suite?: string;
  /** JUnit classname; default: the folders of the id (see classnameFor). */
  readonly classname?: string;
  /**
   * Labelled lines a reader should see whatever the verdict (a probe
   * finding's severity, evidence and hint): in a failure's body, and beside a
   * case that passed or was skipped (JUnit <system-out>, TAP diagnostics,
   * console rows). Redacted like every other string.
   */
  readonly remarks?: readonly Remark[];
  readonly tags: readonly string[];
  readonly rfc: readonly string[];
  /** Protocol time only: time spent in steps, not in report writing. */
  readonly durationMs: number;
  readonly startedAt: number;
  readonly steps: readonly StepResult[];
  readonly cleanup: readonly StepResult[];
  /** Things a report shows beside the verdict: server greeting, delivery time, saved copy path. */
  readonly properties: Readonly<Record<string, string>>;
  /** Capability lists each session saw, by session name. */
  readonly capabilities: Readonly<Record<string, readonly string[]>>;
  /** What cleanup could not remove, named so a person can remove it by hand. */
  readonly leftovers: readonly string[];
  /**
   * The target's known deviations (its `deviations:`) for this scenario that
   * the run judged: listed checks that failed ('known') and listed checks
   * that now pass ('fixed'). Absent when none was judged. A known deviation
   * does not decide the verdict; it is always listed beside it.
   */
  readonly deviations?: readonly DeviationResult[];
}

/** One listed deviation as the run found it (see ScenarioCommon.deviations and src/runner/deviations.ts). */
export interface DeviationResult {
  /** `<scenario id>#<check id>`, as the target file lists it. */
  readonly check: string;
  /** known: the check failed as listed; fixed: it passed, so the entry can go. */
  readonly status: 'known' | 'fixed';
  readonly reason: string;
  readonly rfc: string;
  /** The step the check belongs to, and where the check is written. */
  readonly step: string;
  readonly source?: SourcePos;
  readonly expected: string;
  readonly actual: string;
  /** known only: checks that were not judged because of the item this check found missing. */
  readonly notJudged?: number;
  /**
   * known only: the scenario stopped at this check's step (a failed check
   * that is not a missing item stops a scenario, listed or not), so this many
   * later steps did not run and nothing they check was judged.
   */
  readonly stepsNotRun?: number;
}

export interface Remark {
  readonly label: string;
  readonly text: string;
  /**
   * The text is mailprobe's own wording (a catalogue title or hint), not
   * server bytes: redaction then scrubs known secrets only, as for titles,
   * so "plaintext login is offered" keeps its words.
   */
  readonly prose?: true;
}

/** One failed check of the failing step. */
export interface FailedCheck {
  /** `<scenario id>#<check id>`: the name a target's deviations would list it by; absent for mailprobe's own checks. */
  readonly check?: string;
  readonly message: string;
  readonly source: SourcePos;
  readonly expected: string;
  readonly actual: string;
  readonly rfc?: string;
}

/**
 * The first step that broke the promise, with everything a mail admin needs.
 * The top-level fields are its first failed check (as before, for JSON
 * readers); `checks` lists every failed check of that step, the first included.
 */
export interface FailureInfo {
  /** The failing step and where it is written; absent for a case no file describes. */
  readonly step?: string;
  readonly source?: SourcePos;
  /** The first failed check's full id (FailedCheck.check). */
  readonly check?: string;
  readonly message: string;
  /** What was expected and what came, for a failed check; a probe finding says it in `remarks` instead. */
  readonly expected?: string;
  readonly actual?: string;
  readonly rfc?: string;
  readonly checks: readonly FailedCheck[];
  readonly transcript: readonly TranscriptEntry[];
}

export interface ErrorInfo extends ProblemInfo {
  readonly step?: string;
  readonly source?: SourcePos;
  readonly transcript: readonly TranscriptEntry[];
}

export type ScenarioResult =
  | (ScenarioCommon & { readonly state: 'passed' })
  | (ScenarioCommon & { readonly state: 'failed'; readonly failure: FailureInfo })
  | (ScenarioCommon & { readonly state: 'errored'; readonly error: ErrorInfo })
  | (ScenarioCommon & { readonly state: 'inconclusive'; readonly reason: string; readonly transcript: readonly TranscriptEntry[] })
  | (ScenarioCommon & { readonly state: 'skipped'; readonly reason: string });

export interface TargetSummary {
  readonly name: string;
  readonly host: string;
  /** Path of the target file, or "(lab)" for the built-in lab. */
  readonly file: string;
  /** True when any endpoint was used with certificate verification off. */
  readonly insecure: boolean;
}

export interface RunResult {
  readonly runId: string;
  readonly startedAt: number;
  readonly durationMs: number;
  readonly target: TargetSummary;
  readonly scenarios: readonly ScenarioResult[];
  /** True when the run was stopped by SIGINT/SIGTERM; cleanup still ran unless `cleanupStopped`. */
  readonly interrupted: boolean;
  /** True when a second SIGINT/SIGTERM cut cleanup short: the leftovers name what may remain. */
  readonly cleanupStopped: boolean;
  readonly mailprobeVersion: string;
  /**
   * The most octets of server input held at once during the run (partial and
   * queued lines, multi-line replies, literals): what the servers made
   * mailprobe buffer. From `bufferedBytes` (src/transport/limits.ts).
   */
  readonly peakBufferedBytes: number;
  /** Present only on a run of one shard (`run --shard i/n`, see shard.ts): which part of the suite it ran. */
  readonly shard?: { readonly index: number; readonly total: number };
}

export interface RunCounts {
  readonly total: number;
  readonly passed: number;
  readonly failed: number;
  readonly errored: number;
  readonly skipped: number;
  readonly inconclusive: number;
}

export function countResults(scenarios: readonly { state: Verdict }[]): RunCounts {
  const counts = { total: 0, passed: 0, failed: 0, errored: 0, skipped: 0, inconclusive: 0 };
  for (const s of scenarios) {
    counts.total++;
    counts[s.state]++;
  }
  return counts;
}
