#pragma once
#include <memory>
#include <string>

#include "clickrace/client/http_api.hpp"
#include "clickrace/client/hub_client.hpp"
#include "process.hpp"
#include "redis_server.hpp"

// A real topology for client tests: redis-server, one hub-gateway, one round-scheduler with
// short rounds, all on free ports, with a key prefix of their own.
namespace clickrace::test {

class Topology {
 public:
  explicit Topology(bool with_scheduler = true, int round_ms = 500);
  ~Topology();

  // (Re)starts the gateway; port 0 = a free one. Returns false if it did not become ready.
  bool start_gateway(int port = 0);
  // SIGTERM (graceful: Close with allowReconnect) and wait.
  void stop_gateway();
  Process& gateway() { return *gateway_; }
  int port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string hub_url() const { return base_url() + "/hub"; }

  // A fresh account logged in; fails the test on error.
  client::Session new_session();
  // Options for a hub client that logs in with `session`, with fast reconnect delays.
  client::HubClientOptions options(const client::Session& session) const;
  // A counter from the gateway's /metrics (-1 if missing).
  long long metric(const std::string& name);

 private:
  RedisServer redis_;
  std::string prefix_;
  int round_ms_;
  std::unique_ptr<Process> gateway_;
  std::unique_ptr<Process> scheduler_;
  int port_ = 0;
};

}  // namespace clickrace::test
