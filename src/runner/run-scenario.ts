import { join } from 'node:path';
import type { ActionContext } from '../actions/context.js';
import { ScenarioRecord, type RunLedger } from './creation-record.js';
import type { Redactor } from '../transport/redact.js';
import { Transcript, type TranscriptEntry } from '../transport/transcript.js';
import { RunProblem } from '../protocols/outcomes.js';
import type { ScenarioResult, StepResult } from './results.js';
import type { RunAccount, RunTarget } from '../actions/run-target.js';
import { runStep, type Resolve } from './run-step.js';
import type { Scenario, Step } from '../scenario/model.js';
import { SessionPool } from './sessions.js';
import { unmetRequirements } from './requirements.js';
import { shell, StepGate } from './step-gate.js';
import { scenarioVerdict } from './verdict.js';
import { judgeDeviations } from './deviations.js';

export interface ScenarioEnvironment {
  readonly runId: string;
  readonly target: RunTarget;
  readonly passwords: Readonly<Record<string, string>>;
  readonly redactor: Redactor;
  /** Aborted on Ctrl-C: steps stop, cleanup still runs. */
  readonly signal: AbortSignal;
  /** Cleanup gets its own time, bounded, even after an abort. */
  readonly cleanupTimeoutMs: number;
  /** Aborted on a second Ctrl-C: cleanup stops waiting, and what it did not confirm gone is a leftover. */
  readonly stopCleanup?: AbortSignal;
  /** The run's live list of leftovers, for a CLI that must leave before the reports are done. */
  readonly ledger?: RunLedger;
  readonly messageDir: string;
  /** Builds the ${…} resolver for a scenario from its captures. */
  readonly makeResolver: (scenario: Scenario, captures: Record<string, unknown>, target?: RunTarget) => Resolve;
  readonly onStepEnd?: (step: StepResult) => void | Promise<void>;
  /** Every transcript line as it is written (already redacted where a client marked a secret): --verbose. */
  readonly onTranscript?: (entry: TranscriptEntry) => void;
  /** Live "waiting for …" line (ActionContext.waiting). */
  readonly waiting?: ActionContext['waiting'];
}

/** What every result of `scenario` says about it, run or not. */
export function scenarioIdentity(scenario: Scenario, startedAt: number) {
  return {
    id: scenario.id,
    name: scenario.name,
    ...(scenario.description ? { description: scenario.description } : {}),
    file: scenario.file,
    line: scenario.source.line,
    tags: scenario.tags,
    rfc: scenario.rfc,
    startedAt,
  };
}

export async function runScenario(scenario: Scenario, env: ScenarioEnvironment): Promise<ScenarioResult> {
  const startedAt = Date.now();
  const base = scenarioIdentity(scenario, startedAt);
  const properties: Record<string, string> = {};
  const capabilities: Record<string, readonly string[]> = {};
  const leftovers: string[] = [];
  const record = new ScenarioRecord();
  const seen = new Set<string>();

  const unmet = unmetRequirements(scenario, env.target);
  if (unmet) {
    return { ...base, state: 'skipped', reason: unmet, durationMs: 0, steps: [], cleanup: [], properties, capabilities, leftovers };
  }

  const settle = env.ledger?.open(scenario.id, () => [
    ...leftovers,
    ...record.leftovers(uniqueAccounts(env.target), () => 'not confirmed removed: the run was interrupted before cleanup confirmed it'),
  ]);
  // Every token a client marks secret is registered with the run's redactor as it is sent.
  const transcript = new Transcript({ secrets: env.redactor, ...(env.onTranscript ? { onEntry: env.onTranscript } : {}) });
  const captures: Record<string, unknown> = {};
  const resolve = env.makeResolver(scenario, captures, env.target);
  const cleanupAbort = new AbortController();
  const poolFor = (signal: AbortSignal) =>
    new SessionPool(scenario, {
      runId: env.runId,
      target: env.target,
      transcript,
      passwords: env.passwords,
      signal,
      onSeen: (messageId) => seen.add(messageId),
      onFound: (user, found) => record.forAccount(accountByUser(env.target, user)).message(found),
      onOpened: (name, greeting, caps) => {
        properties[`greeting.${name}`] = greeting;
        capabilities[name] = caps;
      },
    });
  const pool = poolFor(env.signal);
  let readersOpened = false;
  const readers = readingSessions(scenario);
  const contextFor =
    (activePool: SessionPool, signal: AbortSignal, phase: 'steps' | 'cleanup') =>
    (step: Step): ActionContext => ({
      runId: env.runId,
      scenarioId: scenario.id,
      ...(step.session ? { sessionName: step.session } : {}),
      target: env.target,
      transcript,
      ...(env.waiting ? { waiting: env.waiting } : {}),
      signal,
      messageDir: join(env.messageDir, scenario.id.replace(/[^\w.-]+/g, '_')),
      session: (kind) => activePool.session(kind, requireSession(step)),
      extraSession: (kind, label, options) => activePool.extraSession(kind, requireSession(step), label, options),
      account: (role) => activePool.account(role),
      sessionAccount: () => activePool.account(activePool.declaration(requireSession(step)).account),
      get record() {
        return record.forAccount(activePool.account(activePool.declaration(requireSession(step)).account));
      },
      openReaders: async () => {
        if (readersOpened || phase === 'cleanup') return;
        await activePool.openReaders(readers, signal);
        readersOpened = true;
      },
      noteSent: (message) => record.noteSent(message),
      sentMessages: () => record.sent(),
      wasSeen: (messageId) => seen.has(messageId),
      password: (role) => activePool.password(role),
      endpoint: (name) => activePool.endpoint(name),
      setProperty: (key, value) => {
        properties[key] = value;
      },
      addLeftover: (description) => leftovers.push(description),
    });

  const steps: StepResult[] = [];
  const stepEnv = { scenario, transcript, redactor: env.redactor, resolve, captures, context: contextFor(pool, env.signal, 'steps'), interrupt: env.signal };
  const gate = new StepGate(pool, captures, (key, value) => (properties[key] = value));
  for (const step of scenario.steps) {
    if (env.signal.aborted) {
      steps.push(interruptedStep(step));
      break;
    }
    const result = (await gate.before(step)) ?? (await runStep(step, stepEnv));
    steps.push(result);
    await env.onStepEnd?.(result);
    if (!gate.after(step, result)) break;
  }

  // Cleanup runs whatever happened above, with its own deadline and signal, so Ctrl-C
  // during the steps still leaves the mailbox as it was found.
  await pool.closeAll();
  const timer = setTimeout(() => cleanupAbort.abort(), env.cleanupTimeoutMs);
  const stopCleanup = () => cleanupAbort.abort(env.stopCleanup?.reason);
  if (env.stopCleanup?.aborted) stopCleanup();
  else env.stopCleanup?.addEventListener('abort', stopCleanup, { once: true });
  const cleanupPool = poolFor(cleanupAbort.signal);
  // The first interrupt is what cleanup runs after, so it interrupts no cleanup step; the second does.
  const cleanupEnv = { ...stepEnv, context: contextFor(cleanupPool, cleanupAbort.signal, 'cleanup'), interrupt: env.stopCleanup };
  const cleanup: StepResult[] = [];
  try {
    for (const step of scenario.cleanup) cleanup.push(await runStep(step, cleanupEnv));
  } finally {
    clearTimeout(timer);
    env.stopCleanup?.removeEventListener('abort', stopCleanup);
    await cleanupPool.closeAll();
  }
  // Whatever the run recorded creating and cleanup did not confirm gone is left, named one by one.
  leftovers.push(...record.leftovers(uniqueAccounts(env.target), (account) => unconfirmedReason(scenario, cleanup, account, env.target)));
  settle?.(leftovers);

  const durationMs = [...steps, ...cleanup].reduce((sum, s) => sum + s.durationMs, 0);
  // The target's known deviations relabel what ran; they never changed what ran (deviations.ts).
  const judged = judgeDeviations(scenario, steps, env.target.deviations ?? []);
  const common = {
    ...base,
    durationMs,
    steps: judged.steps,
    cleanup,
    properties,
    capabilities,
    leftovers,
    ...(judged.deviations.length > 0 ? { deviations: judged.deviations } : {}),
  };
  return scenarioVerdict(common, judged.steps, env.redactor.entries(transcript.entries));
}

/** Sessions the scenario's steps (not its cleanup) use: the ones to open before mail is sent. */
function readingSessions(scenario: Scenario): string[] {
  return [...new Set(scenario.steps.map((s) => s.session).filter((s): s is string => s !== undefined))];
}

function accountByUser(target: RunTarget, user: string): RunAccount {
  const account = Object.values(target.accounts).find((a) => a.user === user);
  if (!account) throw new RunProblem('EUNKNOWN_ACCOUNT', `no account with user '${user}' in the target`);
  return account;
}

/** The target's accounts, one per mailbox user. */
function uniqueAccounts(target: RunTarget): RunAccount[] {
  const byUser = new Map<string, RunAccount>();
  for (const account of Object.values(target.accounts)) if (!byUser.has(account.user)) byUser.set(account.user, account);
  return [...byUser.values()];
}

/** Why an item of this account was not confirmed gone, when its cleanup gave no reason of its own. */
function unconfirmedReason(scenario: Scenario, cleanup: readonly StepResult[], account: RunAccount, target: RunTarget): string {
  const own = cleanup.filter((result, i) => {
    const session = scenario.cleanup[i]?.session;
    return session !== undefined && target.accounts[scenario.sessions[session]?.account ?? '']?.user === account.user;
  });
  if (own.length === 0) return 'no cleanup step removes mail from this account';
  const broken = own.find((r) => r.state !== 'passed');
  if (broken) return `not confirmed removed: cleanup step '${broken.name}' did not complete (${describeStepProblem(broken)})`;
  return 'not confirmed removed by cleanup';
}

function requireSession(step: Step): string {
  if (!step.session) throw new RunProblem('ENO_SESSION', `step '${step.name}' (${step.action}) needs a session`);
  return step.session;
}

function interruptedStep(step: Step): StepResult {
  return {
    ...shell(step),
    state: 'errored',
    problem: { code: 'EINTERRUPTED', message: 'the run was interrupted before this step' },
  };
}

function describeStepProblem(step: StepResult): string {
  switch (step.state) {
    case 'errored':
      return `${step.problem.code}: ${step.problem.message}`;
    case 'failed':
      return step.checks.find((c) => !c.passed)?.actual ?? 'failed';
    case 'inconclusive':
    case 'skipped':
      return step.reason;
    default:
      return 'passed';
  }
}
