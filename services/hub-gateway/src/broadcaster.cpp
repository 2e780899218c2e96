#include "broadcaster.hpp"

#include <algorithm>
#include <vector>

#include "clickrace/bus/events.hpp"
#include "clickrace/core/config.hpp"
#include "clickrace/core/log.hpp"
#include "clickrace/signalr/json_codec.hpp"

namespace clickrace::gateway {

bool RoundMark::advance(std::int64_t id) {
  if (id <= mark_) return false;
  mark_ = id;
  return true;
}

Broadcaster::Broadcaster(asio::io_context& io, redis::Client& redis, redis::Subscriber& subscriber,
                         const bus::Keys& keys, Metrics& metrics, Fanout fanout)
    : io_(io),
      redis_(redis),
      subscriber_(subscriber),
      keys_(keys),
      metrics_(metrics),
      fanout_(std::move(fanout)),
      retry_(io) {}

Broadcaster::~Broadcaster() = default;

void Broadcaster::start() {
  std::string channel = keys_.events();
  subscriber_.on_message([this, channel, alive = std::weak_ptr<char>(alive_)](
                             const std::string& ch, const std::string& payload) {
    if (alive.expired() || ch != channel) return;
    on_envelope(payload);
  });
  subscriber_.on_subscribed([this, alive = std::weak_ptr<char>(alive_)] {
    if (alive.expired()) return;
    ++generation_;
    catch_up();
  });
  subscriber_.subscribe(channel);
}

void Broadcaster::on_envelope(std::string_view payload) {
  ++metrics_.events_received;
  auto env = bus::parse_envelope(payload);
  if (!env) {
    ++metrics_.events_dropped;
    CR_LOG(warn) << "dropped a malformed event envelope";
    return;
  }
  if (env->event == bus::kRoundEnded) return announce_result(env->round, env->data);
  if (env->event != bus::kRoundStarted && env->event != bus::kLeaderboard) {
    ++metrics_.events_dropped;
    return;
  }
  fanout_(env->event, signalr::invocation_frame(env->event, env->data));
}

void Broadcaster::announce_result(std::int64_t round, const std::string& data) {
  if (!mark_.advance(round)) {
    ++metrics_.events_dropped;  // already announced (pub/sub and catch-up raced)
    return;
  }
  fanout_(bus::kRoundEnded, signalr::invocation_frame(bus::kRoundEnded, data));
}

void Broadcaster::catch_up() {
  std::uint64_t gen = generation_;
  redis_.command({"XREVRANGE", keys_.rounds(), "+", "-", "COUNT", "100"},
                 [this, gen, alive = std::weak_ptr<char>(alive_)](Result<redis::Reply> r) {
                   if (alive.expired() || gen != generation_) return;
                   if (!r || !r->is_array()) {
                     // The command connection may still be reconnecting: try again shortly.
                     retry_.expires_after(std::chrono::milliseconds(250));
                     retry_.async_wait([this, gen, alive](const asio::error_code& ec) {
                       if (ec || alive.expired() || gen != generation_) return;
                       catch_up();
                     });
                     return;
                   }
                   std::vector<std::pair<std::int64_t, std::string>> entries;  // newest first
                   for (const auto& e : r->elements()) {
                     if (e.size() != 2) continue;
                     std::optional<std::int64_t> round;
                     const std::string* result = nullptr;
                     for (std::size_t i = 0; i + 1 < e[1].size(); i += 2) {
                       if (e[1][i].str() == "round") round = core::parse_int(e[1][i + 1].str());
                       if (e[1][i].str() == "result") result = &e[1][i + 1].str();
                     }
                     if (round && result && bus::parse_round_result(*result)) {
                       entries.emplace_back(*round, *result);
                     }
                   }
                   if (!initialized_) {
                     // First start: history is not replayed to new clients; the newest entry is the
                     // mark.
                     initialized_ = true;
                     if (!entries.empty()) mark_.raise_to(entries.front().first);
                     return;
                   }
                   std::sort(entries.begin(), entries.end(),
                             [](const auto& a, const auto& b) { return a.first < b.first; });
                   for (const auto& [round, result] : entries) {
                     if (round > mark_.value()) {
                       CR_LOG(info) << "catch-up: announcing missed round " << round;
                       announce_result(round, result);
                     }
                   }
                 });
}

}  // namespace clickrace::gateway
