import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { escapeHtml, html } from '../../src/reporters/html-markup.js';
import { renderHtml } from '../../src/reporters/html.js';
import { createReporter, parseReporterSpec, ReporterSpecError } from '../../src/reporters/index.js';
import type { RunResult, ScenarioResult } from '../../src/runner/results.js';
import { buildSampleRun, CANARY_PASSWORD } from '../support/sample-results.js';
import { captureContext } from './support.js';

/**
 * The HTML report as text. No HTML parser is a dependency, so these check
 * the markup and its escaping on strings; the structure as a browser builds
 * it is checked in headless Chromium (test/cli/html-report.test.ts).
 */

const CWD = '/work/project';
const render = (run: RunResult) => renderHtml(run, { cwd: CWD, outFile: 'reports/report.html' });

/** A server that answers with markup meant to run in the reader's browser. */
const HOSTILE = [
  '<script>window.__pwned = "script"</script>',
  '<img src=x onerror="window.__pwned = \'img\'">',
  '"><svg onload=alert(1)>',
  "' onmouseover='alert(2)",
  'AT&T &amp; </pre></details><b>bold</b>',
];

function hostileRun(): RunResult {
  const run = buildSampleRun();
  const [passed, failed, ...rest] = run.scenarios as [ScenarioResult, ScenarioResult & { state: 'failed' }, ...ScenarioResult[]];
  const lines = HOSTILE.map((text, i) => ({ at: failed.startedAt + 20 + i, direction: 'server' as const, session: 'laptop', text }));
  const step = failed.steps[1]!;
  const hostileFailed: ScenarioResult = {
    ...failed,
    name: 'RETR <b>after</b> DELE',
    tags: ['pop3', '"><img src=x onerror=alert(3)>'],
    steps: [failed.steps[0]!, { ...step, transcript: [...step.transcript, ...lines] }],
    capabilities: { laptop: ['TOP', '<script>alert(4)</script>'] },
    properties: { ...failed.properties, 'greeting.laptop': '+OK <img src=x onerror=alert(5)>' },
    leftovers: ['folder "<script>alert(6)</script>"'],
    failure: { ...failed.failure, actual: HOSTILE[0]!, transcript: [...failed.failure.transcript, ...lines] },
  };
  return { ...run, scenarios: [passed, hostileFailed, ...rest] };
}

describe('escapeHtml and html``', () => {
  it('escapes the five HTML characters and makes control and bidi characters visible', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    expect(escapeHtml('bell\u0007 esc\u001b[2J rlo\u202egpj.exe nul\u0000')).toBe('bell\\x07 esc\\x1b[2J rlo\\u202egpj.exe nul\\x00');
  });

  it('escapes every interpolated value, nested arrays included, but not markup built with it', () => {
    const inner = html`<b>${'<i>'}</b>`;
    expect(html`<p title="${'" onclick="x'}">${['<s>', inner, 3, undefined, false]}</p>`.html).toBe(
      '<p title="&quot; onclick=&quot;x">&lt;s&gt;<b>&lt;i&gt;</b>3</p>',
    );
  });
});

describe('the HTML report of a recorded run', () => {
  const page = render(buildSampleRun());

  it('is one page whose only script and style are its own, allowed by hash, with no fetch allowed', () => {
    expect(page.startsWith('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n')).toBe(true);
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(page)?.[1]?.replace(/&#39;/g, "'");
    expect(csp).toBeDefined();
    expect(csp).toMatch(/^default-src 'none'; /);
    expect(csp).not.toContain('unsafe-inline');
    const scripts = [...page.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]!);
    const styles = [...page.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => m[1]!);
    expect(scripts.length).toBe(1);
    expect(styles.length).toBe(1);
    const hash = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
    expect(csp).toContain(`script-src ${hash(scripts[0]!)}`);
    expect(csp).toContain(`style-src ${hash(styles[0]!)}`);
    // No external asset of any kind.
    expect(page).not.toMatch(/<link\b|<script\s+src|<img\b|<iframe\b|\bsrc=|url\(|@import|https?:\/\//i);
  });

  it('has the summary counts, run id, target, version and one row per scenario, failed ones open', () => {
    for (const [verdict, n] of Object.entries({ passed: 1, failed: 1, errored: 1, skipped: 1, inconclusive: 1, total: 5 })) {
      expect(page).toMatch(new RegExp(`data-verdict-count="${verdict}">(<span class="badge v-${verdict}">[^<]+</span>|total )<b>${n}</b>`));
    }
    expect(page).toContain('<code>mp-20240501-7f3a9c</code>');
    expect(page).toContain('staging-pop (mail.example.test)');
    expect(page).toContain('<dt>mailprobe</dt><dd>0.1.0</dd>');
    expect(page).toContain('certificate verification was off');
    const rows = [...page.matchAll(/<details class="scenario v-(\w+)" id="scenario-([^"]+)" data-verdict="(\w+)" data-tags="([^"]*)"( open)?>/g)];
    expect(rows.map((r) => [r[2], r[1], r[5] !== undefined])).toEqual([
      ['pop3/login-user-pass', 'passed', false],
      ['pop3/dele-marks-deleted', 'failed', true],
      ['pop3/stls-upgrade', 'errored', false],
      ['pop3/auth/sasl-cram-md5', 'skipped', false],
      ['pop3/uidl-stable', 'inconclusive', false],
    ]);
    expect(rows[1]![4]!.replace(/&quot;/g, '"')).toBe('["pop3","dele"]');
  });

  it('shows a failure with expected and actual, its RFC clause, every failed check and the transcript', () => {
    const failed = page.slice(page.indexOf('id="scenario-pop3/dele-marks-deleted"'), page.indexOf('id="scenario-pop3/stls-upgrade"'));
    expect(failed).toContain('<b>failure:</b> <span class="message">RETR of a message marked deleted must fail, but the server sent it</span>');
    expect(failed).toContain('<td class="value">-ERR</td><td class="value">+OK 312 octets\\x07\\x1b[2J\\ud800\\u202egpj.exe</td>');
    expect(failed).toContain('RFC 1939 §6 DELE: any future reference to the message-number');
    expect(failed).toContain('no octets of the deleted message are sent');
    expect(failed).toContain('<code>suites/pop3/dele-marks-deleted.yaml:20:9</code>');
    expect(failed).toMatch(/<pre class="transcript failure-transcript">[\s\S]*\[laptop\] C: RETR 1\n[\s\S]*<\/pre>/);
    // The step's checks, and its cleanup step.
    expect(failed).toContain('RETR of a deleted message fails');
    expect(failed).toContain('<h3>Cleanup</h3>');
    expect(failed).toContain('RSET and QUIT');
    // Capabilities of the session.
    expect(failed).toMatch(/<dt>laptop<\/dt><dd><ul class="caps"><li><code>TOP<\/code><\/li>/);
  });

  it('shows errors with their code and phase, reasons of skips and inconclusive runs, and leftovers', () => {
    expect(page).toContain('<code>ETLS</code> (phase tls)');
    expect(page).toContain('requires capability SASL CRAM-MD5; the server offers SASL PLAIN LOGIN');
    expect(page).toContain('server said -ERR [IN-USE]: maildrop locked by another session; try again later');
    const leftovers = page.slice(page.indexOf('<section id="leftovers">'));
    expect(leftovers).toContain(
      '<a href="#scenario-pop3/uidl-stable">pop3/uidl-stable</a>: message &lt;mailprobe-mp-20240501-7f3a9c-3@mailprobe.test&gt; in alice&#39;s maildrop',
    );
  });

  it('never holds the canary password, in any form', () => {
    const ctx = captureContext({ cwd: mkdtempSync(join(tmpdir(), 'mailprobe-html-')) });
    return (async () => {
      await createReporter('html=out/report.html', ctx).onRunEnd?.(buildSampleRun());
      const written = readFileSync(join(ctx.cwd, 'out', 'report.html'), 'utf8');
      expect(written).toContain('PASS [redacted]');
      expect(written).toContain('+OK Logged in as alice ([redacted])');
      expect(written).not.toContain(CANARY_PASSWORD);
      expect(written).not.toContain(Buffer.from(`\0alice\0${CANARY_PASSWORD}`).toString('base64'));
      expect(ctx.stdout.text).toBe('');
    })();
  });
});

describe('hostile values in the HTML report', () => {
  const page = render(hostileRun());

  it('are text: no tag, attribute or entity a server or a scenario sent survives unescaped', () => {
    // Our own markup has exactly one <script> and no img, svg, b-inside-pre or event handlers.
    expect(page.match(/<script\b/g)?.length).toBe(1);
    // Every tag, its (double-quoted, escaped) attribute values emptied: what is left is the markup's own.
    const tags = (page.match(/<[a-z][^>]*>/gi) ?? []).map((tag) => tag.replace(/"[^"]*"/g, '""'));
    expect(tags.length).toBeGreaterThan(100);
    expect(tags.filter((tag) => /^<(img|svg|iframe|object|embed)\b/i.test(tag) || /\son\w+\s*=/i.test(tag))).toEqual([]);
    expect(page).not.toContain('<b>bold</b>');
    expect(page).not.toContain('<b>after</b>');
    for (const text of HOSTILE) expect(page, text).toContain(escapeHtml(text));
    expect(page).toContain('AT&amp;T &amp;amp; &lt;/pre&gt;&lt;/details&gt;');
    // A tag cannot break out of its attribute.
    expect(page).toContain('data-tags="[&quot;pop3&quot;,&quot;\\&quot;&gt;&lt;img src=x onerror=alert(3)&gt;&quot;]"');
    expect(page).toContain('<code>&lt;script&gt;alert(4)&lt;/script&gt;</code>');
    expect(page).toContain('folder &quot;&lt;script&gt;alert(6)&lt;/script&gt;&quot;');
  });
});

describe('what else the page shows', () => {
  it('lists delivery and IDLE push latencies as report diff reads them, run-wide and per scenario', () => {
    const run = buildSampleRun();
    const [first, ...rest] = run.scenarios as [ScenarioResult, ...ScenarioResult[]];
    const timed: ScenarioResult = {
      ...first,
      properties: {
        ...first.properties,
        delivery_ms: '840',
        'delivery_ms.phone': '912',
        idle_push_latency_ms: '37',
        saved_copy: '/work/project/reports/messages/x/laptop-msg1.eml',
      },
    };
    const page = render({ ...run, scenarios: [timed, ...rest] });
    const section = page.slice(page.indexOf('<section id="latencies">'), page.indexOf('<section id="leftovers">'));
    expect(section).toContain('<td><code>delivery_ms</code></td><td>840</td>');
    expect(section).toContain('<td><code>delivery_ms.phone</code></td><td>912</td>');
    expect(section).toContain('<td><code>idle_push_latency_ms</code></td><td>37</td>');
    // The sample's "delivery.ms" is no latency to report diff, so not here either.
    expect(section).not.toContain('delivery.ms');
    expect(page).toContain('<dt>idle_push_latency_ms</dt><dd>37 ms</dd>');
    // A saved copy named relative to the report's folder, as JUnit attaches it.
    expect(page).toContain('<dt>saved_copy</dt><dd class="mono">messages/x/laptop-msg1.eml</dd>');
  });

  it('says when nothing was measured or left behind, and names shard, merged runs and an interrupted run', () => {
    const run = {
      ...buildSampleRun({ interrupted: true }),
      scenarios: [buildSampleRun().scenarios[0]!],
      shard: { index: 2, total: 3 },
      mergedRunIds: ['r1', 'r2'],
    };
    const page = render(run);
    expect(page).toContain('none measured in this run');
    expect(page).toContain('none: cleanup removed everything the run recorded creating');
    expect(page).toContain('<dt>shard</dt><dd>2/3</dd>');
    expect(page).toContain('<dt>merged runs</dt><dd>r1, r2</dd>');
    expect(page).toContain('the run was interrupted; cleanup ran');
  });

  it('renders a case no file describes (a probe finding) with its remarks', () => {
    const base = buildSampleRun();
    const finding: ScenarioResult = {
      id: 'probe/mail.example.test/127.0.0.1:993/tls-expired',
      name: '127.0.0.1:993 tls-expired',
      suite: 'mail.example.test',
      tags: [],
      rfc: [],
      durationMs: 0,
      startedAt: base.startedAt,
      steps: [],
      cleanup: [],
      properties: {},
      capabilities: {},
      leftovers: [],
      remarks: [
        { label: 'severity', text: 'fail' },
        { label: 'evidence', text: 'notAfter 2024-01-01 <expired>' },
      ],
      state: 'failed',
      failure: { message: 'the certificate expired', checks: [], transcript: [] },
    };
    const page = render({ ...base, scenarios: [finding] });
    expect(page).toContain('<b>failure:</b> <span class="message">the certificate expired</span>');
    expect(page).toContain('<dt>evidence</dt><dd>notAfter 2024-01-01 &lt;expired&gt;</dd>');
    expect(page).not.toContain('failed check');
  });
});

describe('--reporter html needs a file', () => {
  it('refuses a bare html with one line saying why, and takes html=FILE', () => {
    let error: unknown;
    try {
      parseReporterSpec('html');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ReporterSpecError);
    expect((error as Error).message).toBe('the html reporter writes a page and needs a file: --reporter html=FILE, e.g. html=reports/report.html');
    expect(parseReporterSpec('html=out/r.html')).toEqual({ name: 'html', file: 'out/r.html' });
    expect(() => createReporter({ name: 'html' }, captureContext())).toThrow(ReporterSpecError);
  });
});
