#include "clickrace/core/rate_limiter.hpp"

#include <gtest/gtest.h>

#include <limits>

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

}  // namespace
}  // namespace clickrace::core
