#pragma once
#include <string>
#include <string_view>

#include "clickrace/core/result.hpp"
#include "clickrace/redis/cluster_client.hpp"
#include "clickrace/redis/options.hpp"

// How a service sets up its ClusterClient: options from its settings, the key prefix, metrics.
namespace clickrace::redis {

// Prometheus text of a client's per-node counters (calls, redirections, failovers seen, WAITs
// short, connected) and its refreshes, names starting with `prefix` (e.g. "clickrace_gateway").
std::string render_cluster_metrics(const ClusterClient& client, const std::string& prefix);

// The ClusterOptions of a service: `seeds` empty -> one plain Redis at `node`'s host/port
// (single_node); else the seed list "host:port,..." (CLICKRACE_REDIS_CLUSTER), every node
// reached with `node`'s credentials and timeouts.
Result<ClusterOptions> make_cluster_options(std::string_view seeds, const Options& node);

// The key prefix on a cluster: every key must carry one hash tag so each script touches one
// slot. A prefix with a tag is kept; the default "clickrace:" becomes "{clickrace}:"; any other
// prefix without a tag is an error (both services must agree on it). One Redis: unchanged.
Result<std::string> cluster_key_prefix(const std::string& prefix, bool cluster);

}  // namespace clickrace::redis
