#!/usr/bin/env bash
# The test job: installs, builds, and runs every test. The vitest global setup
# starts a private loopback lab (real Dovecot + Postfix) for the integration
# tests and stops it afterwards.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/ensure-deps.sh
bash scripts/ensure-test-tools.sh
npx tsc -p tsconfig.json --noEmit
npx vitest run "$@"
