#!/usr/bin/env bash
# The cross-server matrix: the shipped suites against the lab's Dovecot, Cyrus
# and Courier in one run. Installs what is missing, starts the three servers,
# runs, and writes reports/matrix.md, reports/matrix.html, reports/matrix.json
# and per-server JUnit (reports/junit-<server>.xml). With --update-readme it
# also puts reports/matrix.md into README.md between its matrix markers.
# Exits with mailprobe's exit code (1: some scenario failed on some server).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
update_readme=0
if [ "${1:-}" = "--update-readme" ]; then
  update_readme=1
  shift
fi
bash scripts/ensure-deps.sh
mkdir -p reports
servers=dovecot,cyrus,courier
if node dist/cli/main.js lab status >/dev/null 2>&1; then was_running=1; else was_running=0; fi
node dist/cli/main.js lab up --servers "$servers"
if [ "$was_running" -eq 0 ]; then
  trap 'node dist/cli/main.js lab down >&2 || true' EXIT
fi
set +e
node dist/cli/main.js run --servers "$servers" \
  --reporter matrix-md=reports/matrix.md \
  --reporter matrix-html=reports/matrix.html \
  --reporter matrix-json=reports/matrix.json \
  --reporter junit=reports/junit.xml \
  --reporter json=reports/report.json \
  "$@"
code=$?
set -e
if [ "$update_readme" -eq 1 ] && [ -s reports/matrix.md ]; then
  node -e '
    const fs = require("node:fs");
    const readme = fs.readFileSync("README.md", "utf8");
    const begin = "<!-- matrix:begin -->", end = "<!-- matrix:end -->";
    const a = readme.indexOf(begin), b = readme.indexOf(end);
    if (a < 0 || b < a) { console.error("README.md has no matrix markers"); process.exit(2); }
    const table = fs.readFileSync("reports/matrix.md", "utf8").trim();
    fs.writeFileSync("README.md", readme.slice(0, a + begin.length) + "\n" + table + "\n" + readme.slice(b));
  '
  echo "mailprobe: README.md matrix updated from reports/matrix.md" >&2
fi
echo "mailprobe: matrix written to reports/ (matrix.md, matrix.html, matrix.json, junit-<server>.xml, report-<server>.json); exit code $code" >&2
exit $code
