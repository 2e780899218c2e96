#include "fault_topology.hpp"

#include <gtest/gtest.h>

#include <chrono>

#include "ws_client.hpp"

namespace clickrace::test {

FaultTopology::FaultTopology() {
  for (int i = 0; i < 2; ++i) start_scheduler(i);
  for (int i = 0; i < 2; ++i) {
    gateway_ports_[i] = free_port();
    EXPECT_TRUE(start_gateway(i)) << "gateway " << i << ":\n" << gateways_[i]->output();
  }
  lb_ = std::make_unique<LoadBalancer>(std::vector<int>{gateway_ports_[0], gateway_ports_[1]});
  EXPECT_TRUE(
      eventually([&] { return http_request(lb_->port(), "GET", "/readyz").status == 200; }));
}

FaultTopology::~FaultTopology() {
  lb_.reset();
  for (auto& g : gateways_) {
    if (g) g->stop(3s);
  }
  for (auto& s : schedulers_) {
    if (s) s->stop(3s);
  }
}

void FaultTopology::start_scheduler(int i) {
  std::string id = "sched-" + std::to_string(i);
  schedulers_[i] = std::make_unique<Process>(
      id, std::vector<std::string>{bin("round-scheduler")},
      std::map<std::string, std::string>{{"CLICKRACE_REDIS_URL", redis_.url()},
                                         {"CLICKRACE_KEY_PREFIX", kPrefix},
                                         {"CLICKRACE_SCHEDULER_PORT", "0"},
                                         {"CLICKRACE_BIND_ADDRESS", "127.0.0.1"},
                                         {"CLICKRACE_ROUND_MS", std::to_string(kRoundMs)},
                                         {"CLICKRACE_LEASE_MS", std::to_string(kLeaseMs)},
                                         {"CLICKRACE_SCHEDULER_ID", id},
                                         {"CLICKRACE_LOG_LEVEL", "info"}});
  schedulers_[i]->start();
  EXPECT_GT(schedulers_[i]->wait_listening(), 0) << schedulers_[i]->output();
}

bool FaultTopology::start_gateway(int i) {
  if (gateways_[i]) gateways_[i]->kill();
  gateways_[i] = std::make_unique<Process>(
      "gateway-" + std::to_string(i), std::vector<std::string>{bin("hub-gateway")},
      std::map<std::string, std::string>{
          {"CLICKRACE_REDIS_URL", redis_.url()},
          {"CLICKRACE_KEY_PREFIX", kPrefix},
          {"CLICKRACE_GATEWAY_PORT", std::to_string(gateway_ports_[i])},
          {"CLICKRACE_BIND_ADDRESS", "127.0.0.1"},
          {"CLICKRACE_TOKEN_SECRET", kSecret},
          {"CLICKRACE_FAST_PASSWORD_HASH", "1"},
          {"CLICKRACE_LOGIN_ATTEMPTS_PER_MIN", "100000"},
          // The load clicks 5/s per client: the limit must never be what refuses a click.
          {"CLICKRACE_MAX_CLICKS_PER_S", "1000"},
          // Pings every second when idle, so clients can use a short server timeout.
          {"CLICKRACE_KEEPALIVE_MS", "1000"},
          {"CLICKRACE_REDIS_TIMEOUT_MS", "500"},
          {"CLICKRACE_LOG_LEVEL", "info"}});
  gateways_[i]->start();
  if (gateways_[i]->wait_listening() <= 0) return false;
  return eventually([&] { return gateway_ready(i); });
}

bool FaultTopology::gateway_ready(int i) const {
  return http_request(gateway_ports_[i], "GET", "/readyz", "", {}, 1s).status == 200;
}

int FaultTopology::leader() const {
  RedisSync r(redis_.port());
  if (!r.ok()) return -1;
  auto holder = r.cmd({"GET", kPrefix + "scheduler:leader"});
  if (holder.str == "sched-0") return 0;
  if (holder.str == "sched-1") return 1;
  return -1;
}

std::string FaultTopology::logs_tail(std::size_t lines) {
  std::string out;
  auto tail = [&](const std::string& name, const std::string& text) {
    std::size_t pos = text.size();
    for (std::size_t n = 0; n <= lines && pos != std::string::npos && pos > 0; ++n) {
      pos = text.rfind('\n', pos - 1);
    }
    out += "---- " + name + " ----\n" + (pos == std::string::npos ? text : text.substr(pos + 1));
  };
  for (int i = 0; i < 2; ++i) {
    if (gateways_[i]) tail("gateway-" + std::to_string(i), gateways_[i]->output());
    if (schedulers_[i]) tail("sched-" + std::to_string(i), schedulers_[i]->output());
  }
  return out;
}

long long FaultTopology::wall_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace clickrace::test
