#include "options.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>

#include "clickrace/bus/partitions.hpp"
#include "clickrace/core/log.hpp"
#include "clickrace/redis/cluster_client.hpp"
#include "clickrace/redis/cluster_config.hpp"
#include "clickrace/redis/options.hpp"

namespace clickrace::scheduler {
namespace {

std::optional<std::string> check_url(const std::string& url) {
  auto parsed = redis::parse_url(url);
  if (!parsed) return parsed.error().message;
  return std::nullopt;
}

std::optional<std::string> check_level(const std::string& level) {
  if (core::parse_log_level(level)) return std::nullopt;
  return std::string("expected trace, debug, info, warn, error or off");
}

std::optional<std::string> check_id(const std::string& id) {
  if (id.size() > 128) return std::string("at most 128 characters");
  for (char c : id) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 127) {
      return std::string("no spaces or control characters");
    }
  }
  return std::nullopt;
}

std::string default_id() {
  char host[256] = {0};
  if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') std::snprintf(host, 8, "host");
  std::random_device rd;
  char suffix[16];
  std::snprintf(suffix, sizeof suffix, "%06x", static_cast<unsigned>(rd() & 0xffffff));
  return std::string(host) + "-" + std::to_string(getpid()) + "-" + suffix;
}

}  // namespace

void register_options(core::OptionSet& set, Options& opts) {
  set.add_checked("CLICKRACE_REDIS_URL", &opts.redis_url,
                  "Redis URL redis://[[user]:password@]host[:port][/db]", check_url)
      .add("CLICKRACE_REDIS_CLUSTER", &opts.redis_cluster,
           "seed nodes host:port,... of a Redis Cluster (empty = CLICKRACE_REDIS_URL alone)")
      .add("CLICKRACE_REDIS_WAIT_REPLICAS", &opts.redis_wait_replicas,
           "on a cluster: replicas that must have a round's result before it is announced", 0, 16)
      .add("CLICKRACE_SCORE_PARTITIONS", &opts.score_partitions,
           "score partitions of a new schedule (default 1 on a single Redis, 12 on a cluster; "
           "an existing schedule keeps its own)",
           1, bus::kMaxPartitions)
      .add("CLICKRACE_KEY_PREFIX", &opts.key_prefix, "prefix of every Redis key and channel")
      .add("CLICKRACE_SCHEDULER_PORT", &opts.port,
           "admin HTTP port (/healthz /readyz /metrics /status); 0 picks a free one", 0, 65535)
      .add("CLICKRACE_ROUND_MS", &opts.round_ms,
           "round length in ms; a change applies from the next round boundary", 50, 86'400'000)
      .add("CLICKRACE_LEASE_MS", &opts.lease_ms,
           "leadership lease in ms: failover time, and how long a leader acts without renewing",
           300, 600'000)
      .add("CLICKRACE_LEADERBOARD_MS", &opts.leaderboard_ms,
           "how often the leader publishes the Leaderboard event, in ms", 50, 3'600'000)
      .add_checked("CLICKRACE_SCHEDULER_ID", &opts.scheduler_id,
                   "identity in the leadership lease (default: <hostname>-<pid>-<random>)",
                   check_id)
      .add_checked("CLICKRACE_LOG_LEVEL", &opts.log_level, "trace, debug, info, warn, error or off",
                   check_level)
      .add("CLICKRACE_ROUND_TTL_S", &opts.round_ttl_s,
           "seconds a closed round's scores and result are kept (the stream keeps history)", 60,
           365LL * 24 * 3600)
      .add("CLICKRACE_STREAM_MAXLEN", &opts.stream_maxlen,
           "approximate cap of the rounds stream (entries)", 100, 100'000'000)
      .add("CLICKRACE_BIND_ADDRESS", &opts.bind_address, "address the admin HTTP server binds");
}

std::optional<std::string> finish_options(Options& opts) {
  if (opts.key_prefix.size() > 200) return std::string("CLICKRACE_KEY_PREFIX: at most 200 bytes");
  if (opts.scheduler_id.empty()) opts.scheduler_id = default_id();
  opts.result_wait_replicas = opts.redis_cluster.empty() ? 0 : opts.redis_wait_replicas;
  if (opts.score_partitions == 0) opts.score_partitions = opts.redis_cluster.empty() ? 1 : 12;
  if (opts.score_partitions < 1 || opts.score_partitions > bus::kMaxPartitions) {
    return "CLICKRACE_SCORE_PARTITIONS: expected 1.." + std::to_string(bus::kMaxPartitions);
  }
  // On a cluster every key shares the prefix's hash tag (the gateways apply the same rule).
  auto prefix = redis::cluster_key_prefix(opts.key_prefix, !opts.redis_cluster.empty());
  if (!prefix) return prefix.error().message;
  opts.key_prefix = *prefix;
  if (!opts.redis_cluster.empty()) {
    auto seeds = redis::cluster::parse_seeds(opts.redis_cluster);
    if (!seeds) return "CLICKRACE_REDIS_CLUSTER: " + seeds.error().message;
  }
  return std::nullopt;
}

Options parse_options_or_exit(int argc, const char* const* argv) {
  Options opts;
  core::OptionSet set("round-scheduler",
                      "The clickrace round scheduler: the single owner of round timing, through a "
                      "lease in Redis.");
  register_options(set, opts);
  set.parse_or_exit(argc, argv);
  if (auto err = finish_options(opts)) {
    std::fprintf(stderr, "round-scheduler: %s\n", err->c_str());
    std::exit(2);
  }
  return opts;
}

}  // namespace clickrace::scheduler
