import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeMailHost, Pop3OverrideIo } from '../../fixtures/servers/fake-mail-host.js';
import { refusedPort } from '../probe/fakes.js';
import { describeRun, POP3_SUITE, runCli, startCountingServer, startFakeHostWithTarget, tempDir, writeCountingTarget, type CliResult } from '../support/cli.js';

/**
 * The HTML report (`--reporter html=FILE`) as a person opens it: a real run of
 * the shipped POP3 suite against the in-process fake host, written by the
 * built CLI, opened over file:// in Debian's Chromium (headless, driven by
 * playwright-core with the system binary; scripts/ensure-test-tools.sh
 * installs it). The host's RSET keeps the deletion marks (so pop3/rset fails)
 * and answers with markup meant to run in the reader's browser.
 */
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const HOSTILE_RSET = `+OK <script>window.__pwned = 'script'</script><img src="x" onerror="window.__pwned = 'img'"> &amp; \u001b[31m`;
const SCREENSHOT = '/tmp/mailprobe-html-report.png';

/** The text as rendered for a reader (innerText), not the DOM's: what a person sees is what is checked. */
async function shownText(locator: Locator): Promise<string> {
  // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is the point here
  return locator.innerText();
}

interface JsonReport {
  readonly counts: Record<string, number>;
  readonly scenarios: ReadonlyArray<{
    id: string;
    state: string;
    tags: string[];
    failure?: { expected?: string; actual?: string; rfc?: string; step?: string };
  }>;
}

describe('the HTML report in headless Chromium', () => {
  let host: FakeMailHost;
  let env: Record<string, string>;
  let targetFile: string;
  let dir: string;
  let page: string;
  let run: CliResult;
  let report: JsonReport;
  let browser: Browser;

  beforeAll(async () => {
    ({ host, targetFile, env } = await startFakeHostWithTarget({
      accounts: { alice: { password: 'alice-Html-pw-1', address: 'alice@fake.test' }, bob: { password: 'bob-Html-pw-2', address: 'bob@fake.test' } },
    }));
    // RSET answers +OK with the hostile text and keeps the marks: the RSET scenario fails at its next LIST.
    host.pop3Overrides.RSET = (_args: string[], io: Pop3OverrideIo) => {
      io.reply(HOSTILE_RSET);
      return true;
    };
    dir = await tempDir('html');
    page = join(dir, 'report.html');
    run = await runCli(['run', POP3_SUITE, '--target', targetFile, '--quiet', '--reporter', `html=${page}`, '--reporter', `json=${join(dir, 'report.json')}`], {
      env,
    });
    report = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')) as JsonReport;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await host?.close();
  });

  /** Opens the report; every request the page makes is recorded. */
  async function open(options: { hash?: string; javaScript?: boolean } = {}): Promise<{ view: Page; requests: string[]; errors: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 1000 }, javaScriptEnabled: options.javaScript ?? true });
    const view = await context.newPage();
    const requests: string[] = [];
    const errors: string[] = [];
    view.on('request', (r) => requests.push(r.url()));
    view.on('pageerror', (e) => errors.push(e.message));
    await view.goto(pathToFileURL(page).href + (options.hash ?? ''));
    return { view, requests, errors };
  }

  const visibleIds = (view: Page) => view.locator('details.scenario:visible').evaluateAll((rows) => rows.map((r) => r.id.replace(/^scenario-/, '')));

  it('the run has a failing and a passing scenario, and wrote the page', () => {
    expect(run.code, describeRun(run)).toBe(1);
    expect(report.counts['failed']).toBeGreaterThanOrEqual(1);
    expect(report.counts['passed']).toBeGreaterThanOrEqual(1);
    expect(report.scenarios.find((s) => s.id === 'pop3/rset')?.state).toBe('failed');
    expect(existsSync(page)).toBe(true);
  });

  it('renders the summary counts, with no request but the file itself and no script error', async () => {
    const { view, requests, errors } = await open();
    expect(await view.title()).toMatch(/^mailprobe \S+: \d+ failed/);
    for (const verdict of ['passed', 'failed', 'errored', 'skipped', 'inconclusive', 'total']) {
      const count = await view.locator(`#summary [data-verdict-count="${verdict}"] b`).textContent();
      expect(Number(count), verdict).toBe(verdict === 'total' ? report.scenarios.length : (report.counts[verdict] ?? 0));
    }
    expect(await view.locator('details.scenario').count()).toBe(report.scenarios.length);
    // The script ran (under the page's CSP): the filters are shown and count the rows.
    await expect.poll(() => view.locator('#filters').isVisible()).toBe(true);
    expect(await view.locator('#shown').textContent()).toBe(`${report.scenarios.length} of ${report.scenarios.length} scenarios shown`);
    await view.screenshot({ path: SCREENSHOT, fullPage: false });
    expect(errors).toEqual([]);
    expect(requests).toEqual([pathToFileURL(page).href]);
    await view.context().close();
  });

  it('filters by verdict, keeps the filter in the address, and restores it from a link', async () => {
    const { view, requests } = await open();
    const passed = report.scenarios.filter((s) => s.state === 'passed').map((s) => s.id);
    const others = report.scenarios.filter((s) => s.state !== 'passed').map((s) => s.id);
    await view.locator('#filters input[name="verdict"][value="passed"]').uncheck();
    expect((await visibleIds(view)).sort()).toEqual([...others].sort());
    expect(await view.locator('#shown').textContent()).toBe(`${others.length} of ${report.scenarios.length} scenarios shown`);
    const hash = new URL(view.url()).hash;
    expect(hash).toBe('#verdict=failed,errored,inconclusive,skipped');
    await view.locator('#filters input[name="verdict"][value="passed"]').check();
    expect((await visibleIds(view)).length).toBe(report.scenarios.length);
    // Only the failed ones, from a shared link.
    const shared = await open({ hash: '#verdict=failed' });
    expect((await visibleIds(shared.view)).sort()).toEqual(
      report.scenarios
        .filter((s) => s.state === 'failed')
        .map((s) => s.id)
        .sort(),
    );
    expect(await shared.view.locator('#filters input[name="verdict"][value="passed"]').isChecked()).toBe(false);
    expect(passed.length).toBeGreaterThan(0);
    expect(requests).toEqual([pathToFileURL(page).href]);
    await shared.view.context().close();
    await view.context().close();
  });

  it('filters by tag, and "Show all" clears every filter', async () => {
    const { view } = await open();
    await view.locator('#filters input[name="tag"][value="framing"]').check();
    const framing = report.scenarios.filter((s) => s.tags.includes('framing')).map((s) => s.id);
    expect(framing.length).toBeGreaterThan(0);
    expect(await visibleIds(view)).toEqual(framing);
    await view.locator('#filters input[name="tag"][value="tls"]').check();
    const either = report.scenarios.filter((s) => s.tags.includes('framing') || s.tags.includes('tls')).map((s) => s.id);
    expect(await visibleIds(view)).toEqual(either);
    expect(new URL(view.url()).hash).toBe('#tag=framing,tls');
    await view.locator('#show-all').click();
    expect((await visibleIds(view)).length).toBe(report.scenarios.length);
    expect(new URL(view.url()).hash).toBe('');
    await view.context().close();
  });

  it('a failed scenario is open, and shows expected and actual, its RFC clause and the failing transcript', async () => {
    const { view } = await open();
    const failure = report.scenarios.find((s) => s.id === 'pop3/rset')!.failure!;
    const row = view.locator('details.scenario[data-verdict="failed"]', { has: view.locator('code.id', { hasText: /^pop3\/rset$/ }) });
    expect(await row.getAttribute('open')).not.toBeNull();
    const box = row.locator('.verdict-box');
    // Collapsed, nothing of it shows; expanded again, all of it.
    await row.locator('summary').first().click();
    expect(await box.isVisible()).toBe(false);
    await row.locator('summary').first().click();
    expect(await box.isVisible()).toBe(true);
    const text = await shownText(box);
    expect(failure.rfc).toMatch(/^RFC 1939/);
    for (const part of [failure.expected!, failure.actual!, failure.rfc!]) expect(text).toContain(part);
    const transcript = await shownText(box.locator('pre.failure-transcript'));
    expect(transcript).toMatch(/\[laptop\] C: LIST 1/);
    expect(transcript).toContain(failure.actual!.replace(/^"|"$/g, ''));
    // The failing step is open with its checks and its own transcript.
    const step = row.locator('li.step.v-failed');
    expect(await step.locator('table.checks').isVisible()).toBe(true);
    expect(await shownText(step.locator('pre.transcript'))).toMatch(/C: LIST 1/);
    await row.screenshot({ path: SCREENSHOT.replace('.png', '-failed.png') });
    await view.context().close();
  });

  it('shows the hostile server reply as text and runs none of it', async () => {
    const { view, requests } = await open();
    const row = view.locator('details.scenario', { has: view.locator('code.id', { hasText: /^pop3\/rset$/ }) });
    const rset = row.locator('li.step', { has: view.locator('code', { hasText: /^pop3\.rset$/ }) });
    await rset.locator('summary').first().click();
    await rset.locator('details.transcript summary').click();
    const shown = await shownText(rset.locator('pre.transcript'));
    expect(shown).toContain(`S: +OK <script>window.__pwned = 'script'</script><img src="x" onerror="window.__pwned = 'img'"> &amp; \\x1b[31m`);
    expect(await view.evaluate(() => (globalThis as { __pwned?: string }).__pwned)).toBeUndefined();
    expect(await view.locator('main img, main svg, main script, body script[src]').count()).toBe(0);
    expect(await view.locator('script').count()).toBe(1);
    // Not even the hostile image's src="x" was fetched.
    expect(requests).toEqual([pathToFileURL(page).href]);
    await view.context().close();
  });

  it('reads without JavaScript: every scenario shown, no dead filters', async () => {
    const { view } = await open({ javaScript: false });
    expect(await view.locator('#filters').isVisible()).toBe(false);
    expect((await visibleIds(view)).length).toBe(report.scenarios.length);
    await view.context().close();
  });

  it('report merge writes the same page from the JSON report', async () => {
    const merged = join(dir, 'merged.html');
    const r = await runCli(['report', 'merge', join(dir, 'report.json'), '--reporter', `html=${merged}`]);
    expect(r.code, describeRun(r)).toBe(1);
    const text = await readFile(merged, 'utf8');
    expect(text.match(/<details class="scenario /g)?.length).toBe(report.scenarios.length);
    expect(text).toContain('&lt;script&gt;window.__pwned');
  });
});

describe('--reporter html from the CLI', () => {
  it('a bare --reporter html is a usage error for run, report merge and probe, with nothing connected to', async () => {
    const counting = await startCountingServer();
    try {
      const dir = await tempDir('html-usage');
      const target = await writeCountingTarget(join(dir, 'target.yaml'), counting.port);
      // One line, after the command's own prefix ("mailprobe:", "mailprobe probe:").
      const reason = /^mailprobe( probe)?: the html reporter writes a page and needs a file: --reporter html=FILE, e\.g\. html=reports\/report\.html$/;
      for (const args of [
        ['run', POP3_SUITE, '--target', target, '--reporter', 'html'],
        ['report', 'merge', join(dir, 'none.json'), '--reporter', 'html'],
        ['probe', '127.0.0.1', '--ports', `${counting.port}=pop3/starttls`, '--reporter', 'html'],
      ]) {
        const r = await runCli(args);
        expect(r.code, `${args.join(' ')}\n${describeRun(r)}`).toBe(2);
        expect(r.stderr.trim(), args.join(' ')).toMatch(reason);
      }
      expect(counting.connections()).toBe(0);
    } finally {
      await counting.close();
    }
  });

  it('--help of run, report merge and probe names html', async () => {
    for (const args of [
      ['run', '--help'],
      ['report', 'merge', '--help'],
      ['probe', '--help'],
    ]) {
      const r = await runCli(args);
      expect(r.code, describeRun(r)).toBe(0);
      expect(r.stdout, args.join(' ')).toMatch(/--reporter <name\[=file\]>[\s\S]*\bhtml\b/);
    }
  });

  it('probe --reporter html=FILE writes its findings as a page', async () => {
    const refused = await refusedPort();
    const dir = await tempDir('html-probe');
    const file = join(dir, 'probe.html');
    const r = await runCli(['probe', '127.0.0.1', '--ports', `${refused}=pop3/starttls`, '--reporter', `html=${file}`]);
    expect(r.code, describeRun(r)).toBe(0);
    const text = await readFile(file, 'utf8');
    expect(text).toContain(`127.0.0.1:${refused} tcp-refused`);
    expect(text).toContain(`not probed: port ${refused} refused the connection`);
  });
});
