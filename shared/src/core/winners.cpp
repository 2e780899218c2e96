#include "clickrace/core/winners.hpp"

#include <algorithm>

namespace clickrace::core {

RoundOutcome pick_winners(const std::vector<PlayerScore>& scores, std::size_t max_listed) {
  RoundOutcome out;
  out.players = static_cast<int64_t>(scores.size());
  int64_t top = 0;
  for (const auto& s : scores) {
    out.total_clicks += s.clicks;
    top = std::max(top, s.clicks);
  }
  if (top <= 0) return out;  // empty round, or nobody scored: no winner
  out.winning_clicks = top;
  for (const auto& s : scores) {
    if (s.clicks == top) out.winners.push_back(s.name);
  }
  out.winner_count = static_cast<int64_t>(out.winners.size());
  // Bytewise order, the same as Redis's order for equal zset scores.
  std::sort(out.winners.begin(), out.winners.end());
  if (out.winners.size() > max_listed) out.winners.resize(max_listed);
  return out;
}

}  // namespace clickrace::core
