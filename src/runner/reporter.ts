import type { RunResult, ScenarioResult, StepResult, TargetSummary } from './results.js';
import type { Redactor } from '../transport/redact.js';

/**
 * Runner events. The runner never prints: it emits these, and reporters
 * subscribe to the hooks they care about. Every hook is optional.
 */
export interface RunStartInfo {
  readonly runId: string;
  readonly target: TargetSummary;
  readonly scenarioCount: number;
  readonly startedAt: number;
  readonly version?: string;
}

export interface ScenarioStartInfo {
  readonly id: string;
  readonly name: string;
  readonly file: string;
  readonly index: number;
  readonly total: number;
}

export interface Reporter {
  readonly name: string;
  onRunStart?(info: RunStartInfo): void | Promise<void>;
  onScenarioStart?(info: ScenarioStartInfo): void | Promise<void>;
  onStepEnd?(scenario: ScenarioStartInfo, step: StepResult): void | Promise<void>;
  onScenarioEnd?(result: ScenarioResult): void | Promise<void>;
  /** Final hook: file reporters write their file here. */
  onRunEnd?(result: RunResult): void | Promise<void>;
}

/** What every reporter is built with. */
export interface ReporterContext {
  /** Scrubs every known secret again at report time. */
  readonly redactor: Redactor;
  /** Output file, for file reporters; undefined means stdout. */
  readonly outFile?: string;
  /** Colour on (console reporter on a TTY). */
  readonly color: boolean;
  /** Writable for progress, normally process.stderr. */
  readonly stderr: NodeJS.WritableStream;
  /** Writable for main output, normally process.stdout. */
  readonly stdout: NodeJS.WritableStream;
  /** Directory paths in reports are relative to, normally the cwd. */
  readonly cwd: string;
}
