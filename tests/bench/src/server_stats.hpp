#pragma once
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "http.hpp"

// What the server side spent, read from outside: /proc for CPU and memory, Redis INFO for
// command counts, the gateway's /metrics for batch counters.
namespace clickrace::bench {

// utime + stime of `pid` in microseconds; -1 if the process is gone.
std::int64_t process_cpu_us(pid_t pid);
// VmRSS of `pid` in KiB; -1 if unknown.
std::int64_t process_rss_kb(pid_t pid);

struct RedisCounters {
  bool ok = false;
  std::uint64_t calls_total = 0;    // every command
  std::uint64_t calls_scripts = 0;  // evalsha + eval (the click script)
  std::uint64_t usec_total = 0;     // time Redis spent inside commands
};
RedisCounters read_redis_counters(const Endpoint& redis);

// Prometheus text → name (with labels) → value, counters and gauges only.
std::map<std::string, double> read_metrics(const Endpoint& gateway);

// One snapshot of everything above, taken at the start and end of a measurement window.
struct ServerSnapshot {
  std::vector<std::int64_t> cpu_us;        // per pid, same order as the pids given
  RedisCounters redis;                     // summed over the nodes; ok only if every node answered
  std::vector<RedisCounters> redis_nodes;  // per node, same order as the endpoints given
  double click_batches = 0;                // summed over gateways
  double clicks_accepted = 0;
  std::map<std::string, double> metrics;  // every gateway metric, summed over gateways
  double metric(const std::string& name) const {
    auto it = metrics.find(name);
    return it == metrics.end() ? 0.0 : it->second;
  }
};
ServerSnapshot take_snapshot(const std::vector<pid_t>& pids, const std::vector<Endpoint>& redis,
                             const std::vector<Endpoint>& gateways);

}  // namespace clickrace::bench
