#pragma once
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "clickrace/core/result.hpp"
#include "clickrace/redis/connection.hpp"
#include "clickrace/redis/errors.hpp"
#include "clickrace/redis/metrics.hpp"
#include "clickrace/redis/options.hpp"
#include "clickrace/redis/reply.hpp"

namespace clickrace::redis {

// A reconnecting command connection to Redis. Everything runs on one io_context thread: call it
// only from that thread; every callback is invoked on it.
//
// Semantics
// - command() sends at once (hiredis pipelines: many commands may be in flight, replies arrive in
//   order). The callback runs exactly once, unless the Client is destroyed first (see below).
// - A server error reply (-ERR, -NOSCRIPT, ...) is an ok Result holding a Reply of type error.
//   A Result error means the command has no reply: kErrTimeout, kErrNotConnected (failed fast,
//   nothing was sent), kErrConnectionLost (the connection dropped while it waited; it may or may
//   not have run), kErrClosed, kErrOverloaded (more than max_in_flight awaiting replies).
// - Timeout: the callback gets kErrTimeout when the timeout expires; the late reply, if it ever
//   comes, is discarded (counted in metrics().late_replies).
// - While disconnected, commands fail fast (never queued). Failures that happen inside command()
//   are delivered via asio::post, never from within the call.
// - Reconnect: after a failed connect or a lost connection, retried with exponential backoff
//   (Options::backoff_*), forever until close(). AUTH/SELECT and the SCRIPT LOAD of every
//   preloaded script are sent on every connect, before connected() turns true.
// - Hung server policy: when a command times out and nothing was read from the server for
//   Options::unhealthy_after while commands were waiting, the connection is dropped (waiting
//   commands fail with kErrConnectionLost) and re-established; a SIGSTOPped server therefore
//   costs at most about unhealthy_after plus the backoff, not forever.
// - close(): stops reconnecting; commands in flight complete with kErrClosed (posted).
// - Destructor: safe with commands in flight; callbacks not yet invoked (including posted
//   failures) are dropped without being called.
//   Do not destroy a Client from inside one of its own callbacks (post the destruction instead).
class Client {
 public:
  using Callback = std::function<void(Result<Reply>)>;
  using StateCallback = std::function<void(bool connected)>;

  Client(asio::io_context& io, Options options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Loads `source` into the server's script cache as part of every (re)connect handshake, so
  // EVALSHA of it works from the first command on (see Script). Call before start().
  void preload_script(std::string source) { conn_->preload_script(std::move(source)); }
  // Starts connecting in the background; connected() turns true once the handshake is done.
  void start();
  void close();

  bool connected() const;
  // Called (posted) on every change of connected(); replaces any previous callback.
  void on_state(StateCallback cb) { on_state_ = std::move(cb); }

  void command(std::vector<std::string> args, Callback cb, std::chrono::milliseconds timeout);
  void command(std::vector<std::string> args, Callback cb) {
    command(std::move(args), std::move(cb), options_.command_timeout);
  }

  // Commands sent whose reply (or timeout) is still awaited by a caller.
  std::size_t pending() const { return pending_.size(); }
  const Metrics& metrics() const { return metrics_; }
  void set_round_trip_hook(RoundTripHook hook) { round_trip_ = std::move(hook); }
  const Options& options() const { return options_; }

 private:
  struct Pending {
    Pending(Callback c, asio::io_context& io, std::chrono::steady_clock::time_point t)
        : cb(std::move(c)), timer(io), sent(t) {}
    Callback cb;
    asio::steady_timer timer;
    std::chrono::steady_clock::time_point sent;
  };
  static void on_reply(redisAsyncContext* ac, void* reply, void* privdata);
  void handle_reply(const redisReply* reply);
  void timed_out(std::uint64_t id);
  void fail_later(Callback cb, std::string_view message);
  void set_connected(bool connected);

  asio::io_context& io_;
  Options options_;
  Metrics metrics_;
  RoundTripHook round_trip_;
  StateCallback on_state_;
  bool closed_ = false;
  bool destroying_ = false;
  bool connected_ = false;
  std::uint64_t next_id_ = 1;
  // Ids of the commands hiredis holds, in send order (replies arrive in that order). An id no
  // longer in pending_ belongs to a command that timed out: its reply is discarded.
  std::deque<std::uint64_t> sent_;
  std::unordered_map<std::uint64_t, Pending> pending_;
  // When the server last sent anything, or when we began waiting for it (hung-server policy).
  std::chrono::steady_clock::time_point last_heard_;
  std::shared_ptr<char> alive_ = std::make_shared<char>();
  // Last member: destroyed first, so hiredis's nullptr callbacks still see the members above.
  std::unique_ptr<Connection> conn_;
};

}  // namespace clickrace::redis
