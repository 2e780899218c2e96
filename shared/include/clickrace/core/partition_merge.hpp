#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "clickrace/core/winners.hpp"

// A round's result from its partitions (DESIGN §3.1): every partition holds the scores of a
// disjoint set of players and reports a summary; merging the summaries gives exactly what
// pick_winners() gives over all scores at once (winners tied across partitions included).
namespace clickrace::core {

struct PartitionSummary {
  int64_t top = 0;                 // the partition's highest score (0: no player scored)
  int64_t at_top = 0;              // players at that score
  std::vector<std::string> names;  // the first max_listed of them, sorted bytewise
  int64_t total_clicks = 0;
  int64_t players = 0;
  bool operator==(const PartitionSummary& o) const {
    return top == o.top && at_top == o.at_top && names == o.names &&
           total_clicks == o.total_clicks && players == o.players;
  }
};

// The summary of one partition's scores (what the partition's closing script computes).
PartitionSummary summarize(const std::vector<PlayerScore>& scores,
                           std::size_t max_listed = kMaxListedWinners);

// Exact merge: the top score is the highest of the tops; the winners are the players at it in
// every partition that reached it (the first max_listed names overall are among the first
// max_listed of each partition, so the listed names are exact too); totals and players add up.
RoundOutcome merge_summaries(const std::vector<PartitionSummary>& parts,
                             std::size_t max_listed = kMaxListedWinners);

}  // namespace clickrace::core
