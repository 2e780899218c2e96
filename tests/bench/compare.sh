#!/usr/bin/env bash
# Before/after in one session: the real-client (open-loop) clickrace runs of scripts/bench, once
# per gateway variant, variants alternating (REPEAT rounds) so machine noise hits them alike, and
# one table at the end. A variant is NAME=GATEWAY_BINARY[,VAR=VALUE...] (env for the gateway).
#   tests/bench/compare.sh before=build/before/hub-gateway-7d72a41 after=build/bin/hub-gateway
#   tests/bench/compare.sh off=build/bin/hub-gateway on=build/bin/hub-gateway,CLICKRACE_X=1
# Sizes as scripts/bench (BENCH_RC_RATES, BENCH_RC_CONNS, BENCH_RC_ARRIVALS, ...); REPEAT [1].
# COMPARE_ONLY [realclient]: another scripts/bench scenario (e.g. clicks, the pipelined
# saturation run) prints each variant's RESULT lines instead of the table.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR=${CLICKRACE_BUILD_DIR:-build}
OUT=${COMPARE_OUT_DIR:-$BUILD_DIR/bench-compare}
rm -rf "$OUT"
mkdir -p "$OUT/all"
for ((rep = 1; rep <= ${REPEAT:-1}; rep++)); do
  for variant in "$@"; do
    name=${variant%%=*}
    spec=${variant#*=}
    IFS=, read -r -a parts <<<"$spec"
    bin=$(realpath "${parts[0]}")
    envs=("${parts[@]:1}")
    echo "compare: $name (run $rep): $bin ${envs[*]}" >&2
    env "${envs[@]}" STACK_GATEWAY_BIN="$bin" BENCH_RC_SERVERS=clickrace BENCH_RC_KIND="clickrace@$name" \
      BENCH_OUT_DIR="$OUT/$name-$rep" scripts/bench --no-build --only "${COMPARE_ONLY:-realclient}" >"$OUT/$name-$rep.txt" 2>&1 ||
      { echo "compare: $name failed (see $OUT/$name-$rep.txt)" >&2; continue; }
    for f in "$OUT/$name-$rep"/rc-*.json; do [[ -f $f ]] && cp "$f" "$OUT/all/$name-$rep-$(basename "$f")"; done
    [[ ${COMPARE_ONLY:-realclient} == realclient ]] || sed "s/^RESULT /RESULT $name-$rep /" <(grep '^RESULT' "$OUT/$name-$rep.txt")
  done
done
[[ ${COMPARE_ONLY:-realclient} == realclient ]] || exit 0
"$BUILD_DIR/bin/clickrace-loadgen" report --machine "$(nproc) CPU, $(date -u +%Y-%m-%dT%H:%MZ), load average $(cut -d' ' -f1-3 /proc/loadavg)" \
  --json "$OUT/results.json" "$OUT"/all/*.json | sed -n '1,/^clickrace benchmark, PIPELINED/p' | sed '$d'
