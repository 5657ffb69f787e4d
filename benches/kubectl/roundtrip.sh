#!/usr/bin/env bash
# kubectl round trips against the lab's API server (issue 12): what a
# person waits for at the prompt, kubectl's own start included.
#
#   sudo benches/kubectl/roundtrip.sh            # N=30 runs of each
#   sudo N=100 PALISADE=target/release/palisade benches/kubectl/roundtrip.sh
#
# Starts a lab of its own (PALISADE_LAB, default kbench), a namespace ns-1
# and a pod x, then times N runs of each command (wall clock, EPOCHREALTIME,
# one kubectl process per run, stdout discarded) and prints the median and
# the 90th percentile (nearest rank) in ms. The discovery cache (HOME, a
# temporary directory) is warmed by one untimed run of each command first;
# the very first kubectl call, with an empty cache, is reported apart.
# `kubectl version --client` (no request) is the floor: kubectl's start.
# The lab is torn down at the end, failed or not.
set -euo pipefail
cd "$(dirname "$0")/../.."

N=${N:-30}
palisade=${PALISADE:-${CARGO_TARGET_DIR:-target}/debug/palisade}
export PALISADE_LAB=${PALISADE_LAB:-kbench}
policy=examples/walkthrough/deny-all-by-default-network-policy.yaml

[ "$(id -u)" -eq 0 ] || { echo "needs root (the lab)" >&2; exit 2; }
command -v kubectl >/dev/null || { echo "kubectl not on the PATH" >&2; exit 2; }
[ -x "$palisade" ] || { echo "$palisade not built (cargo build -p palisade --bin palisade)" >&2; exit 2; }

HOME=$(mktemp -d)
export HOME
cleanup() {
  "$palisade" lab down >/dev/null 2>&1 || true
  rm -rf "$HOME"
}
trap cleanup EXIT

"$palisade" lab up >/dev/null
eval "$("$palisade" lab env)"

now_us() { local t=${EPOCHREALTIME/./}; echo "$((10#$t))"; }

# (`kubectl create ns` and `kubectl run` need no discovery.)
kubectl create ns ns-1 >/dev/null
kubectl run x -n ns-1 --image=busybox -- sleep 3600 >/dev/null
# The first call that needs discovery, with an empty cache.
t0=$(now_us)
kubectl get pods -n ns-1 >/dev/null
first_ms=$(( ($(now_us) - t0) / 1000 ))
kubectl wait --for=condition=Ready pod/x -n ns-1 --timeout=60s >/dev/null

# Prints "median p90" (ms, one decimal) of the microsecond samples on stdin.
stats() {
  sort -n | awk '{ v[NR] = $1 } END {
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    r = int(0.9 * NR); if (r < 0.9 * NR) r++
    printf "%.1f %.1f\n", m / 1000, v[r] / 1000 }'
}

# time_it NAME CMD...: N timed runs ($i is the run's number in CMD).
samples=$(mktemp)
report=()
time_it() {
  local name=$1 i t0
  shift
  : >"$samples"
  for ((i = 1; i <= N; i++)); do
    t0=$(now_us)
    eval "$@" >/dev/null
    echo $(($(now_us) - t0)) >>"$samples"
  done
  read -r med p90 < <(stats <"$samples")
  report+=("$(printf '| `%s` | %s | %s |' "$name" "$med" "$p90")")
}

# Warm-up, untimed.
i=0
kubectl version --client >/dev/null
kubectl get pods -n ns-1 >/dev/null
kubectl label po x -n ns-1 a=0 --overwrite >/dev/null
kubectl create -f "$policy" -n ns-1 >/dev/null
kubectl delete -f "$policy" -n ns-1 >/dev/null

time_it "kubectl version --client" kubectl version --client
time_it "kubectl get pods -n ns-1" kubectl get pods -n ns-1
time_it 'kubectl label po x a=$i --overwrite' kubectl label po x -n ns-1 'a=$i' --overwrite
# create and delete alternate; each is timed on its own.
: >"$samples.create"
: >"$samples.delete"
for ((i = 1; i <= N; i++)); do
  t0=$(now_us)
  kubectl create -f "$policy" -n ns-1 >/dev/null
  echo $(($(now_us) - t0)) >>"$samples.create"
  t0=$(now_us)
  kubectl delete -f "$policy" -n ns-1 >/dev/null
  echo $(($(now_us) - t0)) >>"$samples.delete"
done
read -r med p90 < <(stats <"$samples.create")
report+=("$(printf '| `kubectl create -f %s` | %s | %s |' "$policy" "$med" "$p90")")
read -r med p90 < <(stats <"$samples.delete")
report+=("$(printf '| `kubectl delete -f %s` | %s | %s |' "$policy" "$med" "$p90")")
rm -f "$samples" "$samples.create" "$samples.delete"

echo "kubectl round trips against lab $PALISADE_LAB ($palisade), N=$N, $(kubectl version --client | head -n 1)"
echo "first kubectl get pods -n ns-1 (discovery cache empty): ${first_ms} ms"
echo
echo "| command | median (ms) | p90 (ms) |"
echo "| --- | ---: | ---: |"
printf '%s\n' "${report[@]}"
