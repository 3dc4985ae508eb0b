import { beforeAll, describe, expect, it } from 'vitest';
import { loadSuiteChecks, type SuiteChecks } from '../support/checks.js';
import { IMAP_MUTATIONS, IMAP_STARTTLS_SERVERS, MATRIX_SUITES, POP3_FAULTS, SMTP_FAULTS, type FaultEntry } from '../support/fault-catalogue.js';

/**
 * The coverage check (`npm run check-coverage`): every expectation of a
 * shipped scenario that cites an RFC clause must be the first failing check
 * under at least one fault of the catalogue, which the fault-matrix test
 * proves against real servers. Prints the matrix, check → faults.
 */
let suite: SuiteChecks;
beforeAll(async () => {
  suite = await loadSuiteChecks(MATRIX_SUITES);
});

function provenBy(): Map<string, string[]> {
  const proofs = new Map<string, string[]>();
  const add = (kind: string, faults: Readonly<Record<string, FaultEntry | undefined>>) => {
    for (const [fault, entry] of Object.entries(faults)) {
      for (const outcome of Object.values(entry?.outcomes ?? {})) {
        const key = /^failed at (.*)$/.exec(outcome)?.[1];
        if (key) proofs.set(key, [...(proofs.get(key) ?? []), `${kind}:${fault}`]);
      }
    }
  };
  add('pop3', POP3_FAULTS);
  add('imap', IMAP_MUTATIONS);
  add('smtp', SMTP_FAULTS);
  add('starttls', Object.fromEntries(Object.entries(IMAP_STARTTLS_SERVERS).map(([name, server]) => [name, { outcomes: { 'imap/starttls': server.outcome } }])));
  return proofs;
}

describe('fault coverage of the shipped suites', () => {
  it('names only checks that exist', () => {
    const known = new Set([...suite.checks.map((c) => c.key), ...suite.replyByStepPosition.values()]);
    const ofAStep = (key: string) => [...suite.stepPrefixes].some((prefix) => key.startsWith(prefix));
    const stale = [...provenBy().keys()].filter((key) => !known.has(key) && !ofAStep(key));
    expect(stale, 'catalogue entries that name no check of the shipped suites (renamed step?)').toEqual([]);
  });

  it('proves every check that cites an RFC clause', () => {
    const proofs = provenBy();
    const cited = suite.checks.filter((c) => c.rfc);
    const lines = cited.map(
      (c) => `${proofs.has(c.key) ? '  proven ' : 'UNPROVEN '} ${c.key}\n           ${c.rfc}\n           ← ${(proofs.get(c.key) ?? ['(no fault)']).join(', ')}`,
    );
    const unproven = cited.filter((c) => !proofs.has(c.key));
    const faults =
      Object.keys(POP3_FAULTS).length + Object.keys(IMAP_MUTATIONS).length + Object.keys(SMTP_FAULTS).length + Object.keys(IMAP_STARTTLS_SERVERS).length - 1;
    console.log([`Fault coverage: ${cited.length - unproven.length} of ${cited.length} RFC-citing checks proven by ${faults} faults`, ...lines].join('\n'));
    expect(
      unproven.map((c) => `${c.key} (${c.at})`),
      'checks citing an RFC clause that no fault makes the first to fail',
    ).toEqual([]);
  });
});
