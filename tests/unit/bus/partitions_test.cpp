#include <gtest/gtest.h>

#include <map>
#include <set>

#include "clickrace/bus/keys.hpp"
#include "clickrace/bus/partitions.hpp"
#include "clickrace/redis/cluster_slots.hpp"

namespace clickrace::bus {
namespace {

using redis::cluster::key_slot;

TEST(Partitions, PlayersSpreadOverPartitions) {
  std::map<int, int> count;
  for (int i = 0; i < 12000; ++i) ++count[partition_of("player" + std::to_string(i), 12)];
  ASSERT_EQ(count.size(), 12u);
  for (auto [k, n] : count) {
    EXPECT_GE(k, 0);
    EXPECT_LT(k, 12);
    EXPECT_NEAR(n, 1000, 150) << k;
  }
  EXPECT_EQ(partition_of("anyone", 1), 0);
  EXPECT_EQ(partition_of("", 5), partition_of("", 5));
  EXPECT_EQ(partition_of("alice", 12), partition_of("alice", 12));
}

TEST(Partitions, TagsSpreadEvenlyOverPrimaries) {
  for (int s : {1, 2, 3, 6, 12, 16, 100, kMaxPartitions}) {
    std::set<int> slots;
    // Primaries with equal contiguous ranges, as redis-cli --cluster create lays out 3 of them.
    std::map<int, int> per_primary;
    for (int k = 0; k < s; ++k) {
      std::string tag = partition_tag(k, s);
      ASSERT_EQ(tag.front(), '{');
      ASSERT_EQ(tag.back(), '}');
      int slot = key_slot(tag + ":scores");  // the tag decides the slot
      EXPECT_EQ(slot, key_slot(tag.substr(1, tag.size() - 2)));
      EXPECT_GE(slot, k * 16384 / s);
      EXPECT_LT(slot, (k + 1) * 16384 / s);
      slots.insert(slot);
      ++per_primary[slot < 5461 ? 0 : slot < 10923 ? 1 : 2];
    }
    EXPECT_EQ(static_cast<int>(slots.size()), s);
    if (s % 3 == 0) {
      for (auto [p, n] : per_primary) EXPECT_EQ(n, s / 3) << "S=" << s << " primary " << p;
    }
  }
  EXPECT_EQ(partition_tag(0, 12), partition_tag(0, 12));  // deterministic
}

TEST(PartitionKeys, OnePartitionIsTheGlobalLayout) {
  Keys k("t1:");
  PartitionKeys p = k.partition(0, 1);
  EXPECT_EQ(p.schedule(), k.schedule());
  EXPECT_EQ(p.scores(7), k.scores(7));
  EXPECT_EQ(p.total(7), k.total(7));
  EXPECT_EQ(p.summary(7), "t1:round:7:summary");
  EXPECT_EQ(p.sealed(), "t1:sealed");
  EXPECT_EQ(p.term(), "t1:term");
  EXPECT_EQ(p.click_batch("g1:5"), "t1:clickbatch:g1:5");
  EXPECT_EQ(p.rate(7), "t1:round:7:rate");
  EXPECT_EQ(p.rate(-1), "t1:round:-1:rate") << "the round before a guess of 0";
  EXPECT_EQ(k.term(), "t1:scheduler:term");
}

TEST(PartitionKeys, EveryKeyOfAPartitionIsOnItsTagsSlot) {
  Keys k("{clickrace}:");
  for (int part = 0; part < 12; ++part) {
    PartitionKeys p = k.partition(part, 12);
    std::string tag = partition_tag(part, 12);
    EXPECT_EQ(p.prefix(), "clickrace:" + tag + ":");
    int slot = key_slot(tag.substr(1, tag.size() - 2));
    for (const std::string& key : {p.schedule(), p.scores(3), p.total(3), p.summary(3), p.sealed(),
                                   p.term(), p.click_batch("x:1"), p.rate(3)}) {
      EXPECT_EQ(key_slot(key), slot) << key;
    }
  }
  // The global keys keep their own tag.
  EXPECT_EQ(key_slot(k.schedule()), key_slot(k.term()));
}

TEST(Partitions, MergeTopOrdersLikeOneZrevrange) {
  using E = TopEntry;
  auto top = merge_top({{E{"b", 5}, E{"a", 3}}, {E{"c", 5}, E{"d", 4}}, {}}, 3);
  ASSERT_EQ(top.size(), 3u);
  EXPECT_EQ(top[0].name, "c");
  EXPECT_EQ(top[1].name, "b");
  EXPECT_EQ(top[2].name, "d");
}

}  // namespace
}  // namespace clickrace::bus
