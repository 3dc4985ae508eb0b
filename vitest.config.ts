import { defineConfig } from 'vitest/config';

/**
 * Two projects:
 * - unit: pure judging, parsing and rendering (classify, step judging, verdicts,
 *   matchers, interpolation, reporters over sample results). No lab, no root, no
 *   child processes, no sockets: `npm run test:unit` runs it in seconds anywhere.
 * - integration: everything that needs the loopback lab, in-process servers on
 *   real sockets, or child processes. Only this project starts the lab.
 */
const UNIT = [
  'test/unit/**/*.test.ts',
  'test/bench/replay-framing.test.ts',
  'test/bench/replay-imap.test.ts',
  'test/interpolate/**/*.test.ts',
  'test/scenario/**/*.test.ts',
  'test/reporters/console.test.ts',
  'test/reporters/escape.test.ts',
  'test/reporters/html.test.ts',
  'test/reporters/index.test.ts',
  'test/reporters/json.test.ts',
  'test/reporters/matrix.test.ts',
  'test/reporters/matrix-html.test.ts',
  'test/reporters/multiplexer.test.ts',
  'test/reporters/redaction.test.ts',
  'test/reporters/tap.test.ts',
  'test/transport/line-reader.test.ts',
  'test/imap-raw/framer.test.ts',
  'test/runner/**/*.test.ts',
  'test/matrix/**/*.test.ts',
  'test/probe/render.test.ts',
  'test/probe/dns/servers.test.ts',
  'test/probe/discovery/autoconfig.test.ts',
  'test/probe/discovery/mta-sts.test.ts',
  'test/probe/domain-plan.test.ts',
  'test/probe/render-domain.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 120_000,
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: UNIT },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: UNIT,
          // Integration tests share one loopback lab; running files in parallel on a
          // 2-core machine makes Dovecot's timing noisy without saving time.
          fileParallelism: false,
          globalSetup: ['test/global-setup.ts'],
        },
      },
    ],
  },
});
