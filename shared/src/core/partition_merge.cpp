#include "clickrace/core/partition_merge.hpp"

#include <algorithm>

namespace clickrace::core {

PartitionSummary summarize(const std::vector<PlayerScore>& scores, std::size_t max_listed) {
  RoundOutcome o = pick_winners(scores, max_listed);
  PartitionSummary s;
  s.top = o.winning_clicks;
  s.at_top = o.winner_count;
  s.names = std::move(o.winners);
  s.total_clicks = o.total_clicks;
  s.players = o.players;
  return s;
}

RoundOutcome merge_summaries(const std::vector<PartitionSummary>& parts, std::size_t max_listed) {
  RoundOutcome out;
  int64_t top = 0;
  for (const auto& p : parts) {
    out.total_clicks += p.total_clicks;
    out.players += p.players;
    top = std::max(top, p.top);
  }
  if (top <= 0) return out;
  out.winning_clicks = top;
  for (const auto& p : parts) {
    if (p.top != top) continue;
    out.winner_count += p.at_top;
    out.winners.insert(out.winners.end(), p.names.begin(), p.names.end());
  }
  std::sort(out.winners.begin(), out.winners.end());
  if (out.winners.size() > max_listed) out.winners.resize(max_listed);
  return out;
}

}  // namespace clickrace::core
