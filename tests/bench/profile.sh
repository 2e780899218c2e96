#!/usr/bin/env bash
# Profiles the hub-gateway under benchmark load (not part of CI). Usage:
#   tests/bench/profile.sh cpu [seconds]        perf record -g of the gateway during `clicks`
#   tests/bench/profile.sh memory [connections] heaptrack of the gateway holding idle connections
#   tests/bench/profile.sh fanout [connections] perf record -g of one gateway during `fanout`
#   tests/bench/profile.sh connect [connections] perf record -g of the gateway during `connections`
#   tests/bench/profile.sh openloop [rate] [conns] [arrivals] real clients (one record per frame,
#       open loop, default 10000/s over 200, burst): perf of the gateway and of Redis, then
#       syscalls per click from kernel tracepoints (perf stat) in a second window. STACK_GATEWAY_BIN profiles another gateway binary.
# Env: CLICKRACE_BUILD_DIR [build]; output in <build dir>/bench/profile/.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
mode=${1:-cpu}
BUILD_DIR=${CLICKRACE_BUILD_DIR:-build}
[[ "$BUILD_DIR" = /* ]] || BUILD_DIR=$ROOT/$BUILD_DIR
OUT=$BUILD_DIR/bench/profile
mkdir -p "$OUT"
STACK_BIN_DIR=$BUILD_DIR/bin
STACK_LOG_DIR=$OUT/logs
mkdir -p "$STACK_LOG_DIR"
# shellcheck source=stack.sh
source "$ROOT/tests/bench/stack.sh"
trap 'stack_stop_all' EXIT
LOADGEN=$BUILD_DIR/bin/clickrace-loadgen
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

stack_start_redis
case "$mode" in
  cpu)
    secs=${2:-8}
    stack_start_scheduler sched "prof:" 10000
    stack_start_gateway gw "prof:" 10000
    url="http://127.0.0.1:$GATEWAY_PORT"
    stack_wait_round "$url"
    "$LOADGEN" clicks --gateways "$url" --connections 200 --inflight 16 --duration $((secs + 3)) \
      --warmup 1 --accounts 64 --account-prefix prof >"$OUT/loadgen.out" 2>&1 &
    lg=$!
    sleep 2
    perf record -F 499 -g -o "$OUT/gateway.perf.data" -p "$(stack_pid gw)" -- sleep "$secs" \
      2>"$OUT/perf-record.log" || true
    wait "$lg" || true
    perf report -i "$OUT/gateway.perf.data" --stdio --no-children --percent-limit 1.5 \
      --sort symbol -g none 2>/dev/null | grep -v '^$' | head -120 >"$OUT/gateway-cpu.txt"
    perf report -i "$OUT/gateway.perf.data" --stdio --children --percent-limit 4 \
      --sort symbol -g none 2>/dev/null | grep -v '^$' | head -80 >"$OUT/gateway-cpu-children.txt"
    grep RESULT "$OUT/loadgen.out" || true
    echo "profile: $OUT/gateway-cpu.txt, $OUT/gateway-cpu-children.txt"
    ;;
  memory)
    n=${2:-3000}
    rm -f "$OUT"/gateway.heaptrack*
    stack_start_scheduler sched "profm:" 10000
    CLICKRACE_REDIS_URL=$REDIS_URL CLICKRACE_KEY_PREFIX="profm:" CLICKRACE_GATEWAY_PORT=0 \
      CLICKRACE_BIND_ADDRESS=127.0.0.1 CLICKRACE_LOG_LEVEL=warn CLICKRACE_FAST_PASSWORD_HASH=1 \
      CLICKRACE_LOGIN_ATTEMPTS_PER_MIN=1000000 CLICKRACE_TOKEN_SECRET=$STACK_TOKEN_SECRET \
      stack_start gw heaptrack -o "$OUT/gateway.heaptrack" "$STACK_BIN_DIR/hub-gateway"
    stack_wait_log gw "listening on [0-9]+"
    url="http://127.0.0.1:$(stack_listen_port gw)"
    stack_wait_round "$url"
    # heaptrack is a launcher script: the gateway is its child. Measure and stop the child itself.
    gwpid=$(pgrep -P "$(stack_pid gw)" -x hub-gateway | head -n1)
    "$LOADGEN" connections --gateways "$url" --connections "$n" --accounts 100 \
      --account-prefix profm --hold 2 ${gwpid:+--gateway-pids "$gwpid"} ${PROFILE_LOADGEN_ARGS:-} \
      >"$OUT/loadgen.out" 2>&1 || true
    [[ -n "$gwpid" ]] && kill -TERM "$gwpid" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$(stack_pid gw)" 2>/dev/null || break; sleep 0.1; done
    stack_stop gw
    f=$(ls -t "$OUT"/gateway.heaptrack* 2>/dev/null | head -n1)
    heaptrack_print -f "$f" --print-peaks 1 --print-allocators 0 --print-leaks 0 \
      --print-temporary 0 --peak-limit 15 2>/dev/null | head -150 >"$OUT/gateway-memory.txt"
    grep RESULT "$OUT/loadgen.out" || true
    echo "profile: $OUT/gateway-memory.txt"
    ;;
  fanout)
    n=${2:-10000}
    stack_start_scheduler sched "proff:" 3000
    stack_start_gateway gw "proff:" 3000
    url="http://127.0.0.1:$GATEWAY_PORT"
    stack_wait_round "$url"
    "$LOADGEN" fanout --gateways "$url" --connections "$n" --rounds 3 --accounts 300 \
      --account-prefix proff --threads "${PROFILE_LOADGEN_THREADS:-1}" \
      --gateway-pids "$(stack_pid gw)" >"$OUT/loadgen.out" 2>&1 &
    lg=$!
    # Profile the broadcasts only, not the connection ramp.
    for _ in $(seq 600); do grep -q ' open in ' "$OUT/loadgen.out" && break; sleep 0.1; done
    perf record -F 999 -g -o "$OUT/fanout.perf.data" -p "$(stack_pid gw)" -- sleep 10 \
      2>"$OUT/perf-record.log" || true
    wait "$lg" || true
    perf report -i "$OUT/fanout.perf.data" --stdio --no-children --percent-limit 1.5 \
      --sort symbol -g none 2>/dev/null | grep -v '^$' | head -120 >"$OUT/fanout-cpu.txt"
    grep RESULT "$OUT/loadgen.out" || true
    echo "profile: $OUT/fanout-cpu.txt"
    ;;
  connect)
    n=${2:-10000}
    stack_start_scheduler sched "profc:" 10000
    stack_start_gateway gw "profc:" 10000
    url="http://127.0.0.1:$GATEWAY_PORT"
    stack_wait_round "$url"
    perf record -F 999 -g -o "$OUT/connect.perf.data" -p "$(stack_pid gw)" \
      2>"$OUT/perf-record.log" &
    perf=$!
    "$LOADGEN" connections --gateways "$url" --connections "$n" --accounts 300 \
      --account-prefix profc --hold 0 >"$OUT/loadgen.out" 2>&1 || true
    kill -INT "$perf" 2>/dev/null
    wait "$perf" || true
    perf report -i "$OUT/connect.perf.data" --stdio --no-children --percent-limit 1 \
      --sort symbol -g none 2>/dev/null | grep -v '^$' | head -120 >"$OUT/connect-cpu.txt"
    grep RESULT "$OUT/loadgen.out" || true
    echo "profile: $OUT/connect-cpu.txt"
    ;;
  openloop)
    rate=${2:-10000} conns=${3:-200} arr=${4:-burst} secs=${PROFILE_SECONDS:-6}
    stack_start_scheduler sched "profo:" 10000
    stack_start_gateway gw "profo:" 10000
    url="http://127.0.0.1:$GATEWAY_PORT"
    stack_wait_round "$url"
    window() {  # window SECONDS: open-loop load for SECONDS after a 2 s ramp, in the background
      "$LOADGEN" openloop --gateways "$url" --connections "$conns" --click-rate "$rate" \
        --arrivals "$arr" --duration "$1" --warmup 2 --account-prefix profo \
        --gateway-pids "$(stack_pid gw)" --redis-pid "$(stack_pid redis)" \
        --redis "127.0.0.1:$REDIS_PORT" >>"$OUT/loadgen.out" 2>&1 &
    }
    metric() { curl -fsS "$url/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
    : >"$OUT/loadgen.out"
    window $((secs + 2))
    lg=$!
    for _ in $(seq 600); do grep -q ' open in ' "$OUT/loadgen.out" && break; sleep 0.1; done
    sleep 3
    perf record -F 999 -g -o "$OUT/openloop-gw.perf.data" -p "$(stack_pid gw)" -- sleep "$secs" \
      2>"$OUT/perf-record.log" &
    perf_gw=$!
    perf record -F 999 -g -o "$OUT/openloop-redis.perf.data" -p "$(stack_pid redis)" -- sleep "$secs" \
      2>>"$OUT/perf-record.log" || true
    wait "$lg" || true
    wait "$perf_gw" || true  # not a bare `wait`: the stack's servers are this shell's jobs too
    for who in gw redis; do
      perf report -i "$OUT/openloop-$who.perf.data" --stdio --no-children --percent-limit 1 \
        --sort dso,symbol -g none 2>/dev/null | grep -v '^$' | head -120 >"$OUT/openloop-$who-cpu.txt"
      perf report -i "$OUT/openloop-$who.perf.data" --stdio --no-children --sort dso -g none \
        2>/dev/null | grep -v '^$' | head -30 >"$OUT/openloop-$who-dso.txt"
    done
    # Syscalls per click: counted by kernel tracepoints (perf stat) over a second window, divided
    # by the clicks the gateway took in it. Not strace: it slows the gateway so much that the
    # clicks pile up and each syscall finds several (under strace -c: 0.25 recvfrom per click).
    window $((secs + 2))
    lg=$!
    sleep 4
    c0=$(metric clickrace_gateway_clicks_accepted_total)
    ev=()
    for sc in recvfrom sendmsg sendto writev write read epoll_wait epoll_ctl; do
      ev+=(-e "syscalls:sys_enter_$sc")
    done
    perf stat "${ev[@]}" -e syscalls:sys_exit_recvfrom --filter 'ret == -11' -p "$(stack_pid gw)" \
      -o "$OUT/openloop-syscalls.txt" -- sleep "$secs" || true
    c1=$(metric clickrace_gateway_clicks_accepted_total)
    wait "$lg" || true
    echo "clicks accepted in the window: $((${c1%.*} - ${c0%.*})) (sys_exit_recvfrom counts EAGAIN only)" \
      >>"$OUT/openloop-syscalls.txt"
    grep RESULT "$OUT/loadgen.out" || true
    echo "profile: $OUT/openloop-{gw,redis}-{cpu,dso}.txt, $OUT/openloop-syscalls.txt"
    ;;
  *) echo "usage: profile.sh cpu|memory|fanout|connect|openloop [n]" >&2; exit 2 ;;
esac
