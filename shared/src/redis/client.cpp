#include "clickrace/redis/client.hpp"

#include <hiredis/async.h>

#include <asio/post.hpp>

#include "clickrace/core/log.hpp"

namespace clickrace::redis {

using Clock = std::chrono::steady_clock;

Client::Client(asio::io_context& io, Options options)
    : io_(io),
      options_(std::move(options)),
      conn_(std::make_unique<Connection>(io, options_, "redis client", metrics_)) {}

Client::~Client() {
  destroying_ = true;
  conn_.reset();  // hiredis runs the pending callbacks with nullptr now; they are dropped
  pending_.clear();
}

void Client::start() {
  conn_->start({[this](redisAsyncContext*) {
                  last_heard_ = Clock::now();
                  set_connected(true);
                },
                [this] { set_connected(false); }});
}

void Client::close() {
  if (closed_) return;
  closed_ = true;
  set_connected(false);
  conn_->close();  // in-flight commands come back through handle_reply(nullptr) -> kErrClosed
  sent_.clear();
  for (auto& [id, p] : pending_) fail_later(std::move(p.cb), kErrClosed);
  pending_.clear();
}

bool Client::connected() const { return connected_ && conn_->ready(); }

void Client::command(std::vector<std::string> args, Callback cb,
                     std::chrono::milliseconds timeout) {
  ++metrics_.commands;
  if (closed_) return fail_later(std::move(cb), kErrClosed);
  redisAsyncContext* ac = connected_ ? conn_->context() : nullptr;
  if (ac == nullptr) return fail_later(std::move(cb), kErrNotConnected);
  if (sent_.size() >= options_.max_in_flight) return fail_later(std::move(cb), kErrOverloaded);

  std::vector<const char*> argv;
  std::vector<size_t> lens;
  argv.reserve(args.size());
  lens.reserve(args.size());
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  // hiredis copies the arguments into its output buffer; `args` may go away after this call.
  if (redisAsyncCommandArgv(ac, &Client::on_reply, this, static_cast<int>(argv.size()), argv.data(),
                            lens.data()) != REDIS_OK) {
    return fail_later(std::move(cb), kErrNotConnected);  // the context is shutting down
  }
  auto now = Clock::now();
  if (sent_.empty()) last_heard_ = now;  // silence is measured from when we began waiting
  std::uint64_t id = next_id_++;
  sent_.push_back(id);
  auto& p = pending_.try_emplace(id, std::move(cb), io_, now).first->second;
  p.timer.expires_after(timeout);
  p.timer.async_wait([w = std::weak_ptr<char>(alive_), this, id](const asio::error_code& ec) {
    if (ec || w.expired()) return;
    timed_out(id);
  });
}

void Client::on_reply(redisAsyncContext*, void* reply, void* privdata) {
  static_cast<Client*>(privdata)->handle_reply(static_cast<const redisReply*>(reply));
}

void Client::handle_reply(const redisReply* reply) {
  if (destroying_ || sent_.empty()) return;
  std::uint64_t id = sent_.front();
  sent_.pop_front();
  auto now = Clock::now();
  if (reply != nullptr) last_heard_ = now;
  auto it = pending_.find(id);
  if (it == pending_.end()) {  // timed out earlier: nobody waits for this reply any more
    if (reply != nullptr) ++metrics_.late_replies;
    return;
  }
  Callback cb = std::move(it->second.cb);
  auto sent = it->second.sent;
  pending_.erase(it);  // cancels the timer

  if (reply == nullptr) {  // the context is being freed: lost or closed
    if (closed_) return fail_later(std::move(cb), kErrClosed);
    ++metrics_.failures;
    return cb(make_error(std::string(kErrConnectionLost)));
  }
  Reply value = Reply::from_hiredis(reply);
  ++metrics_.replies;
  if (value.is_error()) ++metrics_.error_replies;
  if (round_trip_) round_trip_(std::chrono::duration_cast<std::chrono::microseconds>(now - sent));
  cb(std::move(value));
}

void Client::timed_out(std::uint64_t id) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  Callback cb = std::move(it->second.cb);
  pending_.erase(it);
  ++metrics_.timeouts;
  // Hung-server policy (see client.hpp): the reply stream has been silent for too long while
  // we waited, so later commands would only pile up behind the stuck ones.
  bool hung = connected() && Clock::now() - last_heard_ >= options_.unhealthy_after;
  cb(make_error(std::string(kErrTimeout)));
  if (hung && !closed_ && conn_->ready()) {
    ++metrics_.unhealthy_drops;
    set_connected(false);
    conn_->drop("no reply from the server");
  }
}

void Client::fail_later(Callback cb, std::string_view message) {
  ++metrics_.failures;
  asio::post(io_, [w = std::weak_ptr<char>(alive_), cb = std::move(cb), m = std::string(message)] {
    if (!w.expired()) cb(make_error(m));
  });
}

void Client::set_connected(bool connected) {
  if (connected_ == connected) return;
  connected_ = connected;
  asio::post(io_, [w = std::weak_ptr<char>(alive_), this, connected] {
    if (!w.expired() && on_state_) on_state_(connected);
  });
}

}  // namespace clickrace::redis
