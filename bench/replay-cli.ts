/**
 * The replays of one repetition in one process, as the harness runs its scenarios in one: `node
 * dist-bench/replay-cli.js PLAN.json TARGET SECRETS ID...`. Prints [{id, ms, clientLines, connections, polls,
 * leftovers}] as JSON; ms is each replay's own time
 * (connections to last answer), the same span the harness's scenario durationMs covers. Afterwards, untimed, it
 * checks that nothing of the replayed run is left in the POP3 maildrops of the accounts it used, nor in their IMAP
 * folders (the run's subtree; INBOX, Drafts, Sent).
 */
import { readFile } from 'node:fs/promises';
import { endpointOf, readLab, readSecrets } from './replay-lab.js';
import type { ReplayPlan } from './replay-plan.js';
import { leftoverImap, leftoverMessages } from './replay-verify.js';
import { Replayer } from './replay-run.js';

const [planFile, targetFile, secretsFile, ...ids] = process.argv.slice(2);
if (planFile === undefined || targetFile === undefined || secretsFile === undefined || ids.length === 0) {
  process.stderr.write('usage: replay-cli PLAN.json TARGET SECRETS ID...\n');
  process.exit(2);
}
const plans = JSON.parse(await readFile(planFile, 'utf8')) as ReplayPlan[];
const lab = await readLab(targetFile);
const secrets = await readSecrets(secretsFile);
const tls = { ca: lab.ca, servername: lab.servername };
const pop3s = endpointOf(lab, 'pop3s');
const imaps = endpointOf(lab, 'imaps');
const results = [];
// In the given order, one after another, as the harness runs them.
for (const id of ids) {
  const plan = plans.find((p) => p.id === id);
  if (plan === undefined) throw new Error(`no plan for ${id}`);
  const result = await new Replayer(plan, tls, secrets).run();
  const accounts = [...new Map(Object.values(plan.credentials).map((c) => [c.user, c])).values()];
  const leftovers = [
    ...(pop3s === undefined ? [] : await leftoverMessages(pop3s, tls, accounts, secrets, plan.runId)),
    ...(imaps === undefined ? [] : await leftoverImap(imaps, tls, accounts, secrets, plan.runId)),
  ];
  results.push({ id, ...result, leftovers });
}
process.stdout.write(`${JSON.stringify(results)}\n`);
