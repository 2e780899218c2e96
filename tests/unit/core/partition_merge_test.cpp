#include <gtest/gtest.h>

#include <random>

#include "clickrace/core/partition_merge.hpp"

namespace clickrace::core {
namespace {

void expect_same(const RoundOutcome& a, const RoundOutcome& b) {
  EXPECT_EQ(a.winners, b.winners);
  EXPECT_EQ(a.winner_count, b.winner_count);
  EXPECT_EQ(a.winning_clicks, b.winning_clicks);
  EXPECT_EQ(a.total_clicks, b.total_clicks);
  EXPECT_EQ(a.players, b.players);
}

TEST(PartitionMerge, TiesAcrossPartitions) {
  std::vector<PartitionSummary> parts{
      summarize({{"bob", 7}, {"amy", 3}}),
      summarize({{"cat", 7}, {"dan", 7}, {"eve", 1}}),
      summarize({{"fay", 6}}),
      summarize({}),
  };
  auto r = merge_summaries(parts);
  EXPECT_EQ(r.winners, (std::vector<std::string>{"bob", "cat", "dan"}));
  EXPECT_EQ(r.winner_count, 3);
  EXPECT_EQ(r.winning_clicks, 7);
  EXPECT_EQ(r.total_clicks, 31);
  EXPECT_EQ(r.players, 6);
}

TEST(PartitionMerge, NoWinnerWithoutClicks) {
  auto r = merge_summaries({summarize({}), summarize({})});
  EXPECT_TRUE(r.winners.empty());
  EXPECT_EQ(r.winner_count, 0);
  EXPECT_EQ(r.winning_clicks, 0);
  EXPECT_EQ(r.players, 0);
  EXPECT_EQ(merge_summaries({}).players, 0);
}

TEST(PartitionMerge, ListedWinnersAreExactBeyondTheCap) {
  // 3 partitions x 5 tied players, listing capped at 4: the 4 first names overall.
  std::vector<std::vector<PlayerScore>> scores(3);
  for (int i = 0; i < 15; ++i) scores[i % 3].push_back({"p" + std::to_string(10 + i), 9});
  std::vector<PartitionSummary> parts;
  for (const auto& s : scores) parts.push_back(summarize(s, 4));
  auto r = merge_summaries(parts, 4);
  EXPECT_EQ(r.winners, (std::vector<std::string>{"p10", "p11", "p12", "p13"}));
  EXPECT_EQ(r.winner_count, 15);
}

// The merge equals pick_winners over all scores, for random rounds split at random.
TEST(PartitionMerge, EqualsTheUnpartitionedResult) {
  std::mt19937 rng(42);
  for (int round = 0; round < 500; ++round) {
    int partitions = 1 + static_cast<int>(rng() % 12);
    int players = static_cast<int>(rng() % 300);
    int max_score = 1 + static_cast<int>(rng() % 5);  // small: many ties
    std::size_t cap = 1 + rng() % 120;
    std::vector<PlayerScore> all;
    std::vector<std::vector<PlayerScore>> split(partitions);
    for (int i = 0; i < players; ++i) {
      PlayerScore s{"n" + std::to_string(rng() % 100000) + "-" + std::to_string(i),
                    static_cast<int64_t>(rng() % (max_score + 1))};
      all.push_back(s);
      split[rng() % partitions].push_back(s);
    }
    std::vector<PartitionSummary> parts;
    for (const auto& s : split) parts.push_back(summarize(s, cap));
    SCOPED_TRACE("round " + std::to_string(round));
    expect_same(merge_summaries(parts, cap), pick_winners(all, cap));
  }
}

}  // namespace
}  // namespace clickrace::core
