#include "round_plan.hpp"

#include <algorithm>
#include <cstdlib>

namespace clickrace::scheduler {

int64_t first_round(const core::Schedule& schedule) {
  int64_t first = schedule.base;
  if (schedule.previous) first = std::min(first, schedule.previous->base);
  return std::max<int64_t>(first, 1);
}

int64_t next_to_close(const core::Schedule& schedule, std::optional<int64_t> closed) {
  int64_t first = first_round(schedule);
  if (!closed) return first;
  return std::max(*closed + 1, first);
}

int64_t close_deadline(const core::Schedule& schedule, int64_t id) {
  return core::window_of(schedule, id).ends_at;
}

std::vector<int64_t> due_rounds(const core::Schedule& schedule, int64_t from, int64_t now,
                                std::size_t limit) {
  std::vector<int64_t> out;
  for (int64_t id = from; out.size() < limit && close_deadline(schedule, id) <= now; ++id) {
    out.push_back(id);
  }
  return out;
}

int64_t delay_until(int64_t deadline, int64_t local_now, int64_t offset) {
  return std::max<int64_t>(0, deadline - (local_now + offset));
}

void ClockOffset::add_sample(int64_t sent, int64_t received, int64_t redis_now) {
  int64_t rtt = std::max<int64_t>(0, received - sent);
  int64_t offset = redis_now - (sent + rtt / 2);
  ++age_;
  // The true offset lies within rtt / 2 of a sample's: when the new sample's range and the
  // estimate's do not overlap, one of the clocks stepped (Redis's wall clock was set), and the
  // old samples describe a clock that no longer exists.
  bool stepped = known_ && std::abs(offset - offset_) > (rtt + best_rtt_) / 2 + kResolutionMs;
  if (!known_ || stepped || rtt <= best_rtt_ || age_ > kWindow) {
    known_ = true;
    offset_ = offset;
    best_rtt_ = rtt;
    age_ = 0;
  }
}

}  // namespace clickrace::scheduler
