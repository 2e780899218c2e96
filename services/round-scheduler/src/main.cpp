// round-scheduler: wiring only. Options -> Redis client + Scheduler on one io_context thread,
// the admin HTTP server on its own thread, SIGTERM/SIGINT -> release the lease and exit 0.
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <csignal>
#include <cstdio>

#include "admin_server.hpp"
#include "clickrace/core/log.hpp"
#include "clickrace/redis/cluster_client.hpp"
#include "clickrace/redis/cluster_config.hpp"
#include "context.hpp"
#include "options.hpp"
#include "scheduler.hpp"

using namespace clickrace;

int main(int argc, char** argv) {
  scheduler::Options opts = scheduler::parse_options_or_exit(argc, argv);
  core::set_log_component("round-scheduler");
  core::set_log_level(*core::parse_log_level(opts.log_level));

  redis::Options ropts;
  // A command must not outlive a lease renewal interval; the connection is judged hung sooner
  // than a lease so a standby-to-leader switch is not held up by a dead socket.
  ropts.command_timeout = std::chrono::milliseconds(std::max<int64_t>(100, opts.lease_ms / 3));
  ropts.connect_timeout = std::chrono::milliseconds(std::max<int64_t>(200, opts.lease_ms / 2));
  ropts.unhealthy_after = std::chrono::milliseconds(std::max<int64_t>(300, opts.lease_ms / 2));
  ropts.backoff_max = std::chrono::milliseconds(std::max<int64_t>(200, opts.lease_ms / 3));
  auto parsed = redis::parse_url(opts.redis_url, ropts);
  if (!parsed) {  // already validated by the options; kept for safety
    std::fprintf(stderr, "round-scheduler: %s\n", parsed.error().message.c_str());
    return 2;
  }

  auto cluster = redis::make_cluster_options(opts.redis_cluster, *parsed);
  if (!cluster) {
    std::fprintf(stderr, "round-scheduler: %s\n", cluster.error().message.c_str());
    return 2;
  }

  asio::io_context io;
  redis::ClusterClient client(io, *cluster);
  scheduler::Metrics metrics;
  scheduler::StatusBoard status;
  scheduler::Context ctx{io, client, opts, metrics, status, bus::Keys(opts.key_prefix), {}, {}};
  scheduler::Scheduler sched(ctx);

  scheduler::AdminServer admin(status, metrics, opts.lease_ms, scheduler::mono_now_ms);
  auto port = admin.start(opts.bind_address, opts.port);
  if (!port) {
    std::fprintf(stderr, "round-scheduler: %s\n", port.error().message.c_str());
    return 1;
  }

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const asio::error_code& ec, int sig) {
    if (ec) return;
    CR_LOG(info) << "signal " << sig << ": stopping";
    sched.stop([&] {
      client.close();
      io.stop();
    });
  });

  client.start();
  sched.start();
  std::printf("listening on %d\n", *port);
  std::fflush(stdout);
  io.run();
  admin.stop();
  CR_LOG(info) << "stopped";
  return 0;
}
