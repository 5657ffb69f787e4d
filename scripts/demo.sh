#!/usr/bin/env bash
# The walkthrough on real packets: a lab node made of network namespaces,
# namespace ns-1, an http-echo server exposed as a Service, a busybox client,
# deny-all-by-default, then allow, then the app=busybox label; every probe is
# a real HTTP POST and every outcome is checked (exit 1 if any differs).
# Needs root (network namespaces); installs nftables if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh

cargo build --release --quiet --bin palisade
exec "${CARGO_TARGET_DIR:-target}/release/palisade" lab demo
