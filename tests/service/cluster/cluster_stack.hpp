#pragma once
#include <array>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "load_balancer.hpp"
#include "process.hpp"
#include "redis_cluster.hpp"

// clickrace on a real Redis Cluster (3 primaries + 3 replicas): two round-schedulers sharing a
// lease, two hub-gateways, the project's nginx in front; everything on free loopback ports.
namespace clickrace::test {

inline constexpr int kClusterRoundMs = 1000;
// The global keys' hash tag; scores are split over S partitions with their own tags (the
// scheduler's default on a cluster: 12, over every primary).
inline const std::string kClusterPrefix = "{crtest}:";

class ClusterStack {
 public:
  // Everything up and ready, or test failures.
  // `gateway_env` is added to (or overrides) the gateways' settings.
  explicit ClusterStack(RedisCluster::Config config = {},
                        std::map<std::string, std::string> gateway_env = {});
  ~ClusterStack();

  RedisCluster& cluster() { return cluster_; }
  LoadBalancer& lb() { return *lb_; }
  Process& gateway(int i) { return *gateways_[i]; }
  int gateway_port(int i) const { return gateway_ports_[i]; }
  bool gateway_ready(int i) const;

  // The primary serving the slot of clickrace's keys (asked of the live nodes).
  int data_port();
  // Every player's clicks summed over every round's scores, in every partition.
  std::map<std::string, long long> stored_clicks();
  // The closed rounds' results in the stream, oldest first (JSON strings).
  std::vector<std::string> stream_results();

  std::string logs_tail(std::size_t lines = 40);

 private:
  void start_scheduler(int i);
  bool start_gateway(int i);

  RedisCluster cluster_;
  std::array<int, 2> gateway_ports_{};
  std::array<std::unique_ptr<Process>, 2> gateways_;
  std::array<std::unique_ptr<Process>, 2> schedulers_;
  std::unique_ptr<LoadBalancer> lb_;
  std::map<std::string, std::string> gateway_env_;
};

}  // namespace clickrace::test
