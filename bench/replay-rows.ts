/**
 * The raw-replay rows (issue 12 §1): each shipped scenario's time in the harness against a raw replay of the client
 * lines the harness itself recorded for it. Both sides run in a child process of their own, interleaved, and each
 * reports its own in-process time: the harness the scenario's durationMs from its JSON report (its steps and
 * cleanup, process start and report writing excluded), the replay the span from its first connect to its last
 * answer. Process start-up is the cold-start rows' subject, not this one's.
 */
import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { interleave, timeCommand, type Command, type Pairs, type Timed } from './measure.js';
import { readLab, planContext } from './replay-lab.js';
import { planScenario, type ReplayPlan, type ReportScenario } from './replay-plan.js';
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
  const notes: string[] = [];
  const notReplayed: string[] = [];
  for (const scenario of recorded.scenarios) {
    if (o.quick && !QUICK_SUBSET.includes(scenario.id)) continue;
    const plan = planScenario(scenario, await planContext(lab, resolve(o.root, scenario.file), recorded.runId));
    if ('reason' in plan) notReplayed.push(`replay:${scenario.id}: not replayed: ${plan.reason}`);
    else plans.push(plan);
  }
  const planFile = join(o.scratch, 'replay-plans.json');
  await writeFile(planFile, JSON.stringify(plans));

  const rows: Row[] = [];
  for (const plan of plans) {
    const scenario = recorded.scenarios.find((s) => s.id === plan.id)!;
    const report = join(o.scratch, `replay-harness-${plan.id.replace('/', '-')}.json`);
    const subject = harness([scenario.file], report);
    const reference: Command = { argv: [o.node, join(o.root, 'dist-bench', 'replay-cli.js'), planFile, plan.id, o.target, o.secretsFile], cwd: o.root };
    let harnessWork = plan.recorded;
    let replayWork = { clientLines: 0, connections: 0, polls: 0 };
    const ms: { subject: number[]; reference: number[] } = { subject: [], reference: [] };
    o.say(`raw replay: ${plan.id}, ${o.reps} interleaved repetition(s)`);
    const pairs = await interleave(subject, reference, o.reps, (run, which) => {
      if (run.code !== 0) throw new Error(`${which === 'subject' ? 'mailprobe run' : 'the replay'} of ${plan.id} exited ${run.code}:\n${run.stderr.slice(-2000)}`);
      if (which === 'subject') {
        const fresh = (JSON.parse(readFileSync(report, 'utf8')) as Report).scenarios.find((s) => s.id === plan.id);
        if (fresh === undefined) throw new Error(`mailprobe run did not run ${plan.id}`);
        ms.subject.push(fresh.durationMs);
        const counted = planScenario(fresh, { runId: '', credentialsFor: () => undefined, protocolOf: () => 'pop3' });
        if (!('reason' in counted)) harnessWork = counted.recorded;
      } else {
        const out = JSON.parse(run.stdout) as { ms: number; clientLines: number; connections: number; polls: number; leftovers: string[] };
        if (out.leftovers.length > 0) throw new Error(`the replay of ${plan.id} left ${out.leftovers.join(', ')}`);
        ms.reference.push(out.ms);
        replayWork = out;
      }
    });
    const inProcess = (runs: Timed[], values: number[]): Timed[] => runs.map((r, i) => ({ ...r, ms: values[i]! }));
    const timed: Pairs = { subject: inProcess(pairs.subject, ms.subject), reference: inProcess(pairs.reference, ms.reference) };
    const work = (w: { clientLines: number; connections: number; polls: number }) =>
      `${w.clientLines} client lines, ${w.connections} connections${w.polls > 0 ? ` (${w.polls} of them delivery polls)` : ''}`;
    rows.push(
      rowFrom(
        { id: `replay:${plan.id}`, measure: `${plan.id} (scenario time)`, reference: 'raw replay of its lines (in-process)', work: { subject: `harness ${work(harnessWork)}`, reference: work(replayWork) } },
        timed,
        () => ratioGoal(1.2),
      ),
    );
  }
  notes.push(...notReplayed);
  return { rows, notes };
}
