#include "load_balancer.hpp"

#include <sys/wait.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "ws_client.hpp"

namespace clickrace::test {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

LoadBalancer::LoadBalancer(const std::vector<int>& gateway_ports) : port_(free_port()) {
  std::string gateways;
  for (int p : gateway_ports) gateways += "127.0.0.1:" + std::to_string(p) + " ";
  const std::string source = CLICKRACE_SOURCE_DIR;
  Process render("render", {source + "/services/load-balancer/render", dir_.path()},
                 {{"CLICKRACE_LB_LISTEN", "127.0.0.1:" + std::to_string(port_)},
                  {"CLICKRACE_LB_GATEWAYS", gateways}});
  render.start();
  auto status = render.wait_exit(20s);
  if (!status || !WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
    throw std::runtime_error("load balancer: render failed: " + render.output());
  }
  proc_ = std::make_unique<Process>(
      "nginx", std::vector<std::string>{"nginx", "-p", dir_.path(), "-e",
                                        dir_.path() + "/logs/nginx-error.log", "-c",
                                        dir_.path() + "/nginx.conf"});
  proc_->start();
  // Up = it answers HTTP (any status: the gateways may not be running yet).
  bool up = eventually(
      [&] { return http_request(port_, "GET", "/healthz", "", {}, 1s).status != 0; }, 10s);
  if (!up) throw std::runtime_error("nginx did not start: " + proc_->output() + error_log());
}

LoadBalancer::~LoadBalancer() {
  if (proc_) proc_->stop(5s);
}

std::string LoadBalancer::access_log() const {
  return slurp(dir_.path() + "/logs/nginx-access.log");
}
std::string LoadBalancer::error_log() const { return slurp(dir_.path() + "/logs/nginx-error.log"); }

}  // namespace clickrace::test
