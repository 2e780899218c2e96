#include "leader_work.hpp"

#include <algorithm>

namespace clickrace::scheduler {

LeaderWork::Action LeaderWork::on_became_leader(uint64_t term) {
  starting_ = term;
  return Action::start;
}

LeaderWork::Action LeaderWork::on_confirmed(uint64_t term, bool closer_running) {
  if (closer_running) return Action::refresh;
  if (starting_ && *starting_ == term) return Action::none;
  starting_ = term;
  return Action::start;
}

bool LeaderWork::on_start_answer(uint64_t term, bool usable) {
  if (!starting_ || *starting_ != term) return false;
  starting_.reset();
  return usable;
}

std::optional<int64_t> close_wait(bool leading, int64_t lease_ms) {
  if (leading) return std::nullopt;
  // The lapse ends at the expiry timer (a demotion stops the closer) or at a renewal answer,
  // both within a renewal timeout: a few looks per lease are enough and cost nothing.
  return std::clamp<int64_t>(lease_ms / 30, 5, 100);
}

}  // namespace clickrace::scheduler
