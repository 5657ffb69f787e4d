#!/usr/bin/env bash
# The walkthrough, explained offline: for each step, what palisade decides
# for busybox -> http-echo:80 and why. Builds palisade first.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=examples/walkthrough

cargo build --release --quiet --bin palisade
palisade() { ./target/release/palisade "$@"; }

step() {
  printf '\n\033[1m== %s\033[0m\n' "$1"
  shift
  printf '$ palisade check %s --from ns-1/busybox --to ns-1/http-echo --port 80/tcp\n' "$*"
  palisade check "$@" --from ns-1/busybox --to ns-1/http-echo --port 80/tcp || true
}

# `app: busybox` added to busybox, as `kubectl label pod busybox app=busybox` would.
labelled() { sed 's/^    run: busybox$/    run: busybox\n    app: busybox/' "$dir/cluster.yaml"; }

step "1. no policy: busybox reaches http-echo" -f "$dir/cluster.yaml"
step "2. deny-all-by-default: every pod in ns-1 isolated for ingress" \
  -f "$dir/cluster.yaml" -f "$dir/deny-all-by-default-network-policy.yaml"
step "3. allow (app=busybox -> app=http-echo): busybox has no app label yet" \
  -f "$dir/cluster.yaml" -f "$dir/allow-network-policy.yaml"
printf '\n\033[1m== 4. busybox labelled app=busybox (cluster.yaml piped through sed, read from stdin)\033[0m\n'
labelled | palisade check -f - -f "$dir/allow-network-policy.yaml" \
  --from ns-1/busybox --to ns-1/http-echo --port 80/tcp

printf '\n\033[1m== The whole matrix after step 4\033[0m\n'
labelled | palisade matrix -f - -f "$dir/allow-network-policy.yaml" --port 80/tcp

cases=../shared/conformance/cases
if [ -d "$cases" ]; then
  printf '\n\033[1m== The conformance cases\033[0m\n'
  palisade conformance "$cases" | tail -n 3
fi
