#include <gtest/gtest.h>

#include <map>
#include <set>

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

}  // namespace
}  // namespace clickrace::bus
