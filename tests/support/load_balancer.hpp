#pragma once
#include <memory>
#include <string>
#include <vector>

#include "process.hpp"

// The project's nginx load balancer for tests: rendered from services/load-balancer with its
// `render` script (exactly as scripts/play does), run unprivileged with its own prefix dir on a
// free loopback port, stopped by pid.
namespace clickrace::test {

class LoadBalancer {
 public:
  // `gateway_ports`: the upstreams, on 127.0.0.1. Throws when rendering or start-up fails.
  explicit LoadBalancer(const std::vector<int>& gateway_ports);
  ~LoadBalancer();  // SIGTERM (nginx's fast shutdown), then SIGKILL
  LoadBalancer(const LoadBalancer&) = delete;
  LoadBalancer& operator=(const LoadBalancer&) = delete;

  int port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // nginx's access log (one line per request, without query strings).
  std::string access_log() const;
  std::string error_log() const;
  Process& process() { return *proc_; }

 private:
  TempDir dir_;
  int port_;
  std::unique_ptr<Process> proc_;
};

}  // namespace clickrace::test
