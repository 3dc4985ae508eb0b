import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseDocument } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startImapProxy, type ImapProxy } from '../../fixtures/servers/imap-proxy.js';
import { createReporter } from '../../src/reporters/index.js';
import { Redactor } from '../../src/transport/redact.js';
import { labEnv, REPO_ROOT, runSuite, summarize, cleanUpLabRun } from '../support/run-suite.js';
import { captureContext, expectGolden, normaliseReport } from './support.js';

/**
 * What a user reads after a real IMAP run, pinned as golden files: the console
 * output (colour off) and the default JUnit XML, for flag-sync passing against
 * the lab and failing through a proxy that drops flag updates. Everything that
 * differs between runs and machines is normalised (see normaliseImapReport).
 */
const SCENARIO = join(REPO_ROOT, 'suites', 'imap', 'flag-sync.yaml');

describe('golden reports of a real IMAP run (flag-sync)', () => {
  let dir: string;
  let env: Record<string, string>;
  let passwords: string[];
  let proxy: ImapProxy;
  let proxyTarget: string;

  beforeAll(async () => {
    const lab = inject('lab');
    env = await labEnv(lab.envFile);
    passwords = Object.entries(env)
      .filter(([key]) => key.endsWith('_PASSWORD'))
      .map(([, value]) => value);
    const labTarget = parseDocument(await readFile(lab.targetFile, 'utf8')).toJS() as {
      endpoints: { imaps: { port: number } };
      tls: { ca_file: string };
    };
    proxy = await startImapProxy({
      upstream: { host: '127.0.0.1', port: labTarget.endpoints.imaps.port, ca: await readFile(labTarget.tls.ca_file, 'utf8'), servername: 'localhost' },
    });
    dir = await mkdtemp(join(tmpdir(), 'mailprobe-imap-golden-'));
    proxyTarget = join(dir, 'target.yaml');
    await proxy.writeTarget(proxyTarget, { labTargetFile: lab.targetFile, as: 'imaps' });
  });
  afterAll(async () => {
    await proxy?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Runs flag-sync with a console and a JUnit reporter built by the factory, as the CLI does. */
  const report = async (targetFile: string, label: string) => {
    expect(passwords.length, 'the lab env file names passwords').toBeGreaterThan(0);
    const ctx = captureContext({ redactor: new Redactor(passwords), color: false, cwd: REPO_ROOT });
    const junitFile = join(dir, `${label}.junit.xml`);
    const reporters = [createReporter('console', ctx), createReporter(`junit=${junitFile}`, ctx)];
    const { result } = await runSuite({ targetFile, env, paths: [SCENARIO], reporters });
    const junit = await readFile(junitFile, 'utf8');
    const consoleText = ctx.stderr.text;
    // The console reporter keeps stdout free; nothing reached the captured streams that holds a password.
    expect(ctx.stdout.text).toBe('');
    for (const secret of passwords) {
      expect(consoleText.includes(secret), 'a lab password in the console output').toBe(false);
      expect(junit.includes(secret), 'a lab password in the JUnit file').toBe(false);
    }
    const paths = { [dir]: 'tmp-dir', [inject('lab').stateDir]: 'lab-dir', [REPO_ROOT]: 'repo' };
    const normalise = (text: string) => normaliseReport(text, { runId: result.runId, live: true, paths });
    return { result, junit, junitFile, consoleText, normalise };
  };

  it('passing run against the lab', async () => {
    const lab = inject('lab');
    const { result, junit, consoleText, normalise } = await report(lab.targetFile, 'pass');
    expect(
      result.scenarios.map((s) => s.state),
      summarize(result),
    ).toEqual(['passed']);
    await expectGolden('imap-flag-sync-pass.console.txt', normalise(consoleText));
    await expectGolden('imap-flag-sync-pass.junit.xml', normalise(junit));
  });

  it('failing run through a proxy that drops flag updates', async () => {
    proxy.mutations.dropFlagUpdates = true;
    let run: Awaited<ReturnType<typeof report>>;
    try {
      run = await report(proxyTarget, 'fail');
    } finally {
      delete proxy.mutations.dropFlagUpdates;
    }
    const { result, junit, junitFile, consoleText, normalise } = run;
    const scenario = result.scenarios[0];
    expect(scenario?.state, summarize(result)).toBe('failed');
    // Dropped STOREs also defeat the run's own cleanup: clean up directly on the lab.
    await cleanUpDirectly(result.runId);
    if (scenario?.state === 'failed') expect(scenario.failure.step).toBe('laptop marks it read and flagged');
    await promisify(execFile)('xmllint', ['--noout', junitFile]);
    await expectGolden('imap-flag-sync-fail.console.txt', normalise(consoleText));
    await expectGolden('imap-flag-sync-fail.junit.xml', normalise(junit));
  });

  /** Cleans up directly on the lab, without the proxy, under the broken run's id. */
  const cleanUpDirectly = async (runId: string) => {
    expect(await cleanUpLabRun(inject('lab'), runId), 'direct cleanup on the lab').toEqual([]);
  };
});
