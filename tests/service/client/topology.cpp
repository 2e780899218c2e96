#include "topology.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <sstream>

namespace clickrace::test {
namespace {

std::string unique_prefix() {
  static std::atomic<int> n{0};
  std::random_device rd;
  return "clienttest" + std::to_string(rd() % 100000) + "-" + std::to_string(n++) + ":";
}

}  // namespace

Topology::Topology(bool with_scheduler, int round_ms)
    : prefix_(unique_prefix()), round_ms_(round_ms) {
  if (with_scheduler) {
    scheduler_ = std::make_unique<Process>(
        "round-scheduler", std::vector<std::string>{bin("round-scheduler")},
        std::map<std::string, std::string>{{"CLICKRACE_REDIS_URL", redis_.url()},
                                           {"CLICKRACE_KEY_PREFIX", prefix_},
                                           {"CLICKRACE_SCHEDULER_PORT", "0"},
                                           {"CLICKRACE_ROUND_MS", std::to_string(round_ms_)}});
    scheduler_->start();
    EXPECT_GT(scheduler_->wait_listening(), 0) << scheduler_->output();
  }
  EXPECT_TRUE(start_gateway(0));
}

Topology::~Topology() {
  if (gateway_) gateway_->stop();
  if (scheduler_) scheduler_->stop();
}

bool Topology::start_gateway(int port) {
  gateway_ = std::make_unique<Process>(
      "hub-gateway", std::vector<std::string>{bin("hub-gateway")},
      std::map<std::string, std::string>{{"CLICKRACE_REDIS_URL", redis_.url()},
                                         {"CLICKRACE_KEY_PREFIX", prefix_},
                                         {"CLICKRACE_GATEWAY_PORT", std::to_string(port)},
                                         {"CLICKRACE_MAX_CLICKS_PER_S", "1000"},
                                         {"CLICKRACE_LOGIN_ATTEMPTS_PER_MIN", "100000"}});
  gateway_->start();
  int p = gateway_->wait_listening();
  if (p <= 0) {
    ADD_FAILURE() << "gateway did not start:\n" << gateway_->output();
    return false;
  }
  port_ = p;
  // Ready = Redis reachable and subscribed; clicks and events need both.
  client::AccountApi api(base_url());
  return eventually([&] { return api.request("GET", "/readyz", "").status == 200; });
}

void Topology::stop_gateway() {
  if (gateway_) gateway_->stop();
}

client::Session Topology::new_session() {
  static std::atomic<int> n{0};
  std::random_device rd;
  std::string name = "p" + std::to_string(rd() % 1000000) + "_" + std::to_string(n++);
  client::AccountApi api(base_url());
  auto s = api.login_or_register(name, "correct horse battery");
  EXPECT_TRUE(s.ok()) << (s ? "" : s.error().message);
  return s ? *s : client::Session{};
}

client::HubClientOptions Topology::options(const client::Session& session) const {
  client::HubClientOptions o;
  o.url = hub_url();
  std::string token = session.token;
  o.access_token_factory = [token] { return token; };
  using std::chrono::milliseconds;
  o.reconnect_delays = {milliseconds(0),    milliseconds(200),  milliseconds(500),
                        milliseconds(1000), milliseconds(1000), milliseconds(1000),
                        milliseconds(2000), milliseconds(2000)};
  return o;
}

long long Topology::metric(const std::string& name) {
  client::AccountApi api(base_url());
  auto reply = api.request("GET", "/metrics", "");
  std::istringstream in(reply.body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name + " ", 0) == 0) return std::stoll(line.substr(name.size() + 1));
  }
  return -1;
}

}  // namespace clickrace::test
