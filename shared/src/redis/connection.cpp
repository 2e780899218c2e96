#include "clickrace/redis/connection.hpp"

#include <hiredis/async.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <tuple>

#include <asio/post.hpp>

#include "clickrace/core/log.hpp"
#include "clickrace/redis/asio_adapter.hpp"
#include "clickrace/redis/errors.hpp"

namespace clickrace::redis {
namespace {

// The handshake command a reply belongs to (privdata of handshake callbacks).
const char kAuth[] = "AUTH";
const char kSelect[] = "SELECT";
const char kScriptLoad[] = "SCRIPT LOAD";
const char kPing[] = "PING";

// SO_KEEPALIVE with the first probe after `idle_s` of silence, then 3 probes `idle_s`/3 apart: a
// vanished peer is declared dead after about 2 x idle_s. (hiredis 0.14 declares only
// redisEnableKeepAlive, with a fixed 15 s; this sets the same options ourselves.)
bool enable_keepalive(int fd, int idle_s) {
  int on = 1, idle = idle_s, interval = std::max(1, idle_s / 3), count = 3;
  return setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on) == 0 &&
         setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle) == 0 &&
         setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval) == 0 &&
         setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count) == 0;
}

Connection* owner(const redisAsyncContext* ac) { return static_cast<Connection*>(ac->data); }

}  // namespace

Connection::Connection(asio::io_context& io, Options options, std::string name, Metrics& metrics)
    : io_(io),
      options_(std::move(options)),
      name_(std::move(name)),
      metrics_(metrics),
      connect_timer_(io),
      backoff_timer_(io),
      backoff_(options_.backoff_initial, options_.backoff_max, options_.backoff_jitter),
      rng_(std::random_device{}()) {}

Connection::~Connection() {
  state_ = State::closed;
  free_context();
}

void Connection::start(Handlers handlers) {
  handlers_ = std::move(handlers);
  if (state_ == State::idle) connect();
}

void Connection::close() {
  if (state_ == State::closed) return;
  state_ = State::closed;
  connect_timer_.cancel();
  backoff_timer_.cancel();
  free_context();
}

void Connection::connect() {
  state_ = State::connecting;
  if (address_source_) std::tie(options_.host, options_.port) = address_source_();
  AsyncContextPtr ac(redisAsyncConnect(options_.host.c_str(), options_.port));
  if (!ac || ac->err) {
    CR_LOG(warn) << name_ << ": " << error_from_context(ac.get(), "connect").message;
    schedule_reconnect();
    return;
  }
  ac->data = this;
  if (options_.tcp_keepalive.count() > 0 &&
      !enable_keepalive(ac->c.fd, static_cast<int>(options_.tcp_keepalive.count()))) {
    CR_LOG(warn) << name_ << ": cannot enable TCP keepalive";
  }
  attach_asio(io_, ac.get());  // before the connect callback: that one arms the first write wait
  redisAsyncSetConnectCallback(ac.get(), &Connection::on_connect);
  redisAsyncSetDisconnectCallback(ac.get(), &Connection::on_disconnect);

  // Queued now, written by hiredis once the TCP connect completes. The final PING proves the
  // server is actually answering (a SIGSTOPped server still completes the TCP handshake).
  handshake_left_ = 0;
  auto send = [&](const char* tag, std::vector<const char*> argv, const size_t* lens = nullptr) {
    redisAsyncCommandArgv(ac.get(), &Connection::on_handshake_reply, const_cast<char*>(tag),
                          static_cast<int>(argv.size()), argv.data(), lens);
    ++handshake_left_;
  };
  std::string db = std::to_string(options_.db);
  if (!options_.password.empty()) {
    if (options_.username.empty()) {
      send(kAuth, {"AUTH", options_.password.c_str()});
    } else {
      send(kAuth, {"AUTH", options_.username.c_str(), options_.password.c_str()});
    }
  }
  if (options_.db != 0) send(kSelect, {"SELECT", db.c_str()});
  // Before anything else can be sent: a caller's first EVALSHA finds its script cached, so
  // pipelined script calls never fall back to EVAL (which could reorder them, see script.hpp).
  for (const auto& source : scripts_) {
    const size_t lens[] = {6, 4, source.size()};
    send(kScriptLoad, {"SCRIPT", "LOAD", source.data()}, lens);
  }
  send(kPing, {"PING"});
  ctx_ = std::move(ac);

  connect_timer_.expires_after(options_.connect_timeout);
  connect_timer_.async_wait([w = std::weak_ptr<char>(alive_), this](const asio::error_code& ec) {
    if (ec || w.expired() || state_ != State::connecting) return;
    CR_LOG(warn) << name_ << ": connecting to " << options_.host << ':' << options_.port
                 << " timed out";
    free_context();
    schedule_reconnect();
  });
}

void Connection::on_connect(const redisAsyncContext* ac, int status) {
  Connection* self = owner(ac);
  if (status == REDIS_OK) return;  // the handshake replies decide
  // hiredis frees the context after this callback returns.
  (void)self->ctx_.release();
  if (self->state_ != State::connecting) return;
  CR_LOG(warn) << self->name_ << ": " << error_from_context(ac, "connect").message << " ("
               << self->options_.host << ':' << self->options_.port << ')';
  self->connect_timer_.cancel();
  self->schedule_reconnect();
}

void Connection::on_disconnect(const redisAsyncContext* ac, int status) {
  Connection* self = owner(ac);
  if (self->freeing_) return;  // our own free_context(): the caller handles the consequences
  (void)self->ctx_.release();  // hiredis frees the context after this callback returns
  bool was_ready = self->state_ == State::ready;
  if (self->state_ == State::closed || self->state_ == State::backoff) return;
  CR_LOG(warn) << self->name_ << ": " << error_from_context(ac, "connection lost").message;
  self->lost(was_ready);
}

void Connection::on_handshake_reply(redisAsyncContext* ac, void* reply, void* privdata) {
  Connection* self = owner(ac);
  auto* r = static_cast<redisReply*>(reply);
  if (r == nullptr || self->state_ != State::connecting) return;  // freed: handled elsewhere
  const char* what = static_cast<const char*>(privdata);
  if (r->type == REDIS_REPLY_ERROR) {
    // Redis's error text (e.g. WRONGPASS ...) never echoes the arguments, so it is safe to log.
    CR_LOG(error) << self->name_ << ": " << what << " failed: " << std::string(r->str, r->len);
    self->handshake_done(false);
    return;
  }
  if (--self->handshake_left_ == 0) self->handshake_done(true);
}

void Connection::handshake_done(bool ok) {
  connect_timer_.cancel();
  if (!ok) {
    state_ = State::backoff;
    // Inside a hiredis callback: free at the next safe point.
    asio::post(io_, [w = std::weak_ptr<char>(alive_), this] {
      if (w.expired()) return;
      free_context();
      if (state_ != State::closed) schedule_reconnect();
    });
    return;
  }
  state_ = State::ready;
  backoff_.reset();
  ++metrics_.connects;
  CR_LOG(info) << name_ << ": connected to " << options_.host << ':' << options_.port;
  if (handlers_.on_ready) handlers_.on_ready(ctx_.get());
}

void Connection::drop(const char* reason) {
  if (state_ != State::ready && state_ != State::connecting) return;
  bool was_ready = state_ == State::ready;
  CR_LOG(warn) << name_ << ": dropping the connection: " << reason;
  // Abortive close (RST, SO_LINGER 0): what we wrote and the server has not taken is discarded
  // here instead of being retransmitted for minutes after we gave up on it. So a command we
  // drop (a click batch we will resend under the same id) can only still run if it already
  // reached the server, which runs it the next time it runs at all — before or together with
  // the resend, never after the server's memory of the batch id (docs/bus.md) has expired.
  if (ctx_ && ctx_->c.fd >= 0) {
    linger abortive{1, 0};
    setsockopt(ctx_->c.fd, SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive);
  }
  state_ = State::backoff;
  connect_timer_.cancel();
  // May be called from inside a hiredis callback: free at the next safe point.
  asio::post(io_, [w = std::weak_ptr<char>(alive_), this, was_ready] {
    if (w.expired()) return;
    free_context();
    if (state_ == State::closed) return;
    if (was_ready) ++metrics_.disconnects;
    if (was_ready && handlers_.on_lost) handlers_.on_lost();
    schedule_reconnect();
  });
}

void Connection::lost(bool was_ready) {
  connect_timer_.cancel();
  if (was_ready) ++metrics_.disconnects;
  schedule_reconnect();
  if (was_ready && handlers_.on_lost) handlers_.on_lost();
}

void Connection::schedule_reconnect() {
  if (state_ == State::closed) return;
  state_ = State::backoff;
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  auto delay = backoff_.next(unit(rng_));
  CR_LOG(info) << name_ << ": reconnecting in " << delay.count() << " ms (attempt "
               << backoff_.attempts() << ')';
  backoff_timer_.expires_after(delay);
  backoff_timer_.async_wait([w = std::weak_ptr<char>(alive_), this](const asio::error_code& ec) {
    if (ec || w.expired() || state_ != State::backoff) return;
    connect();
  });
}

void Connection::free_context() {
  redisAsyncContext* ac = ctx_.release();
  if (ac == nullptr) return;
  // redisAsyncFree runs pending callbacks with nullptr and, if connected, on_disconnect.
  freeing_ = true;
  redisAsyncFree(ac);
  freeing_ = false;
}

}  // namespace clickrace::redis
