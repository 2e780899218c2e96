#pragma once
#include <cstdint>
#include <optional>
#include <vector>

#include "clickrace/core/round_math.hpp"

// Which round the leader closes next and when — pure, every time is an argument (Redis ms).
//
// The leader always closes `closed + 1` next, so no round is skipped, and close_round.lua is
// idempotent, so none is announced twice. Deadlines are absolute instants from the schedule, never
// "now + len", so nothing drifts however late a close runs.
namespace clickrace::scheduler {

// The first round ever run under `schedule`: rounds before it were never scheduled. Uses the
// segment a promotion replaced when the schedule kept it.
int64_t first_round(const core::Schedule& schedule);

// The next round to close: `closed + 1`, or the schedule's first round when nothing was closed
// yet (`P closed` missing). Never a round before the schedule's first one.
int64_t next_to_close(const core::Schedule& schedule, std::optional<int64_t> closed);

// The instant (Redis ms) round `id` ends, i.e. when it may be closed.
int64_t close_deadline(const core::Schedule& schedule, int64_t id);

// The rounds from `from` on that have ended by `now`, oldest first, at most `limit` of them.
std::vector<int64_t> due_rounds(const core::Schedule& schedule, int64_t from, int64_t now,
                                std::size_t limit);

// Milliseconds to wait on the local clock until the Redis instant `deadline`, given
// offset = redis_time - local_time. Never negative.
int64_t delay_until(int64_t deadline, int64_t local_now, int64_t offset);

// Estimates offset = redis_time - local_time from commands that return Redis TIME. A sample is
// taken at the middle of its round trip; the sample with the shortest round trip among the recent
// ones wins, since its error is at most half that round trip — unless a sample contradicts it
// (a clock step), which is then taken at once.
class ClockOffset {
 public:
  // `sent` and `received` are local ms around the command, `redis_now` what Redis answered.
  void add_sample(int64_t sent, int64_t received, int64_t redis_now);
  bool known() const { return known_; }
  int64_t offset() const { return offset_; }
  int64_t redis_now(int64_t local_now) const { return local_now + offset_; }

 private:
  static constexpr int kWindow = 8;            // samples older than this many are forgotten
  static constexpr int64_t kResolutionMs = 2;  // both clocks are read in whole ms
  bool known_ = false;
  int64_t offset_ = 0;
  int64_t best_rtt_ = 0;
  int age_ = 0;  // samples since the best one
};

}  // namespace clickrace::scheduler
