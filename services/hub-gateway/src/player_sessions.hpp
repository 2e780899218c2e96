#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include "clickrace/bus/keys.hpp"
#include "clickrace/redis/cluster_client.hpp"
#include "clickrace/redis/script.hpp"
#include "metrics.hpp"
#include "ws_server.hpp"

// The cap on hub connections per account over the whole fleet (DESIGN §1.1
// CLICKRACE_MAX_CONNECTIONS_PER_PLAYER). Every opened connection is registered in Redis
// (sessions.lua, one zset per account); a newer connection beyond the cap evicts the account's
// oldest one, wherever it is: the script publishes its registry member on its gateway's kick
// channel, and that gateway closes it with a Close that says why and does not invite a
// reconnect. Each gateway confirms its connections every stale/3, so the entries of a gateway
// that died vanish after `stale` and never count against the player for long.
//
// Newest wins (rather than refusing the newcomer): the player's latest tab or device is the one
// they are looking at, and a crashed gateway's leftovers cannot lock anyone out.
// While Redis is unreachable, connections are let in and registered at the next confirmation
// once it is back (clicks fail meanwhile anyway). A confirmation re-registers a connection that
// Redis forgot (data loss, a late gateway) instead of closing it: a connection is only ever
// closed for a newer one.
// Event-loop thread only.
namespace clickrace::gateway {

class PlayerSessions {
 public:
  using Evict = std::function<void(ConnId)>;

  PlayerSessions(asio::io_context& io, redis::ClusterClient& redis, const bus::Keys& keys,
                 std::string instance, int cap, std::chrono::milliseconds stale, Metrics& metrics,
                 Evict evict);
  ~PlayerSessions();

  int cap() const { return cap_; }
  // The channel this gateway's evictions arrive on (subscribe to it).
  std::string kick_channel() const { return keys_.gateway_kick(instance_); }
  void opened(ConnId id, const std::string& player, const std::string& connection_id);
  void closed(ConnId id);
  // A message on kick_channel(): the registry member to close.
  void on_kick(const std::string& member);
  // Starts the periodic confirmation.
  void start();

 private:
  enum class State { unregistered, opening, registered };
  struct Entry {
    std::vector<std::string> keys;  // P player:<name>:conns, P player:<name>:evicted
    std::string connection_id;      // public id
    std::string member;             // set when the open script answered
    State state = State::unregistered;
  };
  void register_entry(ConnId id, Entry& e);
  void confirm_all();
  void schedule_confirm();

  asio::io_context& io_;
  redis::ClusterClient& redis_;
  bus::Keys keys_;
  std::string instance_;
  int cap_;
  std::chrono::milliseconds stale_;
  Metrics& metrics_;
  Evict evict_;
  redis::Script script_;
  std::unordered_map<ConnId, Entry> entries_;
  std::unordered_map<std::string, ConnId> by_connection_id_;
  asio::steady_timer timer_;
  std::shared_ptr<char> alive_ = std::make_shared<char>();
};

}  // namespace clickrace::gateway
