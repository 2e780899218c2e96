#include "leaderboard_publisher.hpp"

#include <algorithm>
#include <memory>

#include "clickrace/bus/events.hpp"
#include "clickrace/bus/partitions.hpp"
#include "clickrace/core/log.hpp"
#include "replies.hpp"

namespace clickrace::scheduler {

constexpr int kTopSize = 10;

// No Leaderboard in a round's last moments: RoundEnded follows at the deadline with the final
// result, and every gateway broadcasts each event to all its players in one loop turn, so a
// Leaderboard published just before the deadline holds RoundEnded back behind its own fan-out
// (10,000 players take ~100 ms on a 2-core machine: scripts/bench --only fanout). A fifth of the
// round at most, so short rounds still get leaderboards.
constexpr int64_t kRoundEndQuietMs = 250;
int64_t quiet_ms(const core::RoundWindow& w) {
  return std::min<int64_t>(kRoundEndQuietMs, (w.ends_at - w.starts_at) / 5);
}

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

// Every partition's top 10 (ZREVRANGE 0 9) and total (GET), pipelined; then the merged top 10
// (the first 10 overall are among the first 10 of each partition) and the summed total are
// published. The next tick is armed when the chain ends, so a slow Redis never piles
// publications up.
void LeaderboardPublisher::publish(uint64_t gen) {
  int64_t now = ctx_.redis_now();
  core::RoundWindow window = core::round_at(*ctx_.schedule, now);
  if (now < window.starts_at || window.ends_at - now < quiet_ms(window)) return schedule_next(gen);
  struct Gather {
    int waiting = 0;
    bool failed = false;
    std::string error;
    std::vector<std::vector<bus::TopEntry>> tops;
    int64_t total = 0;
  };
  int parts = ctx_.partitions;
  auto g = std::make_shared<Gather>();
  g->waiting = 2 * parts;
  g->tops.resize(static_cast<std::size_t>(parts));
  auto answered = [this, gen, window, g] {
    if (--g->waiting > 0) return;
    if (g->failed) {
      ctx_.metrics.redis_errors.fetch_add(1);
      CR_LOG(debug) << "leaderboard skipped: " << g->error;
      return schedule_next(gen);
    }
    if (!leading_()) return schedule_next(gen);
    int64_t at = ctx_.redis_now();
    if (window.ends_at - at < quiet_ms(window)) return schedule_next(gen);
    auto lb = make_leaderboard(window, at, bus::merge_top(std::move(g->tops), kTopSize), g->total);
    std::string env = bus::build_envelope(bus::kLeaderboard, lb.round, lb);
    ctx_.redis.command({"PUBLISH", ctx_.keys.events(), std::move(env)},
                       [this, gen](Result<redis::Reply> r) {
                         if (gen != gen_) return;
                         if (!r || r->is_error()) {
                           ctx_.metrics.redis_errors.fetch_add(1);
                           CR_LOG(debug) << "leaderboard skipped: publish failed";
                         } else {
                           ctx_.metrics.leaderboards.fetch_add(1);
                         }
                         schedule_next(gen);
                       });
  };
  auto fail = [g](std::string what) {
    if (!g->failed) g->error = std::move(what);
    g->failed = true;
  };
  for (int k = 0; k < parts; ++k) {
    bus::PartitionKeys p = ctx_.keys.partition(k, parts);
    ctx_.redis.command(
        {"ZREVRANGE", p.scores(window.id), "0", std::to_string(kTopSize - 1), "WITHSCORES"},
        [this, gen, g, k, answered, fail](Result<redis::Reply> r) {
          if (gen != gen_) return;
          if (!r) {
            fail(r.error().message);
          } else if (auto top = parse_top(*r)) {
            g->tops[static_cast<std::size_t>(k)] = std::move(*top);
          } else {
            fail(top.error().message);
          }
          answered();
        });
    ctx_.redis.command({"GET", p.total(window.id)},
                       [this, gen, g, answered, fail](Result<redis::Reply> r) {
                         if (gen != gen_) return;
                         if (!r) {
                           fail(r.error().message);
                         } else if (auto total = parse_optional_int(*r)) {
                           g->total += total->value_or(0);
                         } else {
                           fail(total.error().message);
                         }
                         answered();
                       });
  }
}

}  // namespace clickrace::scheduler
