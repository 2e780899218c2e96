// hub-gateway: the clickrace SignalR gateway. Wiring only; everything else is hub_gateway_lib.
#include <unistd.h>
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <cstdio>
#include <exception>
#include <filesystem>

#include "clickrace/core/config.hpp"
#include "clickrace/core/log.hpp"
#include "fd_limits.hpp"
#include "gateway.hpp"
#include "options.hpp"

namespace {
std::string default_web_dir(const char* argv0) {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) exe = std::filesystem::absolute(argv0, ec);
  return (exe.parent_path().parent_path() / "web").string();
}
}  // namespace

int main(int argc, char** argv) {
  using namespace clickrace;
  core::set_log_component("hub-gateway");
  gateway::Options options;
  core::OptionSet set("hub-gateway", "The clickrace SignalR hub gateway (HTTP API + /hub).");
  gateway::register_options(set, options);
  set.parse_or_exit(argc, argv);
  core::set_log_level(*core::parse_log_level(options.log_level));
  if (options.web_dir.empty()) options.web_dir = default_web_dir(argv[0]);
  // Before anything opens a socket: the open-file budget decides how many clients fit.
  auto budget = gateway::fit_fd_budget(gateway::raise_nofile_limit(), options.max_connections);
  if (budget.clamped) {
    CR_LOG(warn) << "open-file limit " << budget.nofile << " does not fit "
                 << options.max_connections << " connections: serving at most "
                 << budget.max_connections << " (raise ulimit -n / LimitNOFILE)";
    options.max_connections = budget.max_connections;
  }
  if (options.fast_password_hash) {
    CR_LOG(warn) << "fast password hashing is ON (tests only)";
  }

  try {
    asio::io_context io(1);
    gateway::Gateway gw(io, options);
    int exit_code = 0;
    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const asio::error_code& ec, int) {
      if (ec) return;
      gw.shutdown([&] { io.stop(); });
    });
    gw.start([&](Result<int> port) {
      if (!port) {
        CR_LOG(error) << "cannot start: " << port.error().message;
        exit_code = 1;
        io.stop();
        return;
      }
      CR_LOG(info) << "gateway ready, port " << *port;
      std::printf("listening on %d\n", *port);
      std::fflush(stdout);
    });
    io.run();
    return exit_code;
  } catch (const std::exception& e) {
    CR_LOG(error) << "fatal: " << e.what();
    return 1;
  }
}
