#!/usr/bin/env bash
# ctest bench.smoke_clicks: the `clicks` scenario for ~2 s with a handful of connections against a
# real redis-server, round-scheduler and hub-gateway. Passes when a RESULT line reports acked > 0
# (no timing assertion). Usage: smoke.sh <bin dir>
set -euo pipefail
STACK_BIN_DIR=${1:?usage: smoke.sh <bin dir>}
HERE=$(cd "$(dirname "$0")" && pwd)
STACK_LOG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/clickrace-bench-smoke.XXXXXX")
# shellcheck source=stack.sh
source "$HERE/stack.sh"
cleanup() { stack_stop_all; rm -rf "$STACK_LOG_DIR"; }
trap cleanup EXIT

for b in hub-gateway round-scheduler clickrace-loadgen; do
  [[ -x "$STACK_BIN_DIR/$b" ]] || { echo "missing $STACK_BIN_DIR/$b"; exit 1; }
done
stack_start_redis
stack_start_scheduler scheduler "smoke:" 2000
stack_start_gateway gateway "smoke:" 2000
url="http://127.0.0.1:$GATEWAY_PORT"
stack_wait_round "$url"

out=$(timeout 60 "$STACK_BIN_DIR/clickrace-loadgen" clicks --gateways "$url" --connections 4 \
  --inflight 4 --duration 2 --warmup 0.2 --accounts 2 --account-prefix smoke \
  --gateway-pids "$(stack_pid gateway)" --redis-pid "$(stack_pid redis)" \
  --redis "127.0.0.1:$REDIS_PORT" --json "$STACK_LOG_DIR/smoke.json" 2>&1) || {
  echo "$out"
  tail -n 30 "$STACK_LOG_DIR/gateway.log"
  exit 1
}
echo "$out"
grep -qE '^RESULT clicks acked=[1-9][0-9]*' <<<"$out" || { echo "no acknowledged clicks"; exit 1; }
grep -q '"acked_per_s"' "$STACK_LOG_DIR/smoke.json" || { echo "no JSON result"; exit 1; }
echo "smoke: ok"
