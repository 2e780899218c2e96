#pragma once
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "clickrace/redis/backoff.hpp"
#include "clickrace/redis/handles.hpp"
#include "clickrace/redis/metrics.hpp"
#include "clickrace/redis/options.hpp"

namespace clickrace::redis {

// One hiredis async connection that keeps itself established: async connect with a timeout,
// the AUTH/SELECT/SCRIPT LOAD/PING handshake, reconnect with exponential backoff after a failure
// or a loss.
// The building block of Client and Subscriber (each owns its own Connection).
// Single-threaded: every call and every callback happens on the io_context thread.
class Connection {
 public:
  enum class State { idle, connecting, ready, backoff, closed };
  struct Handlers {
    // The handshake succeeded; `ac` is usable until on_lost.
    std::function<void(redisAsyncContext* ac)> on_ready;
    // The ready connection is gone (hiredis has already run pending callbacks with nullptr).
    // A reconnect is scheduled unless close() was called.
    std::function<void()> on_lost;
  };

  // `name` appears in logs ("client", "subscriber"), never the password.
  Connection(asio::io_context& io, Options options, std::string name, Metrics& metrics);
  // Frees the context: hiredis runs pending command callbacks with a nullptr reply right here.
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void start(Handlers handlers);
  // Adds a Lua script that every (re)connect loads (SCRIPT LOAD) before it reports ready, so an
  // EVALSHA sent once ready cannot meet NOSCRIPT (unless the script cache is flushed at run time).
  // Takes effect from the next connect attempt: call it before start().
  void preload_script(std::string source) { scripts_.push_back(std::move(source)); }
  // Asked for the address before every connect attempt (else Options::host/port stay): lets a
  // connection that may use any of several servers (a Redis Cluster's pub/sub) move to another
  // one when its server is gone.
  using AddressSource = std::function<std::pair<std::string, int>()>;
  void set_address_source(AddressSource source) { address_source_ = std::move(source); }
  // Disconnects now (pending hiredis callbacks run with nullptr) and stops reconnecting.
  void close();
  // Considers the connection broken: frees it at the next safe point (never inside a hiredis
  // callback) and reconnects with backoff. No-op unless connecting or ready.
  void drop(const char* reason);

  State state() const { return state_; }
  bool ready() const { return state_ == State::ready; }
  // The live context while ready(), else nullptr.
  redisAsyncContext* context() const { return ready() ? ctx_.get() : nullptr; }
  const Options& options() const { return options_; }

 private:
  static void on_connect(const redisAsyncContext* ac, int status);
  static void on_disconnect(const redisAsyncContext* ac, int status);
  static void on_handshake_reply(redisAsyncContext* ac, void* reply, void* privdata);
  void connect();
  void handshake_done(bool ok);
  void lost(bool was_ready);
  void schedule_reconnect();
  void free_context();

  asio::io_context& io_;
  Options options_;
  std::string name_;
  Metrics& metrics_;
  Handlers handlers_;
  std::vector<std::string> scripts_;  // preloaded on every connect
  AddressSource address_source_;
  AsyncContextPtr ctx_;
  State state_ = State::idle;
  int handshake_left_ = 0;
  bool freeing_ = false;  // inside our own redisAsyncFree
  asio::steady_timer connect_timer_;
  asio::steady_timer backoff_timer_;
  Backoff backoff_;
  std::minstd_rand rng_;
  // Asio handlers hold a weak_ptr to this: expired means the Connection is gone.
  std::shared_ptr<char> alive_ = std::make_shared<char>();
};

}  // namespace clickrace::redis
