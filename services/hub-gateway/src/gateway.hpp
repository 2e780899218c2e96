#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include "accounts.hpp"
#include "broadcaster.hpp"
#include "click_batcher.hpp"
#include "clickrace/bus/keys.hpp"
#include "clickrace/core/token.hpp"
#include "clickrace/redis/cluster_client.hpp"
#include "clickrace/redis/subscriber.hpp"
#include "client_address.hpp"
#include "heartbeat.hpp"
#include "hub.hpp"
#include "metrics.hpp"
#include "options.hpp"
#include "player_sessions.hpp"
#include "rounds.hpp"
#include "score_partitions.hpp"
#include "token_secret.hpp"
#include "worker_pool.hpp"
#include "ws_server.hpp"

// The gateway process: wires Redis, the hub, the HTTP API and the WebSocket server onto one
// io_context. main() constructs it, calls start(), runs the loop, and calls shutdown() on SIGTERM.
namespace clickrace::gateway {

class Gateway final : public WsHandler {
 public:
  Gateway(asio::io_context& io, Options options);
  ~Gateway() override;

  // Connects to Redis, obtains the token secret (waiting for Redis if needed), then listens.
  // `on_listening` gets the bound port, or an Error (then the caller exits non-zero).
  void start(std::function<void(Result<int>)> on_listening);
  // Stops accepting, flushes clicks, waits briefly for in-flight ones, sends Close
  // {allowReconnect:true} + WebSocket close 1000 to every client, then calls `done`.
  void shutdown(std::function<void()> done);

  bool ready() const;
  const Metrics& metrics() const { return metrics_; }

  // WsHandler
  void on_http(const HttpRequest& request, std::shared_ptr<HttpReply> reply) override;
  std::optional<HttpResponse> on_upgrade(ConnId id, const HttpRequest& request) override;
  void on_open(ConnId id) override;
  void on_message(ConnId id, bool text, std::string_view payload) override;
  void on_close(ConnId id) override;

 private:
  void subscribe_events();
  void listen(std::function<void(Result<int>)> on_listening);
  void negotiate(const HttpRequest& request, std::shared_ptr<HttpReply> reply,
                 std::vector<std::pair<std::string, std::string>> cors);
  std::optional<std::optional<HttpResponse>> check_resume(const HttpRequest& request,
                                                          const std::string& token);
  void shutdown_wait(std::chrono::steady_clock::time_point deadline, int phase,
                     std::function<void()> done);

  asio::io_context& io_;
  Options options_;
  std::vector<std::string> origins_;
  bus::Keys keys_;
  Metrics metrics_;
  redis::ClusterClient redis_;
  redis::Subscriber subscriber_;
  TokenSecret secret_;
  TrustedProxies trusted_proxies_;
  std::unique_ptr<WorkerPool> pool_;
  std::unique_ptr<Accounts> accounts_;
  ScorePartitions partitions_;
  Rounds rounds_;
  std::string instance_;  // random per process: names this gateway's own channels
  Hub hub_;
  PlayerSessions sessions_;
  ClickBatcher batcher_;
  Broadcaster broadcaster_;
  Heartbeat heartbeat_;
  WsServer server_;
  asio::steady_timer timer_;
  bool shutting_down_ = false;
  std::shared_ptr<char> alive_ = std::make_shared<char>();
};

// The redis::Options for CLICKRACE_REDIS_URL and our timeouts.
Result<redis::Options> redis_options(const Options& options);
// One Redis (CLICKRACE_REDIS_URL) or a cluster (CLICKRACE_REDIS_CLUSTER) for the ClusterClient.
Result<redis::ClusterOptions> cluster_options(const Options& options);

}  // namespace clickrace::gateway
