#!/usr/bin/env bash
# Side-by-side: the Network Config Analyzer (PyPI network-config-analyzer,
# `nca`) and `palisade connectivity` on the same synthetic clusters. For each
# size PODS/POLICIES it times both tools on the same input, reduces both
# answers to canonical pod-to-pod facts (normalise.py) and diffs them.
#
#   benches/nca/compare.sh                 # 50/10, then 500/100
#   benches/nca/compare.sh 1000/200        # any sizes, in order
#
# Environment:
#   NCA_VENV      virtualenv holding nca (default /tmp/nca-venv; created and
#                 filled from PyPI if it has no bin/nca)
#   NCA_VERSION   version installed there (default 2.1.0, the one the parser
#                 in normalise.py was written against; empty: latest)
#   NCA_TIMEOUT   seconds before an nca run is reported "did not finish"
#                 (default 600)
#   PALISADE_TIMEOUT  the same for palisade (default 600)
#   PALISADE_RUNS     palisade runs per size; its time is their median
#                 (default 5: one run is a few milliseconds, so one run
#                 alone is mostly noise; nca runs once)
#   SEED          generator seed (default: palisade_synth's DEFAULT_SEED)
#   WORK          where clusters and answers go (default: a new /tmp dir)
#   CARGO_TARGET_DIR  as for cargo (default: the workspace's target/)
#
# nca is not a dependency of palisade: it lives only in NCA_VENV.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(50/10 500/100)
for s in "${sizes[@]}"; do
  [[ "$s" =~ ^[0-9]+/[0-9]+$ ]] || { echo "size must be PODS/POLICIES, got '$s'" >&2; exit 2; }
done

NCA_VENV="${NCA_VENV:-/tmp/nca-venv}"
NCA_VERSION="${NCA_VERSION-2.1.0}"
NCA_TIMEOUT="${NCA_TIMEOUT:-600}"
PALISADE_TIMEOUT="${PALISADE_TIMEOUT:-600}"
PALISADE_RUNS="${PALISADE_RUNS:-5}"
WORK="${WORK:-$(mktemp -d /tmp/nca-compare.XXXXXX)}"
target="${CARGO_TARGET_DIR:-$root/target}"
mkdir -p "$WORK"

# --- 1. tools ------------------------------------------------------------
if [ ! -x "$NCA_VENV/bin/nca" ]; then
  echo "== installing network-config-analyzer${NCA_VERSION:+==$NCA_VERSION} into $NCA_VENV"
  python3 -m venv "$NCA_VENV"
  "$NCA_VENV/bin/pip" install --quiet --disable-pip-version-check \
    "network-config-analyzer${NCA_VERSION:+==$NCA_VERSION}"
fi
nca="$NCA_VENV/bin/nca"
py="$NCA_VENV/bin/python"   # has PyYAML, an nca dependency
nca_version="$("$nca" --version 2>&1 | tr -d '\n')"
"$py" "$here/normalise.py" selftest >/dev/null

echo "== cargo build --release --bin palisade --bin palisade-synth"
cargo build --release --quiet --bin palisade --bin palisade-synth
palisade="$target/release/palisade"
synth="$target/release/palisade-synth"
have_connectivity=true
if ! "$palisade" connectivity --help >/dev/null 2>&1; then
  have_connectivity=false
  echo "== this palisade has no 'connectivity' command: timing nca only"
fi

timed=false
[ -x /usr/bin/time ] && timed=true

# run NAME TIMEOUT OUT ERR -- CMD...: runs CMD with stdout to OUT, stderr to
# ERR; sets $secs (wall clock), $rss_mb (peak RSS, or "?") and $rc (124 on
# timeout).
run() {
  local name="$1" limit="$2" out="$3" err="$4"
  shift 5
  local start end tfile="$WORK/.time.$name"
  start=$EPOCHREALTIME
  set +e
  if $timed; then
    /usr/bin/time -f '%M' -o "$tfile" timeout "$limit" "$@" >"$out" 2>"$err"
  else
    timeout "$limit" "$@" >"$out" 2>"$err"
  fi
  rc=$?
  set -e
  end=$EPOCHREALTIME
  secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')
  rss_mb="?"
  if $timed && [ -s "$tfile" ]; then
    local kb
    kb=$(tail -n 1 "$tfile")
    [[ "$kb" =~ ^[0-9]+$ ]] && rss_mb=$(( kb / 1024 ))
  fi
  return 0
}

# clock OUT ERR -- CMD...: runs CMD with no wrapper at all (no timeout, no
# /usr/bin/time: each costs a process start, which is most of a run of a
# few milliseconds); sets $secs and $rc. Only for commands that `run` has
# already seen finish.
clock() {
  local out="$1" err="$2" start end
  shift 3
  start=$EPOCHREALTIME
  set +e
  "$@" >"$out" 2>"$err"
  rc=$?
  set -e
  end=$EPOCHREALTIME
  secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.4f", b - a }')
}

rows=()
for size in "${sizes[@]}"; do
  pods="${size%/*}" policies="${size#*/}"
  dir="$WORK/$pods-$policies"
  in="$dir/cluster"
  rm -rf "$dir" && mkdir -p "$in"
  echo
  echo "== $pods pods / $policies policies (in $dir)"

  # --- 2. the cluster: ipBlocks outside the pod network, nca-compatible ---
  "$synth" --pods "$pods" --policies "$policies" ${SEED:+--seed "$SEED"} \
    --ipblocks-outside --nca-compat --out "$in"

  # --- 3. both tools, timed -------------------------------------------
  run nca "$NCA_TIMEOUT" "$dir/nca.txt" "$dir/nca.err" -- \
    "$nca" --connectivity "$in/policies.yaml" \
    --ns_list "$in/namespaces.yaml" --pod_list "$in/pods.yaml" \
    -o txt_no_fw_rules --output_endpoints pods
  nca_rc=$rc nca_s=$secs nca_mb=$rss_mb
  if [ "$nca_rc" -eq 124 ]; then
    nca_col="did not finish (>${NCA_TIMEOUT}s)"
    echo "   nca: did not finish in ${NCA_TIMEOUT}s"
  elif [ "$nca_rc" -ne 0 ]; then
    nca_col="failed (exit $nca_rc)"
    echo "   nca: exit $nca_rc after ${nca_s}s:"
    grep -h '^Error' "$dir/nca.txt" "$dir/nca.err" >"$dir/nca.errors" || true
    sed -n '1,5s/^/     /p' "$dir/nca.errors"
  else
    nca_col="$nca_s"
    echo "   nca: ${nca_s}s, peak RSS ${nca_mb} MB"
  fi

  pal_col="n/a" pal_rc=1
  if $have_connectivity; then
    # One run under timeout and /usr/bin/time (exit code, peak RSS), then
    # PALISADE_RUNS bare runs for the time.
    run palisade "$PALISADE_TIMEOUT" "$dir/palisade.json" "$dir/palisade.err" -- \
      "$palisade" connectivity -f "$in" -o json
    pal_mb=$rss_mb times=()
    for ((i = 1; i <= PALISADE_RUNS && rc == 0; i++)); do
      rm -f "$dir/palisade.json"
      clock "$dir/palisade.json" "$dir/palisade.err" -- "$palisade" connectivity -f "$in" -o json
      times+=("$secs")
    done
    pal_rc=$rc
    pal_s=$(printf '%s\n' "${times[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
    if [ "$pal_rc" -eq 124 ]; then
      pal_col="did not finish (>${PALISADE_TIMEOUT}s)"
    elif [ "$pal_rc" -ne 0 ]; then
      pal_col="failed (exit $pal_rc)"
      echo "   palisade: exit $pal_rc:"
      sed -n '1,5s/^/     /p' "$dir/palisade.err"
    else
      pal_col="$pal_s"
      echo "   palisade: ${pal_s}s (median of ${#times[@]} runs: ${times[*]}), peak RSS ${pal_mb} MB"
    fi
  fi

  # --- 4. canonical pod-to-pod facts, diffed -----------------------------
  ratio="-" same="-"
  if [ "$nca_rc" -eq 0 ]; then
    "$py" "$here/normalise.py" nca "$dir/nca.txt" "$in/pods.yaml" >"$dir/nca.facts"
    echo "   nca: $(wc -l <"$dir/nca.facts") pod-to-pod facts"
  fi
  if [ "$pal_rc" -eq 0 ]; then
    "$py" "$here/normalise.py" palisade "$dir/palisade.json" "$in/pods.yaml" >"$dir/palisade.facts"
    echo "   palisade: $(wc -l <"$dir/palisade.facts") pod-to-pod facts"
    if [ "$nca_rc" -eq 0 ]; then
      ratio=$(awk -v n="$nca_s" -v p="$pal_s" 'BEGIN { if (p > 0) printf "%.0fx", n / p; else print "inf" }')
      if diff -u "$dir/nca.facts" "$dir/palisade.facts" >"$dir/facts.diff"; then
        same=yes
        echo "   identical pod-to-pod answers"
      else
        same=no
        echo "   answers differ: $("$py" "$here/normalise.py" summary "$dir/nca.facts" "$dir/palisade.facts")"
        echo "   first differences (- nca, + palisade):"
        # Not `grep | head`: with pipefail, grep's SIGPIPE would end the script.
        grep '^[-+][^-+]' "$dir/facts.diff" >"$dir/facts.only" || true
        sed -n '1,20s/^/     /p' "$dir/facts.only"
        echo "   (full diff: $dir/facts.diff)"
      fi
    elif [ "$nca_rc" -eq 124 ]; then
      ratio=$(awk -v n="$NCA_TIMEOUT" -v p="$pal_s" 'BEGIN { if (p > 0) printf ">%.0fx", n / p; else print "-" }')
    fi
  fi
  rows+=("| $pods / $policies | $nca_col | $pal_col | $ratio | $same |")
done

# --- 5. the table --------------------------------------------------------
{
  echo
  echo "nca: $nca_version (txt_no_fw_rules, --output_endpoints pods); palisade: $("$palisade" --version 2>/dev/null || echo palisade)"
  echo "machine: $(nproc) cores, $(uname -sm); seconds are wall clock: nca one run, palisade the median of $PALISADE_RUNS"
  echo
  echo "| pods / policies | nca s | palisade s | nca / palisade | identical pod-to-pod answers |"
  echo "|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
} | tee "$WORK/results.md"
echo
echo "(clusters, raw answers, facts and diffs under $WORK)"
