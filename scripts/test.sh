#!/usr/bin/env bash
# Runs every check CI runs: formatting, clippy with -D warnings, all tests
# (unit, property, golden, conformance), and the CLI on the conformance cases.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null; then
  echo "cargo not found: install Rust (https://rustup.rs)" >&2
  exit 2
fi
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt clippy

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
if command -v cargo-nextest >/dev/null; then
  cargo nextest run --workspace --locked --no-fail-fast
else
  cargo test --workspace --locked --no-fail-fast
fi

cases=../shared/conformance/cases
if [ -d "$cases" ]; then
  echo "== palisade conformance $cases"
  cargo run --quiet --locked --bin palisade -- conformance "$cases" | tail -n 1
fi
