#include "round_ledger.hpp"

#include <algorithm>
#include <iterator>

namespace clickrace::gateway {

RoundLedger::Live RoundLedger::on_live(RoundEntry e) {
  auto ours = announced_.find(e.round);
  bool announced = ours != announced_.end() && ours->second == e.started_at;
  if (holding_) {
    if (announced || held_.count(e.round)) return Live::duplicate;
    held_.emplace(e.round, std::move(e));
    if (held_.size() > limits_.max_held) held_.erase(held_.begin());  // the stream has it too
    return Live::held;
  }
  if (e.round > mark_) {
    mark_ = e.round;
    remember(e);
    return Live::announce;
  }
  if (announced) return Live::duplicate;
  // At or below the mark, yet not a round we announced: Redis may have lost its data.
  holding_ = true;
  held_.emplace(e.round, std::move(e));
  return Live::suspect;
}

std::int64_t RoundLedger::floor_for(const std::vector<RoundEntry>& newest_first) const {
  if (!initialized_) return 0;
  if (newest_first.empty()) return 0;  // mark 0 anyway, or the stream was lost
  if (newest_first.front().round < mark_) return 0;
  // The stream reaches the mark: is the round there the one we announced?
  for (const auto& e : newest_first) {
    if (e.round > mark_) continue;
    auto ours = announced_.find(mark_);
    if (e.round == mark_ && ours != announced_.end() && ours->second != e.started_at) return 0;
    break;
  }
  return mark_;
}

bool RoundLedger::needs_older(const std::vector<RoundEntry>& newest_first,
                              bool last_page_full) const {
  if (!initialized_ || !last_page_full || newest_first.empty()) return false;
  if (newest_first.size() >= limits_.max_catch_up) return false;
  return newest_first.back().round > floor_for(newest_first);
}

std::vector<RoundEntry> RoundLedger::finish(const std::vector<RoundEntry>& newest_first) {
  std::vector<RoundEntry> out;
  if (!initialized_) {
    initialized_ = true;
    if (!newest_first.empty()) mark_ = std::max(mark_, newest_first.front().round);
  } else {
    std::int64_t floor = floor_for(newest_first);
    restarted_ = floor < mark_;
    if (restarted_) announced_.clear();  // data loss: the old ids mean other rounds now
    mark_ = floor;
  }
  std::map<std::int64_t, RoundEntry> merged = std::move(held_);
  held_.clear();
  for (const auto& e : newest_first) merged[e.round] = e;  // the stream's copy is authoritative
  auto from = merged.upper_bound(mark_);
  std::size_t n = static_cast<std::size_t>(std::distance(from, merged.end()));
  if (n > limits_.max_catch_up) std::advance(from, n - limits_.max_catch_up);
  for (auto it = from; it != merged.end(); ++it) {
    mark_ = it->first;
    remember(it->second);
    out.push_back(std::move(it->second));
  }
  // What the stream holds at or below the mark is what clients were told: a later copy of it
  // (pub/sub racing the catch-up) is a duplicate, not a sign of lost data.
  for (const auto& e : newest_first) {
    if (e.round <= mark_ && !announced_.count(e.round)) remember(e);
  }
  holding_ = false;
  return out;
}

void RoundLedger::remember(const RoundEntry& e) {
  announced_[e.round] = e.started_at;
  while (announced_.size() > limits_.remembered) announced_.erase(announced_.begin());
}

}  // namespace clickrace::gateway
