#include "clickrace/redis/cluster_config.hpp"

#include "clickrace/redis/cluster_slots.hpp"

namespace clickrace::redis {

using cluster::NodeAddress;

std::string render_cluster_metrics(const ClusterClient& client, const std::string& prefix) {
  std::string o;
  auto series = [&](const char* name, const char* type, const char* help) {
    o += "# HELP " + prefix + name + " " + help + "\n# TYPE " + prefix + name + " " + type + "\n";
  };
  auto nodes = client.nodes();
  auto per_node = [&](const char* name, const char* type, const char* help, auto value) {
    series(name, type, help);
    for (const auto& n : nodes) {
      o += prefix + name + "{node=\"" + n.address.str() + "\"} " + std::to_string(value(n)) + "\n";
    }
  };
  per_node("_redis_node_calls_total", "counter", "commands sent to the node (attempts)",
           [](const ClusterNodeStatus& n) { return n.counters.calls; });
  per_node("_redis_node_redirects_total", "counter", "MOVED/ASK answers from the node",
           [](const ClusterNodeStatus& n) { return n.counters.redirects; });
  per_node("_redis_node_failovers_total", "counter", "times the node was seen promoted to primary",
           [](const ClusterNodeStatus& n) { return n.counters.failovers; });
  per_node("_redis_node_not_replicated_total", "counter",
           "answers a WAIT on the node did not confirm in time",
           [](const ClusterNodeStatus& n) { return n.counters.not_replicated; });
  per_node("_redis_node_up", "gauge", "1 when the connection to the node is up",
           [](const ClusterNodeStatus& n) { return n.connected ? 1 : 0; });
  per_node("_redis_node_primary", "gauge", "1 when the node serves slots in the map",
           [](const ClusterNodeStatus& n) { return n.primary ? 1 : 0; });
  series("_redis_slot_map_refreshes_total", "counter", "slot maps installed");
  o += prefix + "_redis_slot_map_refreshes_total " + std::to_string(client.metrics().refreshes) +
       "\n";
  series("_redis_ready", "gauge", "1 when every slot is served and every primary reachable");
  o += prefix + "_redis_ready " + std::string(client.ready() ? "1" : "0") + "\n";
  return o;
}

Result<ClusterOptions> make_cluster_options(std::string_view seeds, const Options& node) {
  ClusterOptions o;
  o.node = node;
  if (seeds.empty()) {
    o.single_node = true;
    o.seeds.push_back(NodeAddress{node.host, node.port});
    return o;
  }
  if (node.db != 0) return make_error("redis cluster: a cluster has only database 0");
  auto parsed = cluster::parse_seeds(seeds);
  if (!parsed) return parsed.error();
  o.seeds = std::move(*parsed);
  return o;
}

Result<std::string> cluster_key_prefix(const std::string& prefix, bool cluster) {
  if (!cluster || cluster::hash_tag(prefix + "x") != prefix + "x") return prefix;
  if (prefix == "clickrace:") return std::string("{clickrace}:");
  return make_error("on a Redis Cluster the key prefix needs a hash tag, e.g. {" + prefix +
                    "} (every key of clickrace shares one slot)");
}

}  // namespace clickrace::redis
