#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "clickrace/core/config.hpp"

namespace clickrace::scheduler {

// Every setting of the round scheduler. Each has a default here, an environment variable and a
// flag (CLICKRACE_ROUND_MS -> --round-ms); `round-scheduler --help` lists them.
struct Options {
  // Redis holding the schedule, the lease, the rounds and the events channel.
  std::string redis_url = "redis://127.0.0.1:6379/0";
  // Seed nodes "host:port,..." of a Redis Cluster; empty = the one Redis of redis_url (whose
  // credentials and timeouts the cluster nodes use too).
  std::string redis_cluster;
  // On a cluster: replicas that must have a round's result before it is announced (WAIT).
  int redis_wait_replicas = 1;
  // Score partitions S of a schedule this scheduler creates (1..bus::kMaxPartitions). 0 here
  // means the default: 1 on a single Redis, 12 on a cluster. An existing schedule keeps its S.
  int score_partitions = 0;
  // Derived by finish_options(): redis_wait_replicas on a cluster, 0 on a single Redis (whose
  // durability is its own fsync).
  int result_wait_replicas = 0;
  // Prefix of every key and channel; lets several deployments (or tests) share one Redis.
  std::string key_prefix = "clickrace:";
  // Admin HTTP port (/healthz /readyz /metrics /status); 0 picks a free port and prints it.
  int port = 8081;
  // Round length. A change applies from the next round boundary, never mid-round.
  int64_t round_ms = 30000;
  // Leadership lease. A standby takes over within one lease after the leader dies; a leader that
  // could not renew for this long stops acting. Renewed every lease_ms / 3.
  int64_t lease_ms = 3000;
  // How often the leader publishes the Leaderboard event.
  int64_t leaderboard_ms = 1000;
  // Identity in the lease; must differ between schedulers. Empty: "<hostname>-<pid>-<random>".
  std::string scheduler_id;
  // trace, debug, info, warn, error or off.
  std::string log_level = "info";
  // Expiry of a closed round's scores and result (the stream keeps history).
  int64_t round_ttl_s = 7 * 24 * 3600;
  // Cap of the `rounds` stream (approximate, MAXLEN ~).
  int64_t stream_maxlen = 10000;
  // Address of the admin HTTP server (same setting as the gateway's).
  std::string bind_address = "0.0.0.0";
};

// Registers every option of `opts` on `set` (defaults are the values already in `opts`).
void register_options(core::OptionSet& set, Options& opts);

// Checks relations between options (each one alone is range-checked by the OptionSet) and fills
// derived defaults (scheduler_id). Returns an error text fit to print.
std::optional<std::string> finish_options(Options& opts);

// Parses the environment and the command line; --help exits 0, a bad value exits 2.
Options parse_options_or_exit(int argc, const char* const* argv);

}  // namespace clickrace::scheduler
