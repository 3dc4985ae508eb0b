import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildMatrix } from '../../src/reporters/matrix.js';
import { renderMatrixHtml } from '../../src/reporters/matrix-html.js';
import { matrixInputs } from './matrix-fixture.js';

const hash = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

function cspOf(page: string): string | undefined {
  return /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(page)?.[1]?.replace(/&#39;/g, "'");
}

/** The <td> of row `id`, column `i`. */
function cell(page: string, id: string, i: number): string {
  const row = new RegExp(`<tr id="scenario-${id.replace(/\//g, '\\/')}">([\\s\\S]*?)</tr>`).exec(page)?.[1] ?? '';
  return [...row.matchAll(/<td [\s\S]*?<\/td>/g)].map((m) => m[0])[i] ?? '';
}

describe('the HTML matrix page', () => {
  const page = renderMatrixHtml(buildMatrix(matrixInputs()));

  it('is one page whose only style is its own, allowed by hash; no script, no fetch', () => {
    expect(page.startsWith('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n')).toBe(true);
    const csp = cspOf(page);
    expect(csp).toMatch(/^default-src 'none'; /);
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("script-src 'none'");
    const styles = [...page.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => m[1]!);
    expect(styles).toHaveLength(1);
    expect(csp).toContain(`style-src ${hash(styles[0]!)}`);
    expect(page).not.toMatch(/<script|<link\b|<img\b|<iframe\b|\bsrc=|url\(|@import|https?:\/\/|\son\w+=/i);
    // The header row stays in view without JavaScript.
    expect(styles[0]).toMatch(/table\.matrix thead th \{ position: sticky; top: 0;/);
  });

  it('has a column per target with its label, target, host and run id, and a legend of every state', () => {
    const head = /<thead>([\s\S]*?)<\/thead>/.exec(page)?.[1] ?? '';
    const columns = [
      ...head.matchAll(
        /<th scope="col" class="target"><span class="label">([^<]*)<\/span>[\s\S]*?<dt>host<\/dt><dd>([^<]*)<\/dd><dt>run<\/dt><dd><code>([^<]*)<\/code>/g,
      ),
    ];
    expect(columns.map((c) => [c[1], c[2], c[3]])).toEqual([
      ['dovecot', '127.0.0.1', 'mp-20240501-000001'],
      ['cyrus', '127.0.0.3', 'mp-20240501-000002'],
      ['courier', '127.0.0.4', 'mp-20240501-000003'],
    ]);
    expect(head).toContain('<dt>target</dt><dd>lab-cyrus</dd>');
    expect(head).toContain('<dt>file</dt><dd class="mono">targets/lab-cyrus.yaml</dd>');
    expect(head).toContain('interrupted: results are partial');
    const legend = /<ul class="legend"[^>]*>([\s\S]*?)<\/ul>/.exec(page)?.[1] ?? '';
    expect([...legend.matchAll(/<li class="v-([\w-]+)"><span class="badge">([^<]+)<\/span><\/li>/g)].map((m) => [m[1], m[2]])).toEqual([
      ['failed', '✗ failed'],
      ['errored', '! errored'],
      ['inconclusive', '? inconclusive'],
      ['skipped', '↓ skipped'],
      ['passed', '✓ passed'],
      ['not-run', '– not run'],
    ]);
    const rows = [...page.matchAll(/<tr id="scenario-([^"]+)">/g)].map((m) => m[1]);
    expect(rows).toEqual(['pop3/login-user-pass', 'pop3/dele-marks-deleted', 'pop3/only-cyrus', 'pop3/auth/sasl-cram-md5']);
  });

  it('colours each cell by its verdict class and shows word, symbol, time and note, deviations and clause included', () => {
    expect(cell(page, 'pop3/login-user-pass', 0)).toBe(
      '<td class="cell v-passed" data-state="passed" data-known-deviations="0" data-fixed-deviations="0"><span class="badge">✓ passed</span><span class="time">14ms</span></td>',
    );
    expect(cell(page, 'pop3/login-user-pass', 1)).toContain(
      '<span class="badge">✓ passed</span><span class="time">14ms</span><span class="deviations">3 known deviations (RFC 3501 §6.3.1)</span>',
    );
    expect(cell(page, 'pop3/login-user-pass', 1)).toContain('data-known-deviations="3"');
    expect(cell(page, 'pop3/login-user-pass', 2)).toContain('<span class="deviations">1 deviation fixed (RFC 9051 §6.3.2)</span>');
    expect(cell(page, 'pop3/dele-marks-deleted', 1)).toMatch(
      /^<td class="cell v-failed"[^>]*><span class="badge">✗ failed<\/span><span class="time">41ms<\/span><span class="note">retr-refused \(RFC 1939 §6 DELE\) and 1 more failed check<\/span><\/td>$/,
    );
    expect(cell(page, 'pop3/dele-marks-deleted', 2)).toMatch(
      /^<td class="cell v-not-run"[^>]*><span class="badge">– not run<\/span><span class="note">the run was interrupted first<\/span><\/td>$/,
    );
    expect(cell(page, 'pop3/only-cyrus', 1)).toContain(
      '<span class="badge">↓ skipped</span><span class="time">6ms</span><span class="note">requires account bob',
    );
    expect(cell(page, 'pop3/auth/sasl-cram-md5', 2)).toContain('<span class="badge">? inconclusive</span>');
    // Each run's summary, with its run id, at the foot.
    expect(page).toMatch(
      /<li><b>cyrus<\/b>: 1 passed, 1 failed, 1 errored, 1 skipped, 0 inconclusive \(4 scenarios\) in 1\.79s, 3 known deviations; run mp-20240501-000002/,
    );
  });

  it('escapes every value from a server, scenario or target file', () => {
    const hostile = renderMatrixHtml(buildMatrix(matrixInputs({ hostile: true })));
    expect(hostile).not.toMatch(/<script|<b>x|<i>|\u202e/);
    // Markup as text, the bidi override as a visible escape; the newline stays a newline, which HTML shows as a space.
    expect(hostile).toContain('evil | name &lt;script&gt;alert(1)&lt;/script&gt; `tick` \\ back \\u202eslash\nsecond line');
    expect(hostile).toContain('<span class="label">cy|rus &lt;i&gt;</span>');
    expect(hostile).toContain('requires &lt;b&gt;x&lt;/b&gt; | y\\u202e');
    // The policy is the same page's: the style's hash still matches.
    const style = /<style>([\s\S]*?)<\/style>/.exec(hostile)?.[1] ?? '';
    expect(cspOf(hostile)).toContain(`style-src ${hash(style)}`);
  });
});
