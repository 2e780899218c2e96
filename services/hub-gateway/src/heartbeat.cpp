#include "heartbeat.hpp"

#include <algorithm>

#include "clickrace/core/config.hpp"
#include "clickrace/core/log.hpp"

namespace clickrace::gateway {

Heartbeat::Heartbeat(asio::io_context& io, redis::ClusterClient& redis,
                     redis::Subscriber& subscriber, std::string channel,
                     std::chrono::milliseconds period, Metrics& metrics)
    : io_(io),
      redis_(redis),
      subscriber_(subscriber),
      channel_(std::move(channel)),
      period_(period),
      metrics_(metrics),
      timer_(io) {}

Heartbeat::~Heartbeat() = default;

void Heartbeat::start() {
  timer_.expires_after(period_);
  timer_.async_wait([this, alive = std::weak_ptr<char>(alive_)](const asio::error_code& ec) {
    if (ec || alive.expired() || stopped_) return;
    tick();
    start();
  });
}

void Heartbeat::stop() {
  stopped_ = true;
  timer_.cancel();
}

void Heartbeat::on_message(const std::string& payload) {
  auto seq = core::parse_int(payload);
  if (!seq || *seq <= 0) return;
  received_seq_ = std::max(received_seq_, static_cast<std::uint64_t>(*seq));
  if (awaited_since_ && received_seq_ >= awaited_seq_) awaited_since_.reset();
}

bool Heartbeat::healthy() const {
  return !awaited_since_ || Clock::now() - *awaited_since_ < period_;
}

void Heartbeat::tick() {
  if (!subscriber_.connected()) {
    awaited_since_.reset();  // reconnecting anyway; on_subscribed catches up
    return;
  }
  if (awaited_since_ && Clock::now() - *awaited_since_ >= 2 * period_) {
    ++metrics_.subscription_restarts;
    CR_LOG(warn) << "event subscription silent: a heartbeat Redis acknowledged "
                 << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() -
                                                                          *awaited_since_)
                        .count()
                 << " ms ago never arrived; re-subscribing";
    awaited_since_.reset();
    subscriber_.reconnect("no heartbeat on the subscription");
    return;
  }
  if (!redis_.connected()) return;
  std::uint64_t seq = next_seq_++;
  redis_.command({"PUBLISH", channel_, std::to_string(seq)},
                 [this, seq, alive = std::weak_ptr<char>(alive_)](Result<redis::Reply> r) {
                   if (alive.expired() || !r || !r->is_integer()) return;
                   // Acknowledged: Redis has written it to every subscriber of the channel.
                   if (awaited_since_ || received_seq_ >= seq || !subscriber_.connected()) return;
                   awaited_since_ = Clock::now();
                   awaited_seq_ = seq;
                 });
}

}  // namespace clickrace::gateway
