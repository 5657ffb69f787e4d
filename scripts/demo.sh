#!/usr/bin/env bash
# The walkthrough on real packets: a lab node made of network namespaces,
# namespace ns-1, an http-echo server exposed as a Service, a busybox client,
# deny-all-by-default, then allow, then the app=busybox label; every probe is
# a real HTTP POST and every outcome is checked (exit 1 if any differs).
# Needs root (network namespaces); installs nftables if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh

# The first build compiles palisade in release mode: a few minutes (about
# four on two cores); later runs take seconds. Cargo's own progress (the
# crates compiling, then a progress bar) goes to stderr.
bin="${CARGO_TARGET_DIR:-target}/release/palisade"
if [ ! -x "$bin" ]; then
  echo "== building palisade (release, first run: a few minutes; later runs reuse it)" >&2
fi
cargo build --release --bin palisade
exec "$bin" lab demo
