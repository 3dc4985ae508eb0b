import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { portReportAt } from '../support/probe-sample.js';
import { describe, expect, it } from 'vitest';
import { finding, type Finding } from '../../src/probe/findings.js';
import type { HostReport } from '../../src/probe/host-probe.js';
import type { PortReport } from '../../src/probe/port-probe.js';
import { renderProbe } from '../../src/probe/render.js';
import { oneLine } from '../../src/reporters/escape.js';

/**
 * The probe's terminal table against a committed golden file. The report is a
 * fixture written out here (fixed ports and times, findings from the real
 * catalogue), so the file changes only when the rendering or the catalogue's
 * wording does. UPDATE_GOLDEN=1 rewrites it.
 */
const GOLDEN = join(import.meta.dirname, 'golden', 'probe-table.txt');
const HOST = 'mail.example.test';

function port(
  address: string,
  portNumber: number,
  rest: Partial<PortReport>,
  findings: (where: { host: string; address: string; port: number }) => Finding[],
): PortReport {
  return portReportAt({ host: HOST, address, port: portNumber }, rest, findings);
}

function fixture(): HostReport {
  const tlsInfo = { mode: 'tls', verify: false, authorized: true, checkedName: HOST, protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' } as const;
  const ports = [
    port(
      '192.0.2.10',
      25,
      { expected: { protocol: 'smtp', security: 'starttls', mx: true }, tcp: { outcome: 'timeout', error: 'connect timed out after 10000 ms' } },
      (w) => [
        finding('tcp-timeout', w, 'connect timed out after 10000 ms', {
          alternative: '; many ISPs block outbound port 25: for sending mail from a client use 587 with STARTTLS',
        }),
      ],
    ),
    port(
      '192.0.2.10',
      587,
      {
        expected: { protocol: 'smtp', security: 'starttls' },
        tcp: { outcome: 'connected', ms: 12.4 },
        banner: { text: '220 mail.example.test ESMTP', ms: 31 },
        spoken: 'smtp',
        tls: { outcome: 'ok', info: { ...tlsInfo, mode: 'starttls' } },
      },
      (w) => [finding('port-ok', w, 'greeting "220 mail.example.test ESMTP"', { spoken: 'SMTP', security: ' and STARTTLS works' })],
    ),
    port(
      '192.0.2.10',
      110,
      {
        expected: { protocol: 'pop3', security: 'starttls' },
        tcp: { outcome: 'connected', ms: 2 },
        banner: { text: '* OK IMAP4rev1 ready', ms: 5 },
        spoken: 'imap',
      },
      (w) => [
        // A hostile banner: its escape sequence must reach the terminal as text.
        finding('wrong-protocol', w, 'greeting "* OK IMAP4rev1 \u001b[31mready"', { spoken: 'IMAP', expected: 'POP3' }),
      ],
    ),
    port(
      '2001:db8::10',
      993,
      { tls: { outcome: 'ok', info: { ...tlsInfo, authorized: false } }, banner: { text: '* OK ready', ms: 4 }, spoken: 'imap' },
      (w) => [finding('tls-expired', w, 'notAfter Jan  1 00:00:00 2020 GMT', { daysAgo: 9 })],
    ),
    port('2001:db8::10', 995, { expected: { protocol: 'pop3', security: 'tls' }, tcp: { outcome: 'refused', error: 'connect ECONNREFUSED' } }, (w) => [
      finding('tcp-refused', w, 'connect ECONNREFUSED 2001:db8::10:995'),
    ]),
  ];
  return { host: HOST, ports, findings: ports.flatMap((p) => p.findings) };
}

describe('renderProbe', () => {
  it('renders the table and the findings that are not ok, as the golden file has them', async () => {
    const text = renderProbe([fixture()], { color: false, oneLine });
    if (process.env.UPDATE_GOLDEN === '1') await writeFile(GOLDEN, text);
    expect(existsSync(GOLDEN), `${GOLDEN} is missing: run with UPDATE_GOLDEN=1 and review it`).toBe(true);
    expect(text).toBe(await readFile(GOLDEN, 'utf8'));
    // No raw escape reached the text; ok findings are in the table only.
    expect(text).not.toContain('\u001b');
    expect(text).not.toContain('port-ok');
  });

  it('colours each row by its worst severity only when asked', () => {
    const coloured = renderProbe([fixture()], { color: true, oneLine });
    expect(coloured).toMatch(/\u001b\[31mfail/);
    expect(coloured).toMatch(/\u001b\[33mwarn/);
    expect(coloured).toMatch(/\u001b\[32mok/);
    // Without the colour codes it is the plain table.
    expect(coloured.replace(/\u001b\[\d+m/g, '')).toBe(renderProbe([fixture()], { color: false, oneLine }));
  });
});
