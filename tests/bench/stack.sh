# Process bookkeeping for the benchmark and its smoke test (sourced by scripts/bench and smoke.sh):
# a private redis-server, round-schedulers and hub-gateways on free 127.0.0.1 ports, every one
# started in the background with its log in $STACK_LOG_DIR and stopped by its own pid.
# Requires: STACK_BIN_DIR (binaries), STACK_LOG_DIR. Every wait is bounded.

STACK_NAMES=()
STACK_PIDS=()
STACK_READY_TIMEOUT_S=${STACK_READY_TIMEOUT_S:-30}
# A fixed token secret: tokens stay valid across gateway restarts within one run (bench only).
STACK_TOKEN_SECRET=${STACK_TOKEN_SECRET:-bench-only-token-secret-0123456789abcdef}

stack_say() { printf '%s\n' "$*" >&2; }
stack_die() { printf 'error: %s\n' "$*" >&2; exit 1; }
stack_alive() { kill -0 "$1" 2>/dev/null; }
stack_port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# stack_start NAME CMD...: background, own session, SIGTERM if this shell dies.
stack_start() {
  local name=$1
  shift
  : >"$STACK_LOG_DIR/$name.log"
  setsid setpriv --pdeathsig TERM -- "$@" >>"$STACK_LOG_DIR/$name.log" 2>&1 </dev/null &
  STACK_NAMES+=("$name")
  STACK_PIDS+=("$!")
}

stack_pid() {
  local i
  for i in "${!STACK_NAMES[@]}"; do
    [[ ${STACK_NAMES[i]} == "$1" ]] && { echo "${STACK_PIDS[i]}"; return 0; }
  done
  return 1
}

# stack_stop NAME: SIGTERM, SIGKILL after 10 s.
stack_stop() {
  local pid i deadline
  pid=$(stack_pid "$1") || return 0
  if stack_alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + 10))
    while stack_alive "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
    stack_alive "$pid" && kill -KILL "$pid" 2>/dev/null
  fi
  wait "$pid" 2>/dev/null || true
  for i in "${!STACK_NAMES[@]}"; do
    [[ ${STACK_NAMES[i]} == "$1" ]] && { unset 'STACK_NAMES[i]' 'STACK_PIDS[i]'; }
  done
  STACK_NAMES=("${STACK_NAMES[@]}")
  STACK_PIDS=("${STACK_PIDS[@]}")
}

# Reverse start order: gateways flush, then schedulers, redis last.
stack_stop_all() {
  local i
  for ((i = ${#STACK_NAMES[@]} - 1; i >= 0; i--)); do stack_stop "${STACK_NAMES[i]}"; done
}

# stack_wait_log NAME REGEX: until the log matches, the process exits, or the timeout.
stack_wait_log() {
  local name=$1 pattern=$2 pid deadline=$((SECONDS + STACK_READY_TIMEOUT_S))
  pid=$(stack_pid "$name") || stack_die "no process $name"
  until grep -qE "$pattern" "$STACK_LOG_DIR/$name.log" 2>/dev/null; do
    if ! stack_alive "$pid"; then
      tail -n 20 "$STACK_LOG_DIR/$name.log" >&2 || true
      stack_die "$name exited during start-up (log: $STACK_LOG_DIR/$name.log)"
    fi
    ((SECONDS < deadline)) || stack_die "$name not ready in ${STACK_READY_TIMEOUT_S}s ($STACK_LOG_DIR/$name.log)"
    sleep 0.1
  done
}

stack_listen_port() { grep -oE 'listening on [0-9]+' "$STACK_LOG_DIR/$1.log" | head -n1 | awk '{print $3}'; }

# Sets REDIS_PORT and REDIS_URL. Persistence off by default (the benchmark measures the click path);
# STACK_REDIS_AOF=everysec|always turns the append-only file on (the durability-cost scenario),
# written under $STACK_LOG_DIR/redis-data.
# Ports come from below the kernel's ephemeral range (32768+), where client sockets live; a port
# that turns out to be taken (bind fails) is retried with another, at most 10 times.
stack_start_redis() {
  local attempt pid
  for attempt in 1 2 3 4 5 6 7 8 9 10; do
    REDIS_PORT=$((20000 + RANDOM % 12000))
    stack_port_busy "$REDIS_PORT" && continue
    local persist=(--appendonly no)
    if [[ -n ${STACK_REDIS_AOF:-} && $STACK_REDIS_AOF != no ]]; then
      mkdir -p "$STACK_LOG_DIR/redis-data"
      rm -rf "$STACK_LOG_DIR/redis-data"/*
      persist=(--appendonly yes --appendfsync "$STACK_REDIS_AOF" --dir "$STACK_LOG_DIR/redis-data")
    fi
    stack_start redis redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' \
      "${persist[@]}" --daemonize no --maxclients 1000
    pid=$(stack_pid redis)
    local deadline=$((SECONDS + STACK_READY_TIMEOUT_S))
    until grep -q "Ready to accept connections" "$STACK_LOG_DIR/redis.log" 2>/dev/null; do
      stack_alive "$pid" || break
      ((SECONDS < deadline)) || stack_die "redis-server not ready in ${STACK_READY_TIMEOUT_S}s"
      sleep 0.05
    done
    if stack_alive "$pid"; then
      REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
      return 0
    fi
    stack_stop redis
  done
  stack_die "redis-server did not start (log: $STACK_LOG_DIR/redis.log)"
}

# stack_start_redis_cluster: a 6-node Redis Cluster (3 primaries, 1 replica each, joined with
# `redis-cli --cluster create … --cluster-replicas 1`) on 6 free consecutive 127.0.0.1 ports whose
# cluster-bus ports (+10000) are free too, all below the ephemeral range. Persistence as
# stack_start_redis (STACK_REDIS_AOF), data under $STACK_LOG_DIR/cluster/<port>. The nodes are
# stack processes named redis-c<port>, stopped by pid like the rest. Waits (bounded by
# STACK_CLUSTER_TIMEOUT_S) until every node says cluster_state:ok, every primary has its replica
# linked, and every node's CLUSTER SLOTS lists all 3 replicas (the services refuse click batches
# for a primary whose replica their slot map does not show). Sets:
#   STACK_REDIS_CLUSTER    seed list host:port,… (what stack_start_scheduler/gateway then pass as
#                          CLICKRACE_REDIS_CLUSTER; unset it to go back to one Redis)
#   REDIS_URL              redis://<first node>/0 (credentials/timeouts only on a cluster)
#   CLUSTER_PRIMARY_PIDS, CLUSTER_PRIMARY_ADDRS, CLUSTER_REPLICA_PIDS   comma lists, port order
stack_start_redis_cluster() {
  command -v redis-cli >/dev/null || stack_die "redis-cli is missing (scripts/install-deps)"
  local attempt base p i ok deadline role
  local timeout_s=${STACK_CLUSTER_TIMEOUT_S:-90}
  local persist=(--appendonly no)
  if [[ -n ${STACK_REDIS_AOF:-} && $STACK_REDIS_AOF != no ]]; then
    persist=(--appendonly yes --appendfsync "$STACK_REDIS_AOF")
  fi
  for attempt in 1 2 3 4 5 6 7 8 9 10; do
    base=$((20000 + RANDOM % 2700))  # bus ports base+10000… stay below 32768
    ok=1
    for ((p = base; p < base + 6; p++)); do
      if stack_port_busy "$p" || stack_port_busy $((p + 10000)); then ok=0; break; fi
    done
    ((ok)) || continue
    CLUSTER_PORTS=()
    for ((p = base; p < base + 6; p++)); do
      rm -rf "$STACK_LOG_DIR/cluster/$p"
      mkdir -p "$STACK_LOG_DIR/cluster/$p"
      stack_start "redis-c$p" redis-server --port "$p" --bind 127.0.0.1 --save '' \
        "${persist[@]}" --dir "$STACK_LOG_DIR/cluster/$p" --cluster-enabled yes \
        --cluster-config-file nodes.conf --cluster-node-timeout 5000 \
        --repl-diskless-sync-delay 0 --daemonize no --maxclients 1000
      CLUSTER_PORTS+=("$p")
    done
    deadline=$((SECONDS + STACK_READY_TIMEOUT_S))
    for p in "${CLUSTER_PORTS[@]}"; do
      until grep -q "Ready to accept connections" "$STACK_LOG_DIR/redis-c$p.log" 2>/dev/null; do
        stack_alive "$(stack_pid "redis-c$p")" && ((SECONDS < deadline)) || { ok=0; break; }
        sleep 0.05
      done
      ((ok)) || break
    done
    ((ok)) && break
    for p in "${CLUSTER_PORTS[@]}"; do stack_stop "redis-c$p"; done  # a port was taken: again
  done
  ((ok)) || stack_die "the cluster's redis-servers did not start (logs: $STACK_LOG_DIR/redis-c*.log)"
  local hosts=()
  for p in "${CLUSTER_PORTS[@]}"; do hosts+=("127.0.0.1:$p"); done
  timeout "$timeout_s" redis-cli --cluster create "${hosts[@]}" --cluster-replicas 1 --cluster-yes \
    >"$STACK_LOG_DIR/cluster-create.log" 2>&1 ||
    stack_die "redis-cli --cluster create failed ($STACK_LOG_DIR/cluster-create.log)"
  deadline=$((SECONDS + timeout_s))
  for p in "${CLUSTER_PORTS[@]}"; do
    until redis-cli -p "$p" cluster info 2>/dev/null | grep -q '^cluster_state:ok' &&
      (($(redis-cli -p "$p" cluster nodes 2>/dev/null | grep -cE '[ ,]slave ') == 3)) &&
      ! redis-cli -p "$p" cluster nodes 2>/dev/null | grep -qE 'fail|handshake|noaddr'; do
      ((SECONDS < deadline)) || stack_die "the cluster is not ok after ${timeout_s}s (node $p)"
      sleep 0.2
    done
  done
  CLUSTER_PRIMARY_PIDS="" CLUSTER_PRIMARY_ADDRS="" CLUSTER_REPLICA_PIDS=""
  for p in "${CLUSTER_PORTS[@]}"; do
    role=$(redis-cli -p "$p" role | head -n1)
    if [[ $role == master ]]; then
      until redis-cli -p "$p" info replication | grep -q '^connected_slaves:1'; do
        ((SECONDS < deadline)) || stack_die "primary $p has no linked replica after ${timeout_s}s"
        sleep 0.2
      done
      CLUSTER_PRIMARY_PIDS+="${CLUSTER_PRIMARY_PIDS:+,}$(stack_pid "redis-c$p")"
      CLUSTER_PRIMARY_ADDRS+="${CLUSTER_PRIMARY_ADDRS:+,}127.0.0.1:$p"
    else
      until redis-cli -p "$p" info replication | grep -q '^master_link_status:up'; do
        ((SECONDS < deadline)) || stack_die "replica $p not linked to its primary after ${timeout_s}s"
        sleep 0.2
      done
      CLUSTER_REPLICA_PIDS+="${CLUSTER_REPLICA_PIDS:+,}$(stack_pid "redis-c$p")"
    fi
  done
  [[ $CLUSTER_PRIMARY_PIDS == *,*,* && $CLUSTER_REPLICA_PIDS == *,*,* ]] ||
    stack_die "expected 3 primaries and 3 replicas, got primaries $CLUSTER_PRIMARY_PIDS replicas $CLUSTER_REPLICA_PIDS"
  # CLUSTER SLOTS (the services' slot map) lists a replica only once its node has heard the
  # replica's replication offset by gossip, some seconds after the link is up: until then a
  # gateway with CLICKRACE_REDIS_WAIT_REPLICAS=1 refuses click batches ("too few replicas").
  for p in "${CLUSTER_PORTS[@]}"; do
    until (($(redis-cli -p "$p" cluster slots 2>/dev/null | grep -c '^127\.0\.0\.1$') == 6)); do
      ((SECONDS < deadline)) || stack_die "CLUSTER SLOTS on $p does not list every replica after ${timeout_s}s"
      sleep 0.2
    done
  done
  STACK_REDIS_CLUSTER=$(IFS=,; echo "${hosts[*]}")
  REDIS_URL="redis://${hosts[0]}/0"
}

# stack_stop_redis_cluster: stops the cluster's nodes (by pid) and forgets it.
stack_stop_redis_cluster() {
  local p
  for p in "${CLUSTER_PORTS[@]}"; do stack_stop "redis-c$p"; done
  CLUSTER_PORTS=()
  unset STACK_REDIS_CLUSTER
}

# stack_start_scheduler NAME PREFIX ROUND_MS. On a cluster (STACK_REDIS_CLUSTER) the prefix needs
# a hash tag; STACK_SCORE_PARTITIONS, when set, is passed as CLICKRACE_SCORE_PARTITIONS (a
# scheduler that does not know it ignores it).
stack_start_scheduler() {
  local extra=()
  [[ -n ${STACK_SCORE_PARTITIONS:-} ]] && extra+=("CLICKRACE_SCORE_PARTITIONS=$STACK_SCORE_PARTITIONS")
  CLICKRACE_REDIS_URL=$REDIS_URL CLICKRACE_REDIS_CLUSTER=${STACK_REDIS_CLUSTER:-} \
    CLICKRACE_KEY_PREFIX=$2 CLICKRACE_ROUND_MS=$3 \
    CLICKRACE_SCHEDULER_PORT=0 CLICKRACE_BIND_ADDRESS=127.0.0.1 CLICKRACE_LOG_LEVEL=warn \
    stack_start "$1" env "${extra[@]}" "$STACK_BIN_DIR/round-scheduler"
  stack_wait_log "$1" "listening on|ready"
}

# stack_start_gateway NAME PREFIX ROUND_MS: sets GATEWAY_PORT. STACK_GATEWAY_BIN runs another
# hub-gateway binary (e.g. the one before a change, for a before/after in one session).
# Benchmark settings: no per-player click limit (the fleet-wide bucket is still consulted in
# click.lua, so its cost is measured), no cap on connections per account (one token serves many
# connections here: up to 34 per account in fan-out), no login limit, minimal argon2 cost
# (logins are set-up, not measured). On a cluster (STACK_REDIS_CLUSTER) it acknowledges a click
# batch once STACK_GATEWAY_WAIT_REPLICAS [1, the gateway's default] replicas have it.
stack_start_gateway() {
  CLICKRACE_REDIS_URL=$REDIS_URL CLICKRACE_REDIS_CLUSTER=${STACK_REDIS_CLUSTER:-} \
    CLICKRACE_REDIS_WAIT_REPLICAS=${STACK_GATEWAY_WAIT_REPLICAS:-1} \
    CLICKRACE_KEY_PREFIX=$2 CLICKRACE_ROUND_MS=$3 \
    CLICKRACE_GATEWAY_PORT=0 CLICKRACE_BIND_ADDRESS=127.0.0.1 CLICKRACE_LOG_LEVEL=warn \
    CLICKRACE_MAX_CLICKS_PER_S=1000000 CLICKRACE_LOGIN_ATTEMPTS_PER_MIN=1000000 \
    CLICKRACE_MAX_CONNECTIONS_PER_PLAYER=1000 \
    CLICKRACE_MAX_CONNECTIONS=${BENCH_GATEWAY_MAX_CONNECTIONS:-60000} \
    CLICKRACE_FAST_PASSWORD_HASH=${BENCH_FAST_PASSWORD_HASH:-1} \
    CLICKRACE_TOKEN_SECRET=$STACK_TOKEN_SECRET \
    stack_start "$1" "${STACK_GATEWAY_BIN:-$STACK_BIN_DIR/hub-gateway}"
  stack_wait_log "$1" "listening on [0-9]+"
  GATEWAY_PORT=$(stack_listen_port "$1")
  local deadline=$((SECONDS + STACK_READY_TIMEOUT_S))
  until curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$GATEWAY_PORT/readyz" 2>/dev/null; do
    ((SECONDS < deadline)) || stack_die "$1 not ready (/readyz) in ${STACK_READY_TIMEOUT_S}s"
    sleep 0.1
  done
}

# stack_wait_round URL: until GET /api/rounds/current answers (a scheduler wrote the schedule).
stack_wait_round() {
  local deadline=$((SECONDS + STACK_READY_TIMEOUT_S))
  until curl -fsS --max-time 2 "$1/api/rounds/current" 2>/dev/null | grep -q '"round"'; do
    ((SECONDS < deadline)) || stack_die "no round running after ${STACK_READY_TIMEOUT_S}s ($1)"
    sleep 0.2
  done
}

# stack_start_floor NAME: the I/O floor (tests/bench/floor); sets FLOOR_PORT.
stack_start_floor() {
  stack_start "$1" "$STACK_BIN_DIR/clickrace-floor" 0
  stack_wait_log "$1" "listening on [0-9]+"
  FLOOR_PORT=$(stack_listen_port "$1")
}

# stack_start_peer NAME DLL ROUND_MS: the ASP.NET Core SignalR peer (tests/bench/peer-aspnet),
# built to DLL; sets PEER_PORT_BOUND. Redis is the stack's; keys and channels carry "peer".
stack_start_peer() {
  PEER_REDIS=127.0.0.1:$REDIS_PORT PEER_PORT=0 PEER_ROUND_MS=$3 PEER_PBKDF2_ITERATIONS=1 \
    DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 \
    stack_start "$1" dotnet "$2"
  stack_wait_log "$1" "Now listening on: http://127.0.0.1:[0-9]+"
  PEER_PORT_BOUND=$(grep -oE 'Now listening on: http://127.0.0.1:[0-9]+' "$STACK_LOG_DIR/$1.log" |
    head -n1 | grep -oE '[0-9]+$')
}
