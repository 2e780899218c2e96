#include "clickrace/redis/subscriber.hpp"

#include <hiredis/async.h>

#include <asio/post.hpp>
#include <cstring>

#include "clickrace/core/log.hpp"

namespace clickrace::redis {
namespace {

bool is(const redisReply* r, const char* text) {
  return r->type == REDIS_REPLY_STRING && r->len == std::strlen(text) &&
         std::memcmp(r->str, text, r->len) == 0;
}

}  // namespace

Subscriber::Subscriber(asio::io_context& io, Options options)
    : io_(io),
      options_(std::move(options)),
      conn_(std::make_unique<Connection>(io, options_, "redis subscriber", metrics_)) {}

Subscriber::~Subscriber() {
  closed_ = true;
  conn_.reset();  // subscription callbacks run with nullptr now and are ignored
}

void Subscriber::start() {
  conn_->start({[this](redisAsyncContext*) {
                  unconfirmed_ = channels_;
                  if (channels_.empty()) set_connected(true);
                  for (const auto& c : channels_) send_subscribe(c);
                },
                [this] {
                  unconfirmed_.clear();
                  set_connected(false);
                }});
}

void Subscriber::close() {
  if (closed_) return;
  closed_ = true;
  conn_->close();
  unconfirmed_.clear();
  connected_ = false;  // no callbacks after close()
}

void Subscriber::reconnect(const char* reason) {
  if (closed_) return;
  unconfirmed_.clear();
  set_connected(false);
  conn_->drop(reason);
}

void Subscriber::subscribe(const std::string& channel) {
  if (!channels_.insert(channel).second || !conn_->ready()) return;
  unconfirmed_.insert(channel);
  send_subscribe(channel);
}

void Subscriber::send_subscribe(const std::string& channel) {
  const char* argv[] = {"SUBSCRIBE", channel.data()};
  size_t lens[] = {9, channel.size()};
  // hiredis keeps this callback for the channel: it gets the confirmation and every message.
  if (redisAsyncCommandArgv(conn_->context(), &Subscriber::on_reply, this, 2, argv, lens) !=
      REDIS_OK) {
    conn_->drop("SUBSCRIBE could not be sent");
  }
}

void Subscriber::on_reply(redisAsyncContext*, void* reply, void* privdata) {
  static_cast<Subscriber*>(privdata)->handle(static_cast<const redisReply*>(reply));
}

void Subscriber::handle(const redisReply* r) {
  // nullptr: the context is being freed; the connection's on_lost handles that.
  if (closed_ || r == nullptr || r->type != REDIS_REPLY_ARRAY || r->elements < 3) return;
  const redisReply* kind = r->element[0];
  const redisReply* channel = r->element[1];
  if (channel->type != REDIS_REPLY_STRING) return;
  std::string name(channel->str, channel->len);
  if (is(kind, "message")) {
    const redisReply* payload = r->element[2];
    if (payload->type != REDIS_REPLY_STRING) return;
    ++metrics_.messages;
    if (on_message_) on_message_(name, std::string(payload->str, payload->len));
  } else if (is(kind, "subscribe")) {
    if (unconfirmed_.erase(name) == 0 || !unconfirmed_.empty()) return;
    CR_LOG(info) << "redis subscriber: subscribed to " << channels_.size() << " channel(s)";
    set_connected(true);
    asio::post(io_, [w = std::weak_ptr<char>(alive_), this] {
      if (!w.expired() && !closed_ && on_subscribed_) on_subscribed_();
    });
  }
}

void Subscriber::set_connected(bool connected) {
  if (connected_ == connected) return;
  connected_ = connected;
  asio::post(io_, [w = std::weak_ptr<char>(alive_), this, connected] {
    if (!w.expired() && !closed_ && on_state_) on_state_(connected);
  });
}

}  // namespace clickrace::redis
