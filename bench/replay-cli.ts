/**
 * One replay in its own process, as the harness's scenario runs in its own: `node dist-bench/replay-cli.js PLAN.json
 * ID TARGET SECRETS`. Prints {ms, clientLines, connections, polls, leftovers} as JSON; ms is the replay's own time
 * (connections to last answer), the same span the harness's scenario durationMs covers. Afterwards, untimed, it
 * checks that nothing of the replayed run is left in the POP3 maildrops of the accounts it used.
 */
import { readFile } from 'node:fs/promises';
import { endpointOf, readLab, readSecrets } from './replay-lab.js';
import type { ReplayPlan } from './replay-plan.js';
import { leftoverMessages } from './replay-verify.js';
import { Replayer } from './replay-run.js';

const [planFile, id, targetFile, secretsFile] = process.argv.slice(2);
if (planFile === undefined || id === undefined || targetFile === undefined || secretsFile === undefined) {
  process.stderr.write('usage: replay-cli PLAN.json ID TARGET SECRETS\n');
  process.exit(2);
}
const plans = JSON.parse(await readFile(planFile, 'utf8')) as ReplayPlan[];
const plan = plans.find((p) => p.id === id);
if (plan === undefined) throw new Error(`no plan for ${id}`);
const lab = await readLab(targetFile);
const secrets = await readSecrets(secretsFile);
const result = await new Replayer(plan, { ca: lab.ca, servername: lab.servername }, secrets).run();
const pop3s = endpointOf(lab, 'pop3s');
const accounts = [...new Map(Object.values(plan.credentials).map((c) => [c.user, c])).values()];
const leftovers = pop3s === undefined ? [] : await leftoverMessages(pop3s, { ca: lab.ca, servername: lab.servername }, accounts, secrets, plan.runId);
process.stdout.write(`${JSON.stringify({ ...result, leftovers })}\n`);
