#include "close_plan.hpp"

#include <algorithm>

#include "round_plan.hpp"

namespace clickrace::scheduler {
namespace {

// The length of the round running at `now` (the first round's before the epoch).
int64_t running_len(const core::Schedule& s, int64_t now) {
  core::RoundWindow w = core::round_at(s, now);
  return std::max<int64_t>(1, w.ends_at - w.starts_at);
}

}  // namespace

void ClosePlanner::position(const core::Schedule& schedule, std::optional<int64_t> closed) {
  schedule_ = schedule;
  next_ = next_to_close(schedule, closed);
}

void ClosePlanner::on_closed(int64_t round) {
  if (next_ && round >= *next_) next_ = round + 1;
}

int64_t ClosePlanner::delay(int64_t now) const {
  int64_t left = close_deadline(schedule_, *next_) - now;
  return std::clamp<int64_t>(left, 0, running_len(schedule_, now));
}

ClosePlanner::EarlyWait ClosePlanner::on_early(int64_t ms_left, int64_t now) const {
  int64_t own = std::max<int64_t>(0, close_deadline(schedule_, *next_) - now);
  EarlyWait w;
  w.reread = ms_left > own + kEarlyToleranceMs;
  w.wait_ms = std::clamp<int64_t>(ms_left, 1, running_len(schedule_, now));
  return w;
}

bool ClosePlanner::stale(const core::Schedule& seen, std::optional<int64_t> seen_closed) const {
  if (!next_) return false;
  if (!same_schedule(schedule_, seen)) return true;
  // Nothing closed yet reads as "closed = the round before the first one".
  int64_t closed = seen_closed.value_or(first_round(seen) - 1);
  return closed != *next_ - 1 && closed != *next_;
}

bool same_schedule(const core::Schedule& a, const core::Schedule& b) {
  return a.current() == b.current() && a.pending == b.pending && a.previous == b.previous;
}

}  // namespace clickrace::scheduler
