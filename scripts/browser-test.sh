#!/usr/bin/env bash
# The dashboard's browser test, in one command: brings up a lab (the
# walkthrough with its deny-all policy), serves `palisade lab dashboard`,
# opens it in Debian's headless Chromium (driven by playwright-core) and
# checks the page, the live flow stream, and that a real denied connection
# shows up attributed to ns-1/deny-all-by-default. Saves docs/dashboard.png.
#
#   sudo scripts/browser-test.sh
#
# Needs root (network namespaces), Node >= 20.19 with npm (for web/), and
# installs chromium, nftables and iproute2 from Debian if missing. Without
# root it skips; with CI=true anything missing is a failure.
set -euo pipefail
cd "$(dirname "$0")/.."

fail_or_skip() {
  if [ "${CI:-}" = true ]; then
    echo "browser test: $1 (CI=true: failing instead of skipping)" >&2
    exit 1
  fi
  echo "SKIP browser test: $1"
  exit 0
}

[ "$(id -u)" -eq 0 ] || fail_or_skip "not root (the lab creates network namespaces)"
command -v npm >/dev/null 2>&1 || fail_or_skip "npm not found (install Node >= 20.19 with npm)"
PALISADE_DEPS_BROWSER=1 source scripts/deps.sh

echo "== web: npm ci, and web/dist up to date with web/src"
(cd web && npm ci --no-audit --no-fund --loglevel=error && npm run --silent check-dist)

echo "== building palisade"
cargo build -p palisade --quiet --locked
export PALISADE_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/palisade"
export PALISADE_TEST_LAB="pw$$"
trap '"$PALISADE_BIN" lab down --lab "$PALISADE_TEST_LAB" >/dev/null 2>&1 || true' EXIT

echo "== browser test (lab $PALISADE_TEST_LAB)"
cd web && node --test --test-reporter=spec e2e/
