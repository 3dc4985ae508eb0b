#!/usr/bin/env bash
# The test job: installs, builds, type-checks, lints, checks the layout, and runs every test. The
# vitest global setup starts a private loopback lab (real Dovecot + Postfix) for
# the integration tests and stops it afterwards.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/ensure-deps.sh
bash scripts/ensure-test-tools.sh
npx tsc -p tsconfig.json --noEmit
# Lint errors fail the job; warnings are printed. The import-direction check is
# test/unit/import-graph.test.ts, which the vitest run below includes.
npm run --silent lint
# The tree is in biome's layout; a change that is not fails here (`npm run format` fixes it).
npm run --silent format:check
# The cross-server matrix test needs Cyrus and Courier beside Dovecot: the whole run asks for them.
export MAILPROBE_LAB_SERVERS="${MAILPROBE_LAB_SERVERS:-dovecot,cyrus,courier}"
npx vitest run "$@"
