#pragma once
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

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
  // The upgrade was accepted: reserve the slot (counted against max connections). `negotiated`:
  // it came with a connection token, so it may negotiate stateful reconnect.
  void reserve(ConnId id, std::string player, std::string connection_id, bool negotiated);
  // Stateful reconnect: true when connection `connection_id` of `player` is held here (attached,
  // or detached within its window) and may be resumed by a new socket.
  bool resumable(const std::string& connection_id, const std::string& player) const;
  // The upgrade `socket` resumes that connection when it opens.
  void reserve_resume(ConnId socket, const std::string& connection_id);
  // A stateful connection given up here recently: its reconnect gets 404 (the official client then
  // starts a new connection) instead of being taken for a new connection.
  bool lost(const std::string& connection_id);
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
  // An event (`target` with one argument, given as JSON text) to every handshaken connection:
  // its frame is built once per hub protocol in use and the same bytes go to all.
  void broadcast(std::string_view target, std::string_view json_argument);

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
    bool negotiated = false;
    ConnId resume = 0;  // the connection this socket resumes (stateful reconnect), 0 if new
  };
  // The connection a socket carries (nullptr if none).
  Connection* find_socket(ConnId socket);
  // Removes the connection for good (its pending outcomes are then dropped).
  void destroy(Connection& c);
  // Stateful reconnect (hub_resume.cpp).
  void detach(Connection& c);
  void resume(Connection& c, ConnId socket);
  void remember_lost(const std::string& connection_id);
  // The replay buffer passed its limit: the connection cannot be resumed any more.
  void on_overflow(Connection& c);
  void tick_resumable(std::int64_t t, std::vector<Connection*>& expired);
  // Sends `bytes`, which hold `count` trackable messages (types 1-5): recorded for a replay when
  // the connection is stateful (and only recorded while it is detached).
  void send_tracked(Connection& c, std::string bytes, std::uint32_t count = 1);
  void handle_handshake(Connection& c, std::string_view record);
  void handle_message(Connection& c, std::string_view body);
  void on_click(Connection& c, const std::optional<std::string>& invocation_id);
  void on_get_round(Connection& c, const std::string& invocation_id);
  // Sends hub messages built by c.protocol (binary frames for MessagePack).
  void send(Connection& c, std::string_view bytes);
  // Sends handshake answers: always JSON text.
  void send_text(Connection& c, std::string_view text);
  // Sends Close (optional error) then closes the WebSocket with `code`.
  void close_with(Connection& c, std::optional<std::string_view> error, bool allow_reconnect,
                  std::uint16_t code);
  void tick();
  std::string eviction_reason() const;
  void close_evicted(Connection& c);
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
  std::unordered_map<ConnId, ConnId> resumed_sockets_;  // socket -> connection, once resumed
  std::unordered_map<std::string, ConnId> resumable_;   // connection id -> connection (stateful)
  std::unordered_map<std::string, std::int64_t> lost_;  // connection id -> forget after (ms)
  std::deque<std::string> lost_order_;                  // oldest first, bounds lost_
  asio::steady_timer timer_;
  bool clicks_stopped_ = false;
  std::shared_ptr<char> alive_ = std::make_shared<char>();
};

}  // namespace clickrace::gateway
