#include "broadcaster.hpp"

#include "clickrace/bus/events.hpp"
#include "clickrace/core/config.hpp"
#include "clickrace/core/log.hpp"

namespace clickrace::gateway {
namespace {

constexpr int kPageSize = 100;
constexpr std::chrono::milliseconds kRetryPeriod{250};

// One `rounds` stream entry [id, [field, value, ...]] as a RoundEntry (nullopt if malformed).
std::optional<RoundEntry> entry_from(const redis::Reply& e) {
  if (e.size() != 2) return std::nullopt;
  std::optional<std::int64_t> round;
  const std::string* text = nullptr;
  for (std::size_t i = 0; i + 1 < e[1].size(); i += 2) {
    if (e[1][i].str() == "round") round = core::parse_int(e[1][i + 1].str());
    if (e[1][i].str() == "result") text = &e[1][i + 1].str();
  }
  if (!round || text == nullptr) return std::nullopt;
  auto parsed = bus::parse_round_result(*text);
  if (!parsed) return std::nullopt;
  return RoundEntry{*round, parsed->started_at, *text};
}

}  // namespace

Broadcaster::Broadcaster(asio::io_context& io, redis::ClusterClient& redis, const bus::Keys& keys,
                         Metrics& metrics, Fanout fanout)
    : io_(io),
      redis_(redis),
      keys_(keys),
      metrics_(metrics),
      fanout_(std::move(fanout)),
      retry_(io) {}

Broadcaster::~Broadcaster() = default;

void Broadcaster::on_subscription_lost() {
  ledger_.hold();
  // Abandon a running catch-up: finishing it now would stop holding while unsubscribed, and a
  // live result arriving with the next subscription (before its catch-up) would then raise the
  // mark over rounds that are only in the stream. The next subscription starts a fresh one.
  ++generation_;
  retry_.cancel();
  catching_up_ = false;
}

void Broadcaster::on_subscribed() {
  ledger_.hold();
  catch_up();  // restarts a running one: what it read may predate the new subscription
}

void Broadcaster::on_envelope(std::string_view payload) {
  ++metrics_.events_received;
  auto env = bus::parse_envelope(payload);
  if (!env) {
    ++metrics_.events_dropped;
    CR_LOG(warn) << "dropped a malformed event envelope";
    return;
  }
  if (env->event == bus::kRoundEnded) {
    auto result = bus::parse_round_result(env->data);
    if (!result) {
      ++metrics_.events_dropped;
      CR_LOG(warn) << "dropped a malformed RoundEnded";
      return;
    }
    switch (ledger_.on_live(RoundEntry{env->round, result->started_at, env->data})) {
      case RoundLedger::Live::announce:
        return fan_out_result(env->data);
      case RoundLedger::Live::held:
        return;
      case RoundLedger::Live::duplicate:
        ++metrics_.events_dropped;  // pub/sub and catch-up raced
        return;
      case RoundLedger::Live::suspect:
        CR_LOG(warn) << "RoundEnded " << env->round << " is not above the announced mark "
                     << ledger_.mark() << ": checking the stream for lost Redis data";
        if (!catching_up_) catch_up();
        return;
    }
  }
  if (env->event != bus::kRoundStarted && env->event != bus::kLeaderboard) {
    ++metrics_.events_dropped;
    return;
  }
  if (env->event == bus::kRoundStarted && on_round_started_) on_round_started_(env->round);
  fanout_(env->event, env->data);
}

void Broadcaster::fan_out_result(const std::string& data) { fanout_(bus::kRoundEnded, data); }

void Broadcaster::catch_up() {
  catching_up_ = true;
  retry_.cancel();
  read_page(++generation_, "+", {});
}

// XREVRANGE pages, newest first, until an entry at or below the mark (RoundLedger decides).
void Broadcaster::read_page(std::uint64_t gen, std::string before, std::vector<RoundEntry> so_far) {
  redis_.command({"XREVRANGE", keys_.rounds(), before, "-", "COUNT", std::to_string(kPageSize)},
                 [this, gen, so_far = std::move(so_far),
                  alive = std::weak_ptr<char>(alive_)](Result<redis::Reply> r) mutable {
                   if (alive.expired() || gen != generation_) return;
                   // The command connection may still be reconnecting (or the read failed): try
                   // again.
                   if (!r || !r->is_array()) return retry_later(gen);
                   std::string oldest_id;
                   for (const auto& e : r->elements()) {
                     if (e.size() == 2) oldest_id = e[0].str();
                     if (auto entry = entry_from(e)) so_far.push_back(std::move(*entry));
                   }
                   bool full = r->size() >= static_cast<std::size_t>(kPageSize);
                   if (!oldest_id.empty() && ledger_.needs_older(so_far, full)) {
                     return read_page(gen, "(" + oldest_id, std::move(so_far));
                   }
                   catching_up_ = false;
                   bool first = !ledger_.initialized();
                   std::int64_t before_mark = ledger_.mark();
                   auto missed = ledger_.finish(so_far);
                   if (!first && ledger_.restarted()) {
                     CR_LOG(warn) << "the rounds stream is behind the announced mark "
                                  << before_mark
                                  << " (Redis lost its data?): announcing from its start again";
                   }
                   if (!first && !missed.empty()) {
                     CR_LOG(info) << "catch-up: announcing rounds " << missed.front().round << ".."
                                  << missed.back().round;
                   }
                   for (const auto& e : missed) fan_out_result(e.data);
                 });
}

void Broadcaster::retry_later(std::uint64_t gen) {
  retry_.expires_after(kRetryPeriod);
  retry_.async_wait([this, gen, alive = std::weak_ptr<char>(alive_)](const asio::error_code& ec) {
    if (ec || alive.expired() || gen != generation_) return;
    read_page(gen, "+", {});
  });
}

}  // namespace clickrace::gateway
