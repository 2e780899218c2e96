#include "clickrace/core/winners.hpp"

#include <gtest/gtest.h>

namespace clickrace::core {
namespace {

using V = std::vector<std::string>;

TEST(Winners, NoPlayersNoWinner) {
  RoundOutcome o = pick_winners({});
  EXPECT_TRUE(o.winners.empty());
  EXPECT_EQ(o.winner_count, 0);
  EXPECT_EQ(o.winning_clicks, 0);
  EXPECT_EQ(o.total_clicks, 0);
  EXPECT_EQ(o.players, 0);
}

TEST(Winners, OnePlayerWins) {
  RoundOutcome o = pick_winners({{"alice", 7}});
  EXPECT_EQ(o.winners, V{"alice"});
  EXPECT_EQ(o.winner_count, 1);
  EXPECT_EQ(o.winning_clicks, 7);
  EXPECT_EQ(o.total_clicks, 7);
  EXPECT_EQ(o.players, 1);
}

TEST(Winners, TiesAreAllWinnersSortedBytewise) {
  RoundOutcome o = pick_winners({{"zed", 5}, {"bob", 3}, {"Alice", 5}, {"alice", 5}, {"_x", 1}});
  EXPECT_EQ(o.winners, (V{"Alice", "alice", "zed"}));
  EXPECT_EQ(o.winner_count, 3);
  EXPECT_EQ(o.winning_clicks, 5);
  EXPECT_EQ(o.total_clicks, 19);
  EXPECT_EQ(o.players, 5);
}

TEST(Winners, ZeroScoresHaveNoWinner) {
  RoundOutcome o = pick_winners({{"a", 0}, {"b", 0}});
  EXPECT_TRUE(o.winners.empty());
  EXPECT_EQ(o.winner_count, 0);
  EXPECT_EQ(o.winning_clicks, 0);
  EXPECT_EQ(o.players, 2);
}

TEST(Winners, AtMostOneHundredListedButAllCounted) {
  std::vector<PlayerScore> scores;
  for (int i = 149; i >= 0; --i) {
    char name[16];
    std::snprintf(name, sizeof name, "p%03d", i);
    scores.push_back({name, 9});
  }
  scores.push_back({"loser", 2});
  RoundOutcome o = pick_winners(scores);
  ASSERT_EQ(o.winners.size(), 100u);
  EXPECT_EQ(o.winners.front(), "p000");
  EXPECT_EQ(o.winners.back(), "p099");
  EXPECT_EQ(o.winner_count, 150);
  EXPECT_EQ(o.winning_clicks, 9);
  EXPECT_EQ(o.total_clicks, 150 * 9 + 2);
  EXPECT_EQ(o.players, 151);
  EXPECT_EQ(pick_winners(scores, 3).winners, (V{"p000", "p001", "p002"}));
}

}  // namespace
}  // namespace clickrace::core
