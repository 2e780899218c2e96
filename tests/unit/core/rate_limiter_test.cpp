#include "clickrace/core/rate_limiter.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <string>

#include "clickrace/core/clock.hpp"

namespace clickrace::core {
namespace {

TEST(TokenBucket, BurstThenRefillAtTheRate) {
  ManualClock clock(1000);
  TokenBucket b(20, 5, clock.now_ms());
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(b.try_take(clock.now_ms())) << i;
  EXPECT_FALSE(b.try_take(clock.now_ms()));
  clock.advance(49);  // 0.98 tokens
  EXPECT_FALSE(b.try_take(clock.now_ms()));
  clock.advance(1);  // 1.0 token
  EXPECT_TRUE(b.try_take(clock.now_ms()));
  EXPECT_FALSE(b.try_take(clock.now_ms()));
}

TEST(TokenBucket, SustainedRateIsTheConfiguredOne) {
  ManualClock clock(0);
  TokenBucket b(20, 20, clock.now_ms());
  int taken = 0;
  for (int ms = 0; ms < 10'000; ++ms) {  // a click every ms for 10 s
    clock.set(ms);
    if (b.try_take(clock.now_ms())) ++taken;
  }
  EXPECT_GE(taken, 20 + 199);  // burst + 20/s for 9.999 s
  EXPECT_LE(taken, 20 + 200);
}

TEST(TokenBucket, LongIdleCapsAtBurstWithoutOverflow) {
  TokenBucket b(1e9, 3, 0);
  EXPECT_TRUE(b.try_take(0, 3));
  constexpr int64_t kFar = std::numeric_limits<int64_t>::max();
  EXPECT_DOUBLE_EQ(b.available(kFar), 3.0);
  EXPECT_TRUE(b.try_take(kFar, 3));
  EXPECT_FALSE(b.try_take(kFar));
  TokenBucket from_min(5, 2, std::numeric_limits<int64_t>::min());
  EXPECT_DOUBLE_EQ(from_min.available(kFar), 2.0);
}

TEST(TokenBucket, ClockGoingBackwardsRefillsNothing) {
  TokenBucket b(10, 1, 10'000);
  EXPECT_TRUE(b.try_take(10'000));
  EXPECT_FALSE(b.try_take(5'000));
  EXPECT_FALSE(b.try_take(10'050));  // still measured from 10'000
  EXPECT_TRUE(b.try_take(10'100));
}

TEST(KeyedRateLimiter, KeysAreIndependent) {
  KeyedRateLimiter l(1, 2);
  EXPECT_TRUE(l.try_take("ip:1", 0));
  EXPECT_TRUE(l.try_take("ip:1", 0));
  EXPECT_FALSE(l.try_take("ip:1", 0));
  EXPECT_TRUE(l.try_take("ip:2", 0));
  EXPECT_TRUE(l.try_take("ip:1", 1000));
}

TEST(KeyedRateLimiter, BoundedKeysDropOnlyRefilledBuckets) {
  KeyedRateLimiter l(1, 1, 2);
  EXPECT_TRUE(l.try_take("a", 0));
  EXPECT_TRUE(l.try_take("b", 0));
  EXPECT_FALSE(l.try_take("c", 10));  // a and b still limited: nothing can be forgotten
  EXPECT_EQ(l.size(), 2u);
  EXPECT_FALSE(l.try_take("c", 500));  // swept at most once a second
  EXPECT_TRUE(l.try_take("c", 1500));  // a and b refilled: dropped, c admitted
  EXPECT_LE(l.size(), 2u);
  EXPECT_FALSE(l.try_take("c", 1500));
}

TEST(TokenBucket, GiveBackReturnsTokensUpToTheBurst) {
  TokenBucket b(1, 2, 0);
  EXPECT_TRUE(b.try_take(0));
  EXPECT_TRUE(b.try_take(0));
  EXPECT_FALSE(b.try_take(0));
  b.give_back(0);
  EXPECT_TRUE(b.try_take(0));
  b.give_back(0, 10);
  EXPECT_DOUBLE_EQ(b.available(0), 2.0);
}

// 30 a minute: an empty bucket is full again after 60 s, and so as good as new.
TEST(KeyedRateLimiter, EntriesExpireWithTimeNotOnlyWhenFull) {
  KeyedRateLimiter l(0.5, 30);
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(l.try_take("k" + std::to_string(i), 0));
  EXPECT_EQ(l.size(), 1000u);
  EXPECT_TRUE(l.try_take("late", 59'000));
  EXPECT_EQ(l.size(), 1001u);  // within the window: kept
  EXPECT_TRUE(l.try_take("later", 120'000));
  EXPECT_EQ(l.size(), 1u) << "keys whose buckets refilled must be forgotten";
}

TEST(KeyedRateLimiter, ExpiryKeepsKeysThatAreStillLimited) {
  KeyedRateLimiter l(0.5, 30);
  for (int i = 0; i < 30; ++i) EXPECT_TRUE(l.try_take("busy", 0));
  EXPECT_FALSE(l.try_take("busy", 0));
  for (int i = 0; i < 29; ++i) EXPECT_TRUE(l.try_take("busy", 58'000)) << i;  // 29 refilled
  EXPECT_FALSE(l.try_take("busy", 58'000));
  EXPECT_TRUE(l.try_take("other", 61'000));  // a sweep: "busy" holds 1.5 tokens, far from full
  EXPECT_EQ(l.size(), 2u);
  EXPECT_TRUE(l.try_take("busy", 61'000));
  EXPECT_FALSE(l.try_take("busy", 61'000)) << "its limit was forgotten";
}

TEST(KeyedRateLimiter, AFloodOfNewKeysHoldsAtMostTwoWindows) {
  KeyedRateLimiter l(0.5, 30);  // window 60 s
  std::size_t peak = 0;
  for (int64_t t = 0; t < 600'000; t += 10) {  // 100 new keys a second for 10 minutes
    l.try_take("k" + std::to_string(t), t);
    peak = std::max(peak, l.size());
  }
  EXPECT_EQ(l.window_ms(), 60'000);
  EXPECT_LE(peak, 2u * 6000u);
}

TEST(KeyedRateLimiter, GiveBackUndoesATake) {
  KeyedRateLimiter l(1.0 / 60, 2);
  EXPECT_TRUE(l.try_take("a", 0));
  EXPECT_TRUE(l.try_take("a", 0));
  EXPECT_FALSE(l.try_take("a", 0));
  l.give_back("a", 0);
  EXPECT_TRUE(l.try_take("a", 0));
  l.give_back("unknown", 0);  // nothing held: nothing happens
  EXPECT_EQ(l.size(), 1u);
}

}  // namespace
}  // namespace clickrace::core
