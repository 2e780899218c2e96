#pragma once
#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

namespace clickrace::scheduler {

// A Prometheus histogram with fixed buckets. Observed on the event loop, rendered by the admin
// thread: every cell is an atomic, so a scrape never blocks the loop.
class Histogram {
 public:
  static constexpr std::array<int64_t, 12> kBounds = {5,   10,   25,   50,   100,   250,
                                                      500, 1000, 2500, 5000, 10000, 30000};
  void observe(int64_t value);
  // Appends the `_bucket`, `_sum` and `_count` lines for `name`.
  void render(std::string& out, const std::string& name) const;

 private:
  std::array<std::atomic<uint64_t>, kBounds.size() + 1> buckets_{};  // last one: +Inf
  std::atomic<int64_t> sum_{0};
  std::atomic<uint64_t> count_{0};
};

// The scheduler's metrics, exported on /metrics.
struct Metrics {
  std::atomic<uint64_t> rounds_closed{0};          // closes that announced a round (CLOSED)
  std::atomic<uint64_t> rounds_already_closed{0};  // closes answered DONE (nothing announced)
  std::atomic<uint64_t> lease_changes{0};          // leader <-> follower transitions
  std::atomic<bool> is_leader{false};
  std::atomic<uint64_t> redis_errors{0};       // failed commands and error replies
  std::atomic<uint64_t> leaderboards{0};       // Leaderboard events published
  Histogram close_lag_ms;                      // Redis time of the close minus the round's end
  std::atomic<uint64_t> seal_calls{0};         // seal.lua calls (one per partition and try)
  std::atomic<uint64_t> partitions_sealed{0};  // seal.lua answers SEALED (not DONE)
  std::atomic<uint64_t> seal_early{0};         // seal.lua answers EARLY (the close waits, retries)
  std::atomic<uint64_t> schedule_copies{0};    // schedule_copy.lua calls
  std::atomic<uint64_t> results_not_replicated{0};  // result writes a WAIT did not confirm

  // The Redis client's per-node text (redis::render_cluster_metrics), rendered on the loop.
  void set_redis_text(std::string text);

  // Prometheus text exposition format (version 0.0.4).
  std::string render() const;

 private:
  mutable std::mutex redis_mu_;
  std::string redis_text_;
};

}  // namespace clickrace::scheduler
