import type { DeviationResult, RunResult, ScenarioResult } from '../../src/runner/results.js';
import type { MatrixInput } from '../../src/reporters/matrix.js';
import { redactRun } from '../../src/reporters/redact-result.js';
import { buildSampleRun, sampleRedactor } from '../support/sample-results.js';

/**
 * Three targets' runs for the matrix tests, built from the sample results:
 *
 *   scenario                    dovecot   cyrus                         courier (interrupted)
 *   pop3/login-user-pass        passed    passed, 3 known deviations    passed, 1 deviation fixed
 *   pop3/dele-marks-deleted     passed    failed (retr-refused, RFC)    not run
 *   pop3/only-cyrus             -         skipped (reason)              -
 *   pop3/auth/sasl-cram-md5     skipped   errored (ETLS)                inconclusive
 *
 * Each run is redacted, as the CLI hands it over (the matrix never sees a password).
 * `hostile` puts markup, a table pipe, a bidi override and a newline into
 * names, labels and reasons, as a hostile scenario or target file could.
 */
export const HOSTILE_NAME = 'evil | name <script>alert(1)</script> `tick` \\ back \u202eslash\nsecond line';

const known = (check: string): DeviationResult => ({
  check: `pop3/login-user-pass#${check}`,
  status: 'known',
  reason: 'Courier sends UIDNEXT only in STATUS',
  rfc: 'RFC 3501 §6.3.1',
  step: 'login',
  expected: 'present',
  actual: '(absent)',
});

export function matrixInputs(options: { hostile?: boolean } = {}): MatrixInput[] {
  const base = buildSampleRun({ insecure: false });
  const [passed, failed, errored, skipped, inconclusive] = base.scenarios as [
    ScenarioResult & { state: 'passed' },
    ScenarioResult & { state: 'failed' },
    ScenarioResult & { state: 'errored' },
    ScenarioResult & { state: 'skipped' },
    ScenarioResult & { state: 'inconclusive' },
  ];
  const hostile = options.hostile === true;
  const login = hostile ? { ...passed, name: HOSTILE_NAME } : passed;
  const delePassed: ScenarioResult = { ...passed, id: failed.id, name: failed.name, durationMs: 2500 };
  const failedNamed: ScenarioResult = {
    ...failed,
    failure: {
      ...failed.failure,
      check: 'pop3/dele-marks-deleted#retr-refused',
      checks: failed.failure.checks.map((c, i) => (i === 0 ? { ...c, check: 'pop3/dele-marks-deleted#retr-refused' } : c)),
    },
  };
  const onlyCyrus: ScenarioResult = {
    ...skipped,
    id: 'pop3/only-cyrus',
    name: 'only in the cyrus run',
    reason: hostile ? 'requires <b>x</b> | y\u202e' : 'requires account bob, which the target does not define',
  };
  const cram = skipped;
  const cramErrored: ScenarioResult = { ...errored, id: cram.id, name: cram.name };
  const cramInconclusive: ScenarioResult = { ...inconclusive, id: cram.id, name: cram.name };
  const target = (name: string, host: string): RunResult['target'] => ({ name, host, file: `targets/${name}.yaml`, insecure: false });
  const dovecot: RunResult = {
    ...base,
    runId: 'mp-20240501-000001',
    durationMs: 3200,
    target: target('lab-dovecot', '127.0.0.1'),
    scenarios: [login, delePassed, cram],
  };
  const cyrus: RunResult = {
    ...base,
    runId: 'mp-20240501-000002',
    startedAt: base.startedAt + 60_000,
    target: target('lab-cyrus', '127.0.0.3'),
    scenarios: [{ ...login, deviations: [known('a'), known('b'), known('c')] }, failedNamed, onlyCyrus, cramErrored],
  };
  const courier: RunResult = {
    ...base,
    runId: 'mp-20240501-000003',
    startedAt: base.startedAt + 120_000,
    interrupted: true,
    target: target('lab-courier', '127.0.0.4'),
    scenarios: [{ ...login, deviations: [{ ...known('a'), status: 'fixed', rfc: 'RFC 9051 §6.3.2', actual: '7' }] }, cramInconclusive],
  };
  const redactor = sampleRedactor();
  return [
    { label: hostile ? 'cy|rus <i>' : 'dovecot', run: redactRun(dovecot, redactor) },
    { label: 'cyrus', run: redactRun(cyrus, redactor) },
    { label: 'courier', run: redactRun(courier, redactor) },
  ];
}
