#pragma once
#include <array>
#include <memory>
#include <string>

#include "load_balancer.hpp"
#include "process.hpp"
#include "redis_server.hpp"

// The production topology on loopback, for fault tests: redis-server (AOF on), two
// round-schedulers sharing a lease, two hub-gateways on fixed free ports (so a killed one can
// come back on its port), and the project's nginx in front of them.
namespace clickrace::test {

inline constexpr int kRoundMs = 1000;
inline constexpr int kLeaseMs = 1000;
inline const std::string kPrefix = "faults:";
inline const std::string kSecret = "fault-suite-secret-0123456789abcdef0123456789";

class FaultTopology {
 public:
  FaultTopology();  // everything up and ready, or test failures
  ~FaultTopology();

  RedisServer& redis() { return redis_; }
  LoadBalancer& lb() { return *lb_; }

  // Gateways 0 and 1.
  Process& gateway(int i) { return *gateways_[i]; }
  int gateway_port(int i) const { return gateway_ports_[i]; }
  bool start_gateway(int i);  // (re)starts on its port; true once /readyz says 200
  bool gateway_ready(int i) const;

  // Schedulers 0 and 1, lease holders "sched-0" / "sched-1".
  Process& scheduler(int i) { return *schedulers_[i]; }
  // Index of the scheduler holding the lease, -1 when none (or Redis is down).
  int leader() const;

  // The last `lines` lines of every service's log, for failure messages.
  std::string logs_tail(std::size_t lines = 40);

  static long long wall_ms();

 private:
  void start_scheduler(int i);

  RedisServer redis_;
  std::array<int, 2> gateway_ports_{};
  std::array<std::unique_ptr<Process>, 2> gateways_;
  std::array<std::unique_ptr<Process>, 2> schedulers_;
  std::unique_ptr<LoadBalancer> lb_;
};

}  // namespace clickrace::test
