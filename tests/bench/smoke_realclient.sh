#!/usr/bin/env bash
# ctest bench.smoke_realclient_*: each real-client scenario of scripts/bench for ~2 s against real
# processes, so none of them can rot. Passes when the run reports acknowledged clicks; never
# asserts a timing. Usage: smoke_realclient.sh <bin dir> openloop|floor|peer|js|cluster
#   openloop  clickrace-loadgen openloop (burst, then spread) against redis + scheduler + gateway
#   floor     the same against the I/O floor (tests/bench/floor)
#   peer      the same against the ASP.NET Core peer (built into <bin dir>/../peer-aspnet if
#             missing; exit 77 = skipped when there is no dotnet)
#   js        tests/bench/js-clients.mjs (the official @microsoft/signalr client) against clickrace
#   cluster   openloop against scheduler + gateway on a local 6-node Redis Cluster (scripts/bench
#             --only cluster): CPU per primary and of the replicas in the JSON (77 without redis-cli)
set -euo pipefail
STACK_BIN_DIR=${1:?usage: smoke_realclient.sh <bin dir> openloop|floor|peer|js|cluster}
what=${2:?usage: smoke_realclient.sh <bin dir> openloop|floor|peer|js|cluster}
HERE=$(cd "$(dirname "$0")" && pwd)
STACK_LOG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/clickrace-bench-smoke-$what.XXXXXX")
# shellcheck source=stack.sh
source "$HERE/stack.sh"
cleanup() { stack_stop_all; rm -rf "$STACK_LOG_DIR"; }
trap cleanup EXIT
LOADGEN=$STACK_BIN_DIR/clickrace-loadgen

# run LABEL ARGS...: a 2 s open-loop run; fails without acknowledged clicks or a JSON result.
run() {
  local label=$1 out
  shift
  out=$(timeout 120 "$LOADGEN" openloop --label "$label" --connections 8 --click-rate 400 \
    --duration 2 --warmup 0.3 --drain 2 --json "$STACK_LOG_DIR/$label.json" "$@" 2>&1) || {
    echo "$out"
    tail -n 30 "$STACK_LOG_DIR"/*.log
    exit 1
  }
  echo "$out" | grep -E '^RESULT|generator|open in'
  grep -qE '^RESULT .* acked_per_s=[1-9][0-9]*' <<<"$out" || { echo "$out"; echo "no acknowledged clicks"; exit 1; }
  grep -q '"sent_per_s"' "$STACK_LOG_DIR/$label.json" || { echo "no JSON result"; exit 1; }
}

clickrace_stack() {
  stack_start_redis
  stack_start_scheduler scheduler "smoke:" 2000
  stack_start_gateway gateway "smoke:" 2000
  URL="http://127.0.0.1:$GATEWAY_PORT"
  stack_wait_round "$URL"
}

case "$what" in
  openloop)
    clickrace_stack
    for arr in burst spread; do
      run "smoke-$arr" --arrivals "$arr" --gateways "$URL" --gateway-pids "$(stack_pid gateway)" \
        --redis-pid "$(stack_pid redis)" --redis "127.0.0.1:$REDIS_PORT" --accounts 4 \
        --account-prefix smoke
    done
    grep -q '"clicks_per_batch"' "$STACK_LOG_DIR/smoke-burst.json" || { echo "no batch counters"; exit 1; }
    grep -q '"redis_primaries": *1' "$STACK_LOG_DIR/smoke-burst.json" || { echo "no Redis node CPU"; exit 1; }
    # The same click in the MessagePack hub protocol (binary frames).
    run smoke-msgpack --arrivals burst --protocol messagepack --gateways "$URL" \
      --gateway-pids "$(stack_pid gateway)" --redis-pid "$(stack_pid redis)" \
      --redis "127.0.0.1:$REDIS_PORT" --accounts 4 --account-prefix smoke
    grep -q '"protocol": *"messagepack"' "$STACK_LOG_DIR/smoke-msgpack.json" ||
      { echo "the MessagePack run did not record its protocol"; exit 1; }
    ;;
  floor)
    stack_start_floor floor
    run smoke-floor --gateways "http://127.0.0.1:$FLOOR_PORT" --gateway-pids "$(stack_pid floor)" \
      --skip-negotiation --no-login --ack-order fifo --server-kind floor
    ;;
  peer)
    command -v dotnet >/dev/null || { echo "no dotnet: skipped"; exit 77; }
    dll=$STACK_BIN_DIR/../peer-aspnet/PeerAspnet.dll
    if [[ ! -f $dll ]]; then
      DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 dotnet build "$HERE/peer-aspnet" -c Release \
        -o "$(dirname "$dll")" -v quiet -nologo || { echo "peer build failed"; exit 1; }
    fi
    stack_start_redis
    STACK_READY_TIMEOUT_S=60 stack_start_peer peer "$dll" 2000
    run smoke-peer --gateways "http://127.0.0.1:$PEER_PORT_BOUND" --gateway-pids "$(stack_pid peer)" \
      --redis-pid "$(stack_pid redis)" --server-kind aspnet --accounts 4 --account-prefix smoke
    ;;
  js)
    clickrace_stack
    out=$(cd "$HERE/.." && timeout 120 node bench/js-clients.mjs --url "$URL" --clients 3 --rate 10 \
      --duration 2 --warmup 0.5 --gateway-pids "$(stack_pid gateway)" --redis-pid "$(stack_pid redis)" \
      --prefix smokejs --json "$STACK_LOG_DIR/js.json" 2>&1) || { echo "$out"; exit 1; }
    echo "$out"
    grep -qE '^RESULT .* acked_per_s=[1-9][0-9]*' <<<"$out" || { echo "no acknowledged clicks"; exit 1; }
    ;;
  cluster)
    command -v redis-cli >/dev/null || { echo "no redis-cli: skipped"; exit 77; }
    stack_start_redis_cluster
    stack_start_scheduler scheduler "{smoke}:" 2000
    stack_start_gateway gateway "{smoke}:" 2000
    URL="http://127.0.0.1:$GATEWAY_PORT"
    stack_wait_round "$URL"
    run cluster-smoke --arrivals burst --gateways "$URL" --gateway-pids "$(stack_pid gateway)" \
      --redis-pid "$CLUSTER_PRIMARY_PIDS" --redis "$CLUSTER_PRIMARY_ADDRS" \
      --redis-replica-pids "$CLUSTER_REPLICA_PIDS" --accounts 4 --account-prefix smoke \
      --server-kind "clickrace cluster"
    json=$STACK_LOG_DIR/cluster-smoke.json
    grep -q '"redis_primaries": *3' "$json" || { echo "not 3 primaries in the JSON"; exit 1; }
    (($(grep -c '"role": *"primary"' "$json") == 3 && $(grep -c '"role": *"replica"' "$json") == 3)) ||
      { echo "per-node CPU missing"; cat "$json"; exit 1; }
    grep -q '"redis_replicas"' "$json" || { echo "no replica CPU"; exit 1; }
    grep -q '"calls_per_click"' "$json" || { echo "no per-node commands"; exit 1; }
    # The table of scripts/bench --only cluster renders from it.
    # (Captured first: `report | grep -q` under pipefail fails whenever grep exits before the
    # report is written out and the writer gets SIGPIPE.)
    table=$("$LOADGEN" report --machine smoke "$json")
    grep -q 'ONE REDIS vs A REDIS CLUSTER' <<<"$table" || { echo "no cluster table"; exit 1; }
    stack_stop_all
    for pid in ${CLUSTER_PRIMARY_PIDS//,/ } ${CLUSTER_REPLICA_PIDS//,/ }; do
      ! stack_alive "$pid" || { echo "cluster node $pid still runs after stack_stop_all"; exit 1; }
    done
    ;;
  *) echo "unknown smoke '$what'"; exit 2 ;;
esac
echo "smoke $what: ok"
