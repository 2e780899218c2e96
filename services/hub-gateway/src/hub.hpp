#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include "click_batcher.hpp"
#include "connection.hpp"
#include "metrics.hpp"
#include "options.hpp"
#include "player_sessions.hpp"
#include "rounds.hpp"
#include "ws_server.hpp"

// The SignalR hub over the WebSocket connections: handshake, record framing, method dispatch,
// click completions, event fan-out, keep-alive and the shutdown Close. Event-loop thread only.
namespace clickrace::gateway {

class Hub {
 public:
  Hub(asio::io_context& io, const Options& options, Metrics& metrics, Rounds& rounds);
  ~Hub();

  // Wiring that needs both sides: the server sends, the batcher stores clicks.
  void attach(WsServer* server, ClickBatcher* batcher, PlayerSessions* sessions);

  std::size_t size() const { return conns_.size() + reserved_.size(); }
  // The upgrade was accepted: reserve the slot (counted against max connections).
  void reserve(ConnId id, std::string player, std::string connection_id);
  bool connection_id_in_use(const std::string& connection_id) const;
  void on_open(ConnId id);
  void on_message(ConnId id, std::string_view payload);
  void on_close(ConnId id);
  // The account opened a newer connection beyond its cap (PlayerSessions): Close with the
  // reason and without allowReconnect (an official client then stays closed instead of
  // reconnecting and evicting the newer one in turn).
  void evict(ConnId id);

  // Click outcomes from the batcher: one WebSocket message per connection per batch.
  void deliver(std::vector<ClickOutcome>& outcomes);
  // One prepared frame to every handshaken connection.
  void broadcast(const std::string& frame);

  void start_keepalive();
  // Shutdown, first step: new clicks are answered "server shutting down" (sends are dropped),
  // so the batches already formed can drain and be answered before the Close.
  void stop_clicks() { clicks_stopped_ = true; }
  // Shutdown: Close{allowReconnect:true} and WebSocket close 1000 to everyone.
  void close_all_for_shutdown();

 private:
  struct Reserved {
    std::string player;
    std::string connection_id;
  };
  void handle_record(Connection& c, std::string_view record);
  void on_click(Connection& c, const std::optional<std::string>& invocation_id);
  void on_get_round(Connection& c, const std::string& invocation_id);
  void send(Connection& c, std::string_view text);
  // Sends Close (optional error) then closes the WebSocket with `code`.
  void close_with(Connection& c, std::optional<std::string_view> error, bool allow_reconnect,
                  std::uint16_t code);
  void tick();
  std::int64_t now() const;

  asio::io_context& io_;
  const Options& options_;
  Metrics& metrics_;
  Rounds& rounds_;
  WsServer* server_ = nullptr;
  ClickBatcher* batcher_ = nullptr;
  PlayerSessions* sessions_ = nullptr;
  std::unordered_map<ConnId, Reserved> reserved_;
  std::unordered_map<ConnId, std::unique_ptr<Connection>> conns_;
  std::unordered_set<std::string> connection_ids_;
  asio::steady_timer timer_;
  bool clicks_stopped_ = false;
  std::shared_ptr<char> alive_ = std::make_shared<char>();
};

}  // namespace clickrace::gateway
