#!/usr/bin/env bash
# Installs everything Kiln needs on a machine that has only Node 20 and npm:
# pnpm (the version in package.json's packageManager), the workspace dependencies,
# and, for the browser and cache tests, Debian's chromium and redis-server.
# Usage: bash scripts/setup.sh [--frozen]
set -euo pipefail
cd "$(dirname "$0")/.."

want=$(node -p "require('./package.json').packageManager.split('@')[1]")
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version)" != "$want" ]; then
  echo "setup: installing pnpm $want with npm (corepack is not used)"
  npm install -g "pnpm@$want" >/dev/null
fi

if [ "${1:-}" = "--frozen" ] || [ -n "${CI:-}" ]; then
  pnpm install --frozen-lockfile
else
  pnpm install
fi

missing=()
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || missing+=(chromium)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
if [ ${#missing[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "setup: installing ${missing[*]} with apt-get (for the browser and cache tests)"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "setup: please install ${missing[*]} (needed by the browser and cache tests)" >&2
  fi
fi
echo "setup: done"
