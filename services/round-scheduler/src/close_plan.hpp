#pragma once
#include <cstdint>
#include <optional>

#include "clickrace/core/round_math.hpp"

namespace clickrace::scheduler {

// What the RoundCloser closes next and how long it waits — pure: the schedule and the closed
// mark are what was last read from Redis, every time an argument (Redis ms, from the monotonic
// clock plus ClockOffset).
//
// Redis can lose its data under a running leader (FLUSHALL, a restart without persistence, a
// deleted schedule, a failover to an empty instance): the schedule is then re-created with new
// round numbers and the closed mark is gone or behind. A plan made from the old state would wait
// for rounds that no longer come (round 41 of a schedule now at round 1 ends 40 rounds later).
// So the plan is checked against every fresh snapshot (stale()), and no wait is ever longer than
// the round running now by the plan's schedule: whatever changed, the closer looks again within
// one round.
class ClosePlanner {
 public:
  // Positions the plan after the closed mark read at a (re)start: `closed + 1`, never before
  // the schedule's first round (round_plan.hpp next_to_close).
  void position(const core::Schedule& schedule, std::optional<int64_t> closed);
  // Forgets the position (the closer stopped).
  void reset() { next_.reset(); }
  bool positioned() const { return next_.has_value(); }
  // The next round to close; requires positioned().
  int64_t next() const { return *next_; }
  const core::Schedule& schedule() const { return schedule_; }

  // Round `round` is closed (CLOSED or DONE): the next one follows.
  void on_closed(int64_t round);

  // Milliseconds to wait before asking to close next() at Redis time `now`: until its end, but
  // at most the length of the round running at `now` (a plan ahead of the clock — Redis's
  // clock stepped back — looks again every round instead of sleeping many). Never negative.
  int64_t delay(int64_t now) const;

  // close_round.lua answered EARLY by `ms_left` (by the schedule Redis holds). `reread`: Redis
  // disagrees with the plan by more than clock-offset noise, so its schedule (or our clock
  // offset) changed and the snapshot must be read again. The wait is `ms_left`, at most one
  // round of the plan's schedule, at least 1 ms.
  struct EarlyWait {
    int64_t wait_ms = 0;
    bool reread = false;
  };
  EarlyWait on_early(int64_t ms_left, int64_t now) const;

  // A fresh snapshot: the schedule and the closed mark (nullopt: missing), read at once. True
  // when the plan no longer holds and the closer must re-read the closed mark and position
  // again: the schedule changed (re-created, or a length change planned or reached), or the
  // mark is neither next() - 1 nor next() (a close whose answer was lost) — it vanished or moved
  // back (data loss) or ahead (another leader). False while not positioned.
  bool stale(const core::Schedule& seen, std::optional<int64_t> seen_closed) const;

  // Tolerance of on_early(): how far Redis's answer may exceed the plan's own estimate before
  // the schedule is suspected (the clock offset is known to a few ms).
  static constexpr int64_t kEarlyToleranceMs = 25;

 private:
  core::Schedule schedule_;
  std::optional<int64_t> next_;
};

// Whether two schedules place every round at the same instants (the fields stored in Redis).
bool same_schedule(const core::Schedule& a, const core::Schedule& b);

}  // namespace clickrace::scheduler
