#pragma once
#include <asio/io_context.hpp>
#include <functional>
#include <memory>
#include <set>
#include <string>

#include "clickrace/redis/connection.hpp"
#include "clickrace/redis/metrics.hpp"
#include "clickrace/redis/options.hpp"

namespace clickrace::redis {

// A pub/sub subscriber on its own connection (a SUBSCRIBE-mode connection accepts nothing else).
// Single-threaded like Client. It remembers its channels and re-subscribes to all of them after
// every reconnect (backoff as in Client).
//
// connected() is true once the connection is up AND every remembered channel is confirmed
// subscribed. on_subscribed fires (posted) after each such (re)subscription: messages published
// while disconnected are lost (pub/sub), so that is the moment to catch up from durable state.
// A late subscribe() on a connected subscriber fires on_subscribed again once confirmed (without
// flipping connected()).
// A hung (SIGSTOPped) server is not detected here: a SUBSCRIBE-mode hiredis 0.14 context cannot
// PING. A killed or restarted server is (the socket closes); a vanished peer is, after a while,
// by TCP keepalive (Options::tcp_keepalive); the gateway also runs an end-to-end heartbeat and
// calls reconnect() when it stops.
class Subscriber {
 public:
  using MessageCallback =
      std::function<void(const std::string& channel, const std::string& payload)>;
  using SubscribedCallback = std::function<void()>;
  using StateCallback = std::function<void(bool connected)>;

  Subscriber(asio::io_context& io, Options options);
  ~Subscriber();  // safe at any time outside its own callbacks; nothing more is delivered
  Subscriber(const Subscriber&) = delete;
  Subscriber& operator=(const Subscriber&) = delete;

  void on_message(MessageCallback cb) { on_message_ = std::move(cb); }
  void on_subscribed(SubscribedCallback cb) { on_subscribed_ = std::move(cb); }
  void on_state(StateCallback cb) { on_state_ = std::move(cb); }
  // Where each (re)connect goes (see Connection::set_address_source); before start().
  void set_address_source(Connection::AddressSource source) {
    conn_->set_address_source(std::move(source));
  }

  // Adds a channel (kept across reconnects); sent now if the connection is up.
  void subscribe(const std::string& channel);
  void start();
  void close();  // disconnects and stops reconnecting; no further callbacks
  // Drops the connection and re-establishes it (and every subscription) with backoff: for a
  // connection the caller has found dead (no FIN came). connected() turns false at once.
  void reconnect(const char* reason);
  bool connected() const { return connected_; }
  const Metrics& metrics() const { return metrics_; }

 private:
  static void on_reply(redisAsyncContext* ac, void* reply, void* privdata);
  void handle(const redisReply* reply);
  void send_subscribe(const std::string& channel);
  void set_connected(bool connected);

  asio::io_context& io_;
  Options options_;
  Metrics metrics_;
  MessageCallback on_message_;
  SubscribedCallback on_subscribed_;
  StateCallback on_state_;
  std::set<std::string> channels_;
  std::set<std::string> unconfirmed_;  // sent on this connection, confirmation awaited
  bool connected_ = false;
  bool closed_ = false;
  std::shared_ptr<char> alive_ = std::make_shared<char>();
  std::unique_ptr<Connection> conn_;  // last: destroyed first
};

}  // namespace clickrace::redis
