import type { RunResult, ScenarioResult, StepResult } from './results.js';
import { OutputFileError } from '../transport/private-files.js';
import type { Redactor } from '../transport/redact.js';
import type { Reporter, RunStartInfo, ScenarioStartInfo } from './reporter.js';

/**
 * Fans every runner event out to all reporters, one after the other (so two
 * reporters writing to the same stream keep their order), awaiting each.
 *
 * A reporter that throws must not cost the user the other reports, nor stop
 * the run: its crash is caught and recorded, it gets no further events (its
 * state is no longer trustworthy, and a half-built file is worse than none),
 * and the crash is reported on stderr after the others have finished. The CLI
 * reads `crashed` to exit non-zero.
 */
export interface ReporterCrash {
  readonly reporter: string;
  readonly hook: HookName;
  readonly error: unknown;
}

type HookName = 'onRunStart' | 'onScenarioStart' | 'onStepEnd' | 'onScenarioEnd' | 'onRunEnd';

export class ReporterMultiplexer implements Reporter {
  readonly name = 'multiplexer';
  readonly #reporters: readonly Reporter[];
  readonly #stderr: NodeJS.WritableStream;
  readonly #redactor: Redactor | undefined;
  readonly #crashes: ReporterCrash[] = [];
  readonly #dead = new Set<Reporter>();

  constructor(reporters: readonly Reporter[], options: { stderr: NodeJS.WritableStream; redactor?: Redactor }) {
    this.#reporters = reporters;
    this.#stderr = options.stderr;
    this.#redactor = options.redactor;
  }

  get crashed(): boolean {
    return this.#crashes.length > 0;
  }

  get crashes(): readonly ReporterCrash[] {
    return this.#crashes;
  }

  async onRunStart(info: RunStartInfo): Promise<void> {
    await this.#each('onRunStart', (r) => r.onRunStart?.(info));
  }

  async onScenarioStart(info: ScenarioStartInfo): Promise<void> {
    await this.#each('onScenarioStart', (r) => r.onScenarioStart?.(info));
  }

  async onStepEnd(scenario: ScenarioStartInfo, step: StepResult): Promise<void> {
    await this.#each('onStepEnd', (r) => r.onStepEnd?.(scenario, step));
  }

  async onScenarioEnd(result: ScenarioResult): Promise<void> {
    await this.#each('onScenarioEnd', (r) => r.onScenarioEnd?.(result));
  }

  async onRunEnd(result: RunResult): Promise<void> {
    await this.#each('onRunEnd', (r) => r.onRunEnd?.(result));
    this.#reportCrashes();
  }

  async #each(hook: HookName, call: (reporter: Reporter) => void | Promise<void>): Promise<void> {
    for (const reporter of this.#reporters) {
      if (this.#dead.has(reporter)) continue;
      try {
        await call(reporter);
      } catch (error) {
        this.#dead.add(reporter);
        this.#crashes.push({ reporter: reporter.name, hook, error });
      }
    }
  }

  #reportCrashes(): void {
    for (const crash of this.#crashes) {
      // Only the message, redacted, never a dump of the error object: it may
      // hold data the reporter was working on.
      const raw = crash.error instanceof Error ? crash.error.message : String(crash.error);
      const message = this.#redactor !== undefined ? this.#redactor.text(raw) : raw;
      if (crash.error instanceof OutputFileError) {
        this.#stderr.write(`mailprobe: reporter "${crash.reporter}": the report could not be written: ${message}\n`);
      } else {
        this.#stderr.write(`mailprobe: reporter "${crash.reporter}" crashed in ${crash.hook}: ${message}; its output is missing or incomplete\n`);
      }
    }
  }
}
