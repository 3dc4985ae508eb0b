/**
 * The raw-replay rows (issue 12 §1): each shipped scenario's time in the harness against a raw replay of the client
 * lines the harness itself recorded for it. Each side runs every replayed scenario in one child process per
 * repetition, the two interleaved, and reports each scenario's own in-process time: the harness the scenario's durationMs from its JSON report (its steps and
 * cleanup, process start and report writing excluded), the replay the span from its first connect to its last
 * answer. Process start-up is the cold-start rows' subject, not this one's.
 */
import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { interleave, timeCommand, type Command, type Pairs, type Timed } from './measure.js';
import { readLab, planContext } from './replay-lab.js';
import { planScenario, type PlanContext, type ReplayPlan, type ReportScenario } from './replay-plan.js';
import { ratioGoal, rowFrom, type Row } from './rows.js';

/** In --quick mode only these, one of each protocol, so that CI time stays low. */
const QUICK_SUBSET = ['pop3/rset', 'smtp/unknown-recipient', 'imap/starttls'];

interface Report {
  runId: string;
  scenarios: ReportScenario[];
}

export interface ReplayOptions {
  readonly root: string;
  readonly cli: string;
  readonly node: string;
  readonly target: string;
  readonly secretsFile: string;
  readonly scratch: string;
  readonly reps: number;
  readonly quick: boolean;
  readonly say: (line: string) => void;
}

export async function replayRows(o: ReplayOptions): Promise<{ rows: Row[]; notes: string[] }> {
  const harness = (files: readonly string[], report: string): Command => ({
    argv: [o.node, o.cli, 'run', ...files, '--target', o.target, '--secrets-file', o.secretsFile, '--quiet', '--reporter', `json=${report}`, '--out-dir', join(o.scratch, 'replay-messages')],
    cwd: o.root,
  });
  // The recording: the whole shipped suite, once, through the harness.
  const recordedFile = join(o.scratch, 'replay-recorded.json');
  o.say('raw replay: recording the shipped suite once');
  const rec = await timeCommand(harness([], recordedFile));
  if (rec.code !== 0) throw new Error(`the recording run exited ${rec.code}:\n${rec.stderr.slice(-2000)}`);
  const recorded = JSON.parse(await readFile(recordedFile, 'utf8')) as Report;
  const lab = await readLab(o.target);

  if (o.quick) o.say(`raw replay (quick): only ${QUICK_SUBSET.join(', ')}, ${o.reps} repetition(s)`);
  const plans: ReplayPlan[] = [];
  const contexts = new Map<string, PlanContext>();
  const notes: string[] = [];
  const notReplayed: string[] = [];
  for (const scenario of recorded.scenarios) {
    if (o.quick && !QUICK_SUBSET.includes(scenario.id)) continue;
    const context = await planContext(lab, resolve(o.root, scenario.file), recorded.runId);
    contexts.set(scenario.id, context);
    const plan = planScenario(scenario, context);
    if ('reason' in plan) notReplayed.push(`replay:${scenario.id}: not replayed: ${plan.reason}`);
    else plans.push(plan);
  }
  const planFile = join(o.scratch, 'replay-plans.json');
  await writeFile(planFile, JSON.stringify(plans));

  // Each repetition: one harness run of every replayed scenario, then one replay process replaying them in the same
  // order, so that both sides pay their process's warm-up (module imports, the first TLS context) once, as a CI
  // run of the suite does, and not once per scenario.
  const files = plans.map((p) => recorded.scenarios.find((s) => s.id === p.id)!.file);
  const report = join(o.scratch, 'replay-harness.json');
  const subject = harness(files, report);
  const reference: Command = { argv: [o.node, join(o.root, 'dist-bench', 'replay-cli.js'), planFile, o.target, o.secretsFile, ...plans.map((p) => p.id)], cwd: o.root };
  type Work = { clientLines: number; connections: number; polls: number };
  const per = new Map(plans.map((p) => [p.id, { subject: [] as number[], reference: [] as number[], harnessWork: p.recorded as Work, replayWork: undefined as Work | undefined }]));
  o.say(`raw replay: ${plans.length} scenarios, ${o.reps} interleaved repetition(s) of a harness run of them all and a replay of them all`);
  const pairs = await interleave(subject, reference, o.reps, (run, which) => {
    if (run.code !== 0) throw new Error(`${which === 'subject' ? 'mailprobe run' : 'the replay'} exited ${run.code}:\n${run.stderr.slice(-2000)}`);
    if (which === 'subject') {
      const fresh = JSON.parse(readFileSync(report, 'utf8')) as Report;
      for (const [id, row] of per) {
        const scenario = fresh.scenarios.find((s) => s.id === id);
        if (scenario === undefined) throw new Error(`mailprobe run did not run ${id}`);
        row.subject.push(scenario.durationMs);
        // The same counting as the recording's, on this run's own transcript (its polls may differ).
        const counted = planScenario(scenario, { ...contexts.get(id)!, runId: fresh.runId });
        if (!('reason' in counted)) row.harnessWork = counted.recorded;
      }
    } else {
      const out = JSON.parse(run.stdout) as Array<Work & { id: string; ms: number; leftovers: string[]; divergences: string[] }>;
      for (const result of out) {
        if (result.leftovers.length > 0) throw new Error(`the replay of ${result.id} left ${result.leftovers.join(', ')}`);
        // An IMAP answer whose status differs from the recorded one means the replay did other work: no fair row.
        if (result.divergences.length > 0) throw new Error(`the replay of ${result.id} got other answers than recorded: ${result.divergences.join('; ')}`);
        const row = per.get(result.id)!;
        row.reference.push(result.ms);
        row.replayWork = result;
      }
    }
  });
  // Polls are counted apart: a POP3 poll is a connection of its own, an IMAP poll a NOOP and SEARCH on an open one.
  const work = (w: Work | undefined) =>
    w === undefined ? 'nothing' : `${w.clientLines} client lines, ${w.connections} connections${w.polls > 0 ? `, ${w.polls} delivery poll${w.polls === 1 ? '' : 's'}` : ''}`;
  const inProcess = (runs: Timed[], values: number[]): Timed[] => runs.map((r, i) => ({ ...r, ms: values[i]! }));
  const rows: Row[] = [];
  for (const [id, row] of per) {
    const timed: Pairs = { subject: inProcess(pairs.subject, row.subject), reference: inProcess(pairs.reference, row.reference) };
    rows.push(
      rowFrom(
        {
          id: `replay:${id}`,
          measure: `${id} (scenario time)`,
          reference: 'raw replay of its lines (in-process)',
          work: { subject: `harness ${work(row.harnessWork)}`, reference: work(row.replayWork) },
        },
        timed,
        () => ratioGoal(1.2),
      ),
    );
  }
  notes.push(...notReplayed);
  return { rows, notes };
}
