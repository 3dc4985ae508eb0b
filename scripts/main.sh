#!/usr/bin/env bash
# The main job: the shipped suites against the built-in loopback lab, with
# reports in reports/. Installs what is missing (npm packages; Debian's Dovecot
# and Postfix when run as root), starts the lab, runs, stops the lab, and exits
# with mailprobe's exit code (see README).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/ensure-deps.sh
mkdir -p reports
# A lab that was already running (a developer's) is left running afterwards.
if node dist/cli/main.js lab status >/dev/null 2>&1; then was_running=1; else was_running=0; fi
node dist/cli/main.js lab up
if [ "$was_running" -eq 0 ]; then
  trap 'node dist/cli/main.js lab down >&2 || true' EXIT
fi
set +e
node dist/cli/main.js run \
  --reporter junit=reports/junit.xml \
  --reporter junit-strict=reports/junit-strict.xml \
  --reporter tap=reports/report.tap \
  --reporter json=reports/report.json \
  --reporter html=reports/report.html \
  "$@"
code=$?
set -e
echo "mailprobe: reports written to reports/ (junit.xml, junit-strict.xml, report.tap, report.json, report.html); exit code $code" >&2
exit $code
