#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

// Winner selection for a closed round. close_round.lua does the same inside Redis; this is the
// reference the tests compare it against.
namespace clickrace::core {

inline constexpr std::size_t kMaxListedWinners = 100;

struct PlayerScore {
  std::string name;
  int64_t clicks = 0;
};

struct RoundOutcome {
  std::vector<std::string> winners;  // tied at the top score, sorted by name (bytewise), capped
  int64_t winner_count = 0;          // all tied players, even those not listed
  int64_t winning_clicks = 0;        // 0 when there is no winner
  int64_t total_clicks = 0;          // sum of all scores
  int64_t players = 0;               // number of entries
};

// No players, or a top score <= 0, means no winner. Names are expected to be unique (one score
// per player, as in the Redis zset).
RoundOutcome pick_winners(const std::vector<PlayerScore>& scores,
                          std::size_t max_listed = kMaxListedWinners);

}  // namespace clickrace::core
