// click.lua's per-player token bucket (DESIGN invariant 6) against a real redis-server: the same
// bucket serves every batch of a player, whichever gateway sent it, so the accepted clicks over
// any t seconds stay within rate·t + rate.
#include <gtest/gtest.h>

#include <thread>

#include "bus_fixture.hpp"

namespace clickrace::test {
namespace {

constexpr int64_t kLong = 1'000'000;  // rounds long enough that no boundary passes mid-test

class ClickRate : public BusTest {
 protected:
  // One click.lua call; returns {total, granted} per pair.
  std::vector<std::pair<int64_t, int64_t>> click(const std::string& batch, int rate,
                                                 std::vector<std::string> pairs) {
    Reply r = BusTest::click(batch, rate, pairs);
    EXPECT_EQ(r.type, REDIS_REPLY_ARRAY) << r.str;
    std::vector<std::pair<int64_t, int64_t>> out;
    for (size_t i = 1; i + 1 < r.elements.size(); i += 2) {
      out.emplace_back(r.elements[i].integer, r.elements[i + 1].integer);
    }
    return out;
  }
  std::string score(const std::string& name) { return cmd({"ZSCORE", keys_.scores(1), name}).str; }
};

TEST_F(ClickRate, ABurstBeyondTheBucketIsCutAndTheExcessIsNotStored) {
  write_schedule(redis_now() - 10, kLong);
  auto r = click("g1:1", 5, {"alice", "8", "bob", "2"});
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0], std::make_pair(int64_t{5}, int64_t{5}));  // a burst of `rate`
  EXPECT_EQ(r[1], std::make_pair(int64_t{2}, int64_t{2}));  // another player's own bucket
  EXPECT_EQ(score("alice"), "5");
  EXPECT_EQ(cmd({"GET", keys_.total(1)}).str, "7");

  // Another gateway's batch right after: the same bucket, now empty.
  auto empty = click("g2:1", 5, {"alice", "3"});
  EXPECT_EQ(empty[0].second, 0);
  EXPECT_EQ(empty[0].first, 0) << "nothing granted: no total";
  EXPECT_EQ(score("alice"), "5");
}

TEST_F(ClickRate, TheBucketRefillsAtTheRateAndNeverBeyondOneBurst) {
  write_schedule(redis_now() - 10, kLong);
  ASSERT_EQ(click("g1:1", 10, {"alice", "10"})[0].second, 10);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  int64_t g = click("g1:2", 10, {"alice", "100"})[0].second;
  EXPECT_GE(g, 4);  // ~5 tokens in 0.5 s (a slow machine may sleep longer: at most the cap)
  EXPECT_LE(g, 10);
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  EXPECT_EQ(click("g1:3", 10, {"alice", "100"})[0].second, 10) << "capped at one burst";
}

TEST_F(ClickRate, AResendGetsTheSameGrantAndTakesNoMoreTokens) {
  write_schedule(redis_now() - 10, kLong);
  auto first = click("g1:9", 5, {"alice", "4"});
  auto again = click("g1:9", 5, {"alice", "4"});
  EXPECT_EQ(first, again);
  EXPECT_EQ(click("g1:10", 5, {"alice", "4"})[0].second, 1) << "the resend took no tokens";
  EXPECT_EQ(score("alice"), "5");
}

// What a clock step back leaves behind: a bucket stamped in Redis's future. It must neither hand
// out extra tokens nor lock the player out until the clock catches up.
TEST_F(ClickRate, ABucketStampedInTheFutureIsReanchoredWithoutExtraTokens) {
  write_schedule(redis_now() - 10, kLong);
  cmd({"HSET", keys_.partition(0, 1).rate(1), "alice",
       "0," + std::to_string(redis_now() + 3'600'000)});
  EXPECT_EQ(click("g1:1", 10, {"alice", "5"})[0].second, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  int64_t g = click("g1:2", 10, {"alice", "100"})[0].second;
  EXPECT_GE(g, 5) << "refilling again from the step, not an hour later";
  EXPECT_LE(g, 10);
}

// The buckets of a round live in one hash that expires one round after the round's end (here
// round 1 of 1,000 s: at its start + 2,000 s + the script's 5 s margin).
TEST_F(ClickRate, RateZeroIsUnlimitedAndTheRoundsBucketHashExpires) {
  int64_t epoch = redis_now() - 10;
  write_schedule(epoch, kLong);
  EXPECT_EQ(click("g1:1", 0, {"alice", "1000000"})[0].second, 1000000);
  EXPECT_EQ(cmd({"EXISTS", keys_.partition(0, 1).rate(1)}).integer, 0) << "rate 0 keeps no bucket";
  click("g1:2", 20, {"bob", "1", "carol", "3"});
  int64_t now = redis_now();
  long long pttl = cmd({"PTTL", keys_.partition(0, 1).rate(1)}).integer;
  EXPECT_GT(pttl, 0) << "the hash must expire";
  EXPECT_LE(now + pttl, epoch + 2 * kLong + 5000);
  EXPECT_GE(now + pttl, epoch + 2 * kLong + 5000 - 1000);
  EXPECT_EQ(cmd({"HLEN", keys_.partition(0, 1).rate(1)}).integer, 3)
      << "bob, carol and the hash's marker";
  EXPECT_EQ(cmd({"HGET", keys_.partition(0, 1).rate(1), "carol"}).str.rfind("17000,", 0), 0u)
      << "20 tokens, 3 taken: 17,000 millitokens";
}

}  // namespace
}  // namespace clickrace::test
