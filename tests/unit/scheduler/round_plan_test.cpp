#include "round_plan.hpp"

#include <gtest/gtest.h>

namespace clickrace::scheduler {
namespace {

core::Schedule schedule(int64_t epoch, int64_t len, int64_t base = 1) {
  core::Schedule s;
  s.epoch = epoch;
  s.len = len;
  s.base = base;
  return s;
}

TEST(RoundPlan, NothingClosedStartsAtTheFirstRound) {
  auto s = schedule(10'000, 1000);
  EXPECT_EQ(next_to_close(s, std::nullopt), 1);
  EXPECT_EQ(close_deadline(s, 1), 11'000);
}

TEST(RoundPlan, NextIsClosedPlusOneWithAbsoluteDeadlines) {
  auto s = schedule(10'000, 1000);
  EXPECT_EQ(next_to_close(s, 41), 42);
  // Absolute: round k ends at epoch + k*len, however late earlier closes ran.
  EXPECT_EQ(close_deadline(s, 42), 10'000 + 42 * 1000);
  EXPECT_EQ(close_deadline(s, 43) - close_deadline(s, 42), 1000);
}

TEST(RoundPlan, NeverBeforeTheSchedulesBase) {
  // After a length change was promoted the main segment starts at round 50; the previous segment
  // is remembered, so rounds from its base on are still closable.
  auto s = schedule(60'000, 500, 50);
  EXPECT_EQ(next_to_close(s, std::nullopt), 50);
  EXPECT_EQ(next_to_close(s, 3), 50);
  s.previous = core::Segment{11'000, 1000, 1};
  EXPECT_EQ(next_to_close(s, std::nullopt), 1);
  EXPECT_EQ(next_to_close(s, 3), 4);
}

TEST(RoundPlan, DueRoundsCatchUpOldestFirst) {
  auto s = schedule(0, 100);
  // Closed through 4; the scheduler was down until t = 812: rounds 5..8 ended (8 ends at 800).
  auto due = due_rounds(s, next_to_close(s, 4), 812, 100);
  EXPECT_EQ(due, (std::vector<int64_t>{5, 6, 7, 8}));
  EXPECT_EQ(due_rounds(s, 5, 812, 2), (std::vector<int64_t>{5, 6}));
  // Exactly at the boundary the round has ended; one ms before, not yet.
  EXPECT_EQ(due_rounds(s, 9, 900, 100), (std::vector<int64_t>{9}));
  EXPECT_TRUE(due_rounds(s, 9, 899, 100).empty());
}

TEST(RoundPlan, PendingLengthChangeMovesDeadlinesOnlyFromItsBoundary) {
  auto s = schedule(0, 1000);
  s.pending = core::Segment{5000, 200, 6};  // rounds 1..5 of 1 s, then 200 ms
  EXPECT_EQ(close_deadline(s, 5), 5000);
  EXPECT_EQ(close_deadline(s, 6), 5200);
  EXPECT_EQ(due_rounds(s, 4, 5400, 100), (std::vector<int64_t>{4, 5, 6, 7}));
}

TEST(RoundPlan, DelayUsesTheRedisClockOffset) {
  // Redis is 250 ms ahead of the local clock.
  EXPECT_EQ(delay_until(10'000, 9'000, 250), 750);
  EXPECT_EQ(delay_until(10'000, 9'900, 250), 0);  // already past: never negative
}

TEST(ClockOffset, MidpointOfTheRoundTrip) {
  ClockOffset o;
  EXPECT_FALSE(o.known());
  o.add_sample(1000, 1010, 50'005);
  EXPECT_TRUE(o.known());
  EXPECT_EQ(o.offset(), 49'000);
  EXPECT_EQ(o.redis_now(2000), 51'000);
}

TEST(ClockOffset, PrefersTheTighterSampleButForgetsOldOnes) {
  ClockOffset o;
  o.add_sample(0, 2, 101);     // rtt 2: offset 100
  o.add_sample(10, 110, 190);  // rtt 100: offset 130 +- 50, agrees but less precise: ignored
  EXPECT_EQ(o.offset(), 100);
  // Loose samples that agree with it (offset 120 +- 50): the precise one ages out after a while.
  for (int i = 0; i < 7; ++i) o.add_sample(200 + i, 300 + i, 370 + i);
  EXPECT_EQ(o.offset(), 100);
  for (int i = 7; i < 20; ++i) o.add_sample(200 + i, 300 + i, 370 + i);
  EXPECT_EQ(o.offset(), 120);
}

// Redis's wall clock is set back (or forward): the first sample that contradicts the estimate
// by more than both round trips is taken at once, not after the precise old one ages out.
TEST(ClockOffset, AClockStepIsTakenAtOnce) {
  ClockOffset o;
  o.add_sample(0, 2, 101);                      // offset 100, rtt 2
  o.add_sample(1000, 1010, 1005 - 5000 + 100);  // Redis stepped back 5 s: offset -4900, rtt 10
  EXPECT_EQ(o.offset(), -4900);
  EXPECT_EQ(o.redis_now(2000), -2900);
  o.add_sample(3000, 3004, 3002 + 3000);  // and forward: offset 3000
  EXPECT_EQ(o.offset(), 3000);
  // Noise within the round trips is not a step.
  o.add_sample(4000, 4040, 4020 + 3000 + 15);
  EXPECT_EQ(o.offset(), 3000);
}

}  // namespace
}  // namespace clickrace::scheduler
