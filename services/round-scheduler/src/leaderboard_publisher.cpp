#include "leaderboard_publisher.hpp"

#include "clickrace/bus/events.hpp"
#include "clickrace/core/log.hpp"
#include "replies.hpp"

namespace clickrace::scheduler {

constexpr int kTopSize = 10;

LeaderboardPublisher::LeaderboardPublisher(Context& ctx, std::function<bool()> leading)
    : ctx_(ctx), leading_(std::move(leading)), timer_(ctx.io) {}

void LeaderboardPublisher::start() {
  stop();
  schedule_next(gen_);
}

void LeaderboardPublisher::stop() {
  ++gen_;
  timer_.cancel();
}

void LeaderboardPublisher::schedule_next(uint64_t gen) {
  timer_.expires_after(std::chrono::milliseconds(ctx_.opts.leaderboard_ms));
  timer_.async_wait([this, gen](const asio::error_code& ec) {
    if (ec || gen != gen_) return;
    tick(gen);
  });
}

void LeaderboardPublisher::tick(uint64_t gen) {
  if (!leading_() || !ctx_.schedule || !ctx_.offset.known()) return schedule_next(gen);
  publish(gen);
}

// ZREVRANGE, GET total, PUBLISH: three commands in a row; the next tick is armed when the chain
// ends, so a slow Redis never piles publications up.
void LeaderboardPublisher::publish(uint64_t gen) {
  int64_t now = ctx_.redis_now();
  core::RoundWindow window = core::round_at(*ctx_.schedule, now);
  if (now < window.starts_at) return schedule_next(gen);
  auto fail = [this, gen](const std::string& what) {
    ctx_.metrics.redis_errors.fetch_add(1);
    CR_LOG(debug) << "leaderboard skipped: " << what;
    schedule_next(gen);
  };
  ctx_.redis.command(
      {"ZREVRANGE", ctx_.keys.scores(window.id), "0", std::to_string(kTopSize - 1), "WITHSCORES"},
      [this, gen, window, fail](Result<redis::Reply> r) {
        if (gen != gen_) return;
        if (!r) return fail(r.error().message);
        auto top = parse_top(*r);
        if (!top) return fail(top.error().message);
        ctx_.redis.command(
            {"GET", ctx_.keys.total(window.id)},
            [this, gen, window, fail, top = std::move(*top)](Result<redis::Reply> r) mutable {
              if (gen != gen_) return;
              if (!r) return fail(r.error().message);
              auto total = parse_optional_int(*r);
              if (!total) return fail(total.error().message);
              if (!leading_()) return schedule_next(gen);
              auto lb =
                  make_leaderboard(window, ctx_.redis_now(), std::move(top), total->value_or(0));
              std::string env = bus::build_envelope(bus::kLeaderboard, lb.round, lb);
              ctx_.redis.command({"PUBLISH", ctx_.keys.events(), std::move(env)},
                                 [this, gen, fail](Result<redis::Reply> r) {
                                   if (gen != gen_) return;
                                   if (!r || r->is_error()) return fail("publish failed");
                                   ctx_.metrics.leaderboards.fetch_add(1);
                                   schedule_next(gen);
                                 });
            });
      });
}

}  // namespace clickrace::scheduler
