import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { actions, actionSignatures } from '../../src/actions/registry.js';
import { formatPlan, planRun, renderKnown } from '../../src/runner/dry-run.js';
import { missingRequirements, unmetRequirements } from '../../src/runner/requirements.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { loadTargetFile } from '../../src/target/load.js';

const suites = path.resolve('suites');
const RUN = '20260101t000000-abcdef';

async function planOf(id: string) {
  const target = await loadTargetFile(path.resolve('fixtures/scenarios/targets/good/lab.yaml'));
  const scenario = await loadScenarioFile(path.join(suites, `${id}.yaml`), { root: suites, actions: actionSignatures });
  const [plan] = planRun(target, [scenario], actionSignatures, RUN);
  return plan!;
}

describe('dry-run plans', () => {
  it('every action that creates or cleans up declares what it does', () => {
    const undeclared = Object.entries(actions)
      .filter(([, a]) => (a.leavesMail || a.cleansUp) && a.plans === undefined)
      .map(([n]) => n);
    expect(undeclared).toEqual([]);
  });

  it('lists folders, moves, renames, subscriptions, deletes and cleanup of imap/folder-sync from its params', async () => {
    const plan = await planOf('imap/folder-sync');
    expect(plan.skipped).toBeUndefined();
    const lines = plan.steps.flatMap((s) => s.effects.map((e) => `${s.list} ${s.index + 1} ${s.action}: ${e.kind} ${e.what}`));
    expect(lines).toContain(`steps 2 imap.create: create folder mailprobe-${RUN}/projects/2026 (and any missing parent under the run root)`);
    expect(lines).toContain(`steps 13 imap.rename: change rename folder mailprobe-${RUN}/projects/2026 to mailprobe-${RUN}/projects/archive-2026`);
    // A capture is only known while running: it stays written as in the scenario.
    expect(lines).toContain("steps 7 imap.move: change move this run's message UID ${captures.arrived.uid} from INBOX to projects/2026");
    expect(lines.some((l) => l.startsWith('cleanup 1 imap.cleanup: delete '))).toBe(true);
    // Steps that only read declare nothing.
    expect(plan.steps.filter((s) => s.action === 'imap.list').every((s) => s.effects.length === 0)).toBe(true);
    expect(plan.connects).toEqual([
      'laptop: imap 127.0.0.1:10993 (imaps, tls) as alice',
      'phone: imap 127.0.0.1:10993 (imaps, tls) as alice',
      'smtp.send: smtp 127.0.0.1:10587 (submission, starttls)',
    ]);
  });

  it('renders the SMTP envelope with the run id subject, account address and Message-ID pattern', async () => {
    const plan = await planOf('pop3/sizes-agree');
    const send = plan.steps.find((s) => s.action === 'smtp.send')!.effects.find((e) => e.kind === 'send')!;
    expect(send.what).toBe(
      `SMTP via submission: MAIL FROM:<alice@lab.test> RCPT TO:<alice@lab.test> subject "mailprobe sizes-agree ${RUN}" Message-ID <mailprobe.${RUN}.…@mailprobe.invalid>`,
    );
  });

  it('says when the target lacks what a scenario needs, as the run would skip it', async () => {
    const target = await loadTargetFile(path.resolve('fixtures/scenarios/targets/good/lab.yaml'));
    const scenario = await loadScenarioFile(path.join(suites, 'pop3/sizes-agree.yaml'), { root: suites, actions: actionSignatures });
    const { pop3s: _gone, ...endpoints } = target.endpoints;
    const [plan] = planRun({ ...target, endpoints }, [scenario], actionSignatures, RUN);
    expect(plan?.skipped).toBe('the target has no endpoint pop3s');
    expect(formatPlan([plan!], RUN, 'lab')).toContain('would be skipped: the target has no endpoint pop3s');
  });

  it('skips for the same reason the run would, with the same check (a session endpoint counts even if requires misses it)', async () => {
    const target = await loadTargetFile(path.resolve('fixtures/scenarios/targets/good/lab.yaml'));
    const loaded = await loadScenarioFile(path.join(suites, 'pop3/sizes-agree.yaml'), { root: suites, actions: actionSignatures });
    // Built by hand rather than loaded: requires names nothing, the sessions still need pop3s.
    const scenario = { ...loaded, requires: { ...loaded.requires, endpoints: [], accounts: [] } };
    const { pop3s: _gone, ...endpoints } = target.endpoints;
    const lacking = { ...target, endpoints };
    const [plan] = planRun(lacking, [scenario], actionSignatures, RUN);
    expect(plan?.skipped).toBe('the target has no endpoint pop3s');
    expect(unmetRequirements(scenario, lacking)).toMatch(/^the target has no 'pop3s' endpoint \(session '\w+'\)$/);
    expect(missingRequirements(loaded, target)).toEqual([]);
  });

  it('renders run, target, account and var values, and leaves env and captures as written (env may hold secrets)', () => {
    const scopes = {
      run: { id: RUN, prefix: `mailprobe-${RUN}`, started: 'x' },
      env: { SECRET: 'hunter2' },
      captures: { sent: { message_id: '<m@x>' } },
      accounts: { primary: { user: 'alice', address: 'alice@lab.test', domain: 'lab.test' } },
      target: { host: 'h', name: 'n' },
      vars: { word: 'w' },
    };
    expect(
      renderKnown({ a: '${run.id} ${env.SECRET} ${captures.sent.message_id} ${accounts.primary.address} ${vars.word} ${target.host}', n: 3 }, scopes),
    ).toEqual({
      a: `${RUN} \${env.SECRET} \${captures.sent.message_id} alice@lab.test w h`,
      n: 3,
    });
    // A map cannot stand in text: the run reports that; the listing keeps the params as written.
    const withMap = { ...scopes, vars: { map: { k: 'v' } } };
    expect(renderKnown({ a: 'x ${vars.map}', b: '${vars.map}' }, withMap)).toEqual({ a: 'x ${vars.map}', b: '${vars.map}' });
    expect(renderKnown({ b: '${vars.map}', c: '${vars.nope}' }, withMap)).toEqual({ b: { k: 'v' }, c: '${vars.nope}' });
  });
});
