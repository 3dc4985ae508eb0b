#!/usr/bin/env bash
# Installs the npm dependencies (when package-lock.json changed or node_modules is
# missing) and builds dist/. Sourced by main.sh and test.sh so a fresh clone
# needs nothing installed by hand beyond Node and npm.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
stamp=node_modules/.mailprobe-lock
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  echo "mailprobe: installing npm dependencies (npm ci)" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
  cp package-lock.json "$stamp"
fi
echo "mailprobe: building dist/" >&2
npm run --silent build >&2
