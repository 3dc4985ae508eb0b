import { afterAll, describe, it } from 'vitest';
import { finishHostileRuns } from '../support/hostile-run.js';
import { CASE_TEST_TIMEOUT_MS, runAndAssert } from './assert-case.js';
import { POP3_CASES } from './cases.js';

/**
 * The hostile POP3 servers of the standing corpus (issue 7 §7), each run
 * through the built CLI (`npm run build` first) with every reporter. Cases
 * are independent (each has its own server on 127.0.0.1:0 and its own temp
 * dir), so they run concurrently; see CASES.md for the table.
 */
describe.concurrent('hostile POP3 servers', () => {
  afterAll(finishHostileRuns);
  for (const c of POP3_CASES) it(`${c.name}: ${c.behaviour}`, ({ expect }) => runAndAssert(c, expect), CASE_TEST_TIMEOUT_MS);
});
