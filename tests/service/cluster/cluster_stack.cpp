#include "cluster_stack.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "clickrace/redis/cluster_slots.hpp"
#include "ws_client.hpp"

namespace clickrace::test {

ClusterStack::ClusterStack(RedisCluster::Config config,
                           std::map<std::string, std::string> gateway_env)
    : cluster_(std::move(config)), gateway_env_(std::move(gateway_env)) {
  for (int i = 0; i < 2; ++i) start_scheduler(i);
  for (int i = 0; i < 2; ++i) {
    gateway_ports_[i] = free_port();
    EXPECT_TRUE(start_gateway(i)) << "gateway " << i << ":\n" << gateways_[i]->output();
  }
  lb_ = std::make_unique<LoadBalancer>(std::vector<int>{gateway_ports_[0], gateway_ports_[1]});
  EXPECT_TRUE(
      eventually([&] { return http_request(lb_->port(), "GET", "/readyz").status == 200; }));
}

ClusterStack::~ClusterStack() {
  lb_.reset();
  for (auto& g : gateways_) {
    if (g) g->stop(3s);
  }
  for (auto& s : schedulers_) {
    if (s) s->stop(3s);
  }
}

void ClusterStack::start_scheduler(int i) {
  std::string id = "sched-" + std::to_string(i);
  schedulers_[i] = std::make_unique<Process>(
      id, std::vector<std::string>{bin("round-scheduler")},
      std::map<std::string, std::string>{{"CLICKRACE_REDIS_CLUSTER", cluster_.seeds()},
                                         {"CLICKRACE_KEY_PREFIX", kClusterPrefix},
                                         {"CLICKRACE_SCHEDULER_PORT", "0"},
                                         {"CLICKRACE_BIND_ADDRESS", "127.0.0.1"},
                                         {"CLICKRACE_ROUND_MS", std::to_string(kClusterRoundMs)},
                                         {"CLICKRACE_LEASE_MS", "1000"},
                                         {"CLICKRACE_SCHEDULER_ID", id},
                                         {"CLICKRACE_LOG_LEVEL", "info"}});
  schedulers_[i]->start();
  EXPECT_GT(schedulers_[i]->wait_listening(), 0) << schedulers_[i]->output();
}

bool ClusterStack::start_gateway(int i) {
  if (gateways_[i]) gateways_[i]->kill();
  std::map<std::string, std::string> env{
      {"CLICKRACE_REDIS_CLUSTER", cluster_.seeds()},
      {"CLICKRACE_KEY_PREFIX", kClusterPrefix},
      {"CLICKRACE_GATEWAY_PORT", std::to_string(gateway_ports_[i])},
      {"CLICKRACE_BIND_ADDRESS", "127.0.0.1"},
      {"CLICKRACE_TOKEN_SECRET", "cluster-suite-secret-0123456789abcdef0123456789"},
      {"CLICKRACE_FAST_PASSWORD_HASH", "1"},
      {"CLICKRACE_LOGIN_ATTEMPTS_PER_MIN", "100000"},
      {"CLICKRACE_MAX_CLICKS_PER_S", "1000"},
      {"CLICKRACE_KEEPALIVE_MS", "1000"},
      {"CLICKRACE_REDIS_TIMEOUT_MS", "1000"},
      // A failover (node timeout 2 s + election) fits in the resend window.
      {"CLICKRACE_CLICK_RETRY_MS", "20000"},
      {"CLICKRACE_LOG_LEVEL", "info"}};
  for (const auto& [k, v] : gateway_env_) env[k] = v;
  gateways_[i] = std::make_unique<Process>("gateway-" + std::to_string(i),
                                           std::vector<std::string>{bin("hub-gateway")}, env);
  gateways_[i]->start();
  if (gateways_[i]->wait_listening() <= 0) return false;
  return eventually([&] { return gateway_ready(i); }, 20s);
}

bool ClusterStack::gateway_ready(int i) const {
  return http_request(gateway_ports_[i], "GET", "/readyz", "", {}, 1s).status == 200;
}

int ClusterStack::data_port() {
  return cluster_.primary_of_slot(redis::cluster::key_slot(kClusterPrefix));
}

std::map<std::string, long long> ClusterStack::stored_clicks() {
  // Scores live in the schedule's S partitions (docs/bus.md "Partitions"): the global prefix's
  // keys with S = 1, else "<prefix without braces>{p<k>.<j>}:" keys spread over the primaries.
  std::string bare = kClusterPrefix;
  bare.erase(std::remove(bare.begin(), bare.end(), '{'), bare.end());
  bare.erase(std::remove(bare.begin(), bare.end(), '}'), bare.end());
  std::map<std::string, long long> out;
  for (int port : cluster_.primary_ports()) {
    RedisSync r(port);
    for (const auto& pattern : {kClusterPrefix + "round:*:scores", bare + "{p*}:round:*:scores"}) {
      for (const auto& k : r.cmd({"KEYS", pattern}).elements) {
        auto scores = r.cmd({"ZRANGE", k.str, "0", "-1", "WITHSCORES"});
        for (std::size_t i = 0; i + 1 < scores.elements.size(); i += 2) {
          out[scores.elements[i].str] += std::stoll(scores.elements[i + 1].str);
        }
      }
    }
  }
  return out;
}

std::vector<std::string> ClusterStack::stream_results() {
  RedisSync r(data_port());
  std::vector<std::string> out;
  for (const auto& e : r.cmd({"XRANGE", kClusterPrefix + "rounds", "-", "+"}).elements) {
    if (e.elements.size() != 2) continue;
    const auto& fields = e.elements[1].elements;
    for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
      if (fields[i].str == "result") out.push_back(fields[i + 1].str);
    }
  }
  return out;
}

std::string ClusterStack::logs_tail(std::size_t lines) {
  std::ostringstream out;
  auto tail = [&](const std::string& name, Process* p) {
    if (p == nullptr) return;
    std::vector<std::string> all;
    std::istringstream in(p->output());
    for (std::string line; std::getline(in, line);) all.push_back(line);
    out << "---- " << name << " ----\n";
    for (std::size_t k = all.size() > lines ? all.size() - lines : 0; k < all.size(); ++k) {
      out << all[k] << '\n';
    }
  };
  for (int i = 0; i < 2; ++i) tail("gateway-" + std::to_string(i), gateways_[i].get());
  for (int i = 0; i < 2; ++i) tail("sched-" + std::to_string(i), schedulers_[i].get());
  return out.str();
}

}  // namespace clickrace::test
