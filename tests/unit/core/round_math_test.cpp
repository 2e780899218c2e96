#include "clickrace/core/round_math.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace clickrace::core {
namespace {

constexpr int64_t kEpoch = 1'700'000'000'000;

Schedule sched(int64_t epoch = kEpoch, int64_t len = 1000, int64_t base = 1) {
  Schedule s;
  s.epoch = epoch;
  s.len = len;
  s.base = base;
  return s;
}

TEST(RoundMath, BoundariesOfTheFirstRounds) {
  Schedule s = sched();
  EXPECT_EQ(round_at(s, kEpoch), (RoundWindow{1, kEpoch, kEpoch + 1000}));
  EXPECT_EQ(round_at(s, kEpoch + 999).id, 1);
  EXPECT_EQ(round_at(s, kEpoch + 1000), (RoundWindow{2, kEpoch + 1000, kEpoch + 2000}));
  EXPECT_EQ(round_at(s, kEpoch + 1999).id, 2);
  EXPECT_EQ(round_at(s, kEpoch + 2000).id, 3);
}

TEST(RoundMath, AroundEveryBoundaryOfRoundK) {
  Schedule s = sched(kEpoch, 700, 5);
  for (int64_t id = 5; id < 50; ++id) {
    RoundWindow w = window_of(s, id);
    EXPECT_EQ(w.ends_at - w.starts_at, 700);
    EXPECT_EQ(round_at(s, w.starts_at - 1).id, id == 5 ? 5 : id - 1);  // before epoch: base
    EXPECT_EQ(round_at(s, w.starts_at), w);
    EXPECT_EQ(round_at(s, w.ends_at - 1), w);
    EXPECT_EQ(round_at(s, w.ends_at).id, id + 1);
  }
}

TEST(RoundMath, BeforeTheEpochAnswersTheBaseRoundNotYetStarted) {
  Schedule s = sched(kEpoch, 1000, 1);
  RoundWindow w = round_at(s, kEpoch - 5000);
  EXPECT_EQ(w, (RoundWindow{1, kEpoch, kEpoch + 1000}));
  EXPECT_LT(kEpoch - 5000, w.starts_at);  // how a caller tells "not started"
  EXPECT_EQ(round_at(s, std::numeric_limits<int64_t>::min()).id, 1);
}

TEST(RoundMath, PendingChangeAppliesFromItsBoundary) {
  Schedule s = sched();
  // At 2.5 s into the schedule (round 3), ask for 300 ms rounds: they start when round 3 ends.
  Schedule c = with_length_change(s, 300, kEpoch + 2500);
  ASSERT_TRUE(c.pending);
  EXPECT_EQ(*c.pending, (Segment{kEpoch + 3000, 300, 4}));
  EXPECT_EQ(c.len, 1000);
  EXPECT_EQ(round_at(c, kEpoch + 2999), (RoundWindow{3, kEpoch + 2000, kEpoch + 3000}));
  EXPECT_EQ(round_at(c, kEpoch + 3000), (RoundWindow{4, kEpoch + 3000, kEpoch + 3300}));
  EXPECT_EQ(round_at(c, kEpoch + 3299).id, 4);
  EXPECT_EQ(round_at(c, kEpoch + 3300).id, 5);
  EXPECT_EQ(window_of(c, 3), (RoundWindow{3, kEpoch + 2000, kEpoch + 3000}));
  EXPECT_EQ(window_of(c, 6), (RoundWindow{6, kEpoch + 3600, kEpoch + 3900}));
}

TEST(RoundMath, GoingBackToTheRunningLengthCancelsAPendingChange) {
  Schedule c = with_length_change(sched(), 300, kEpoch + 10);
  ASSERT_TRUE(c.pending);
  Schedule back = with_length_change(c, sched().len, kEpoch + 20);
  EXPECT_FALSE(back.pending);
  EXPECT_EQ(round_at(back, kEpoch + 5000).id, round_at(sched(), kEpoch + 5000).id);
}

TEST(RoundMath, LengthChangeIsIgnoredWhenSameOrAlreadyPending) {
  Schedule s = sched();
  Schedule same = with_length_change(s, 1000, kEpoch + 10);
  EXPECT_FALSE(same.pending);
  Schedule c = with_length_change(s, 300, kEpoch + 10);
  Schedule again = with_length_change(c, 500, kEpoch + 20);
  EXPECT_EQ(*again.pending, *c.pending);
  EXPECT_FALSE(with_length_change(s, 0, kEpoch).pending);
  EXPECT_FALSE(with_length_change(s, -5, kEpoch).pending);
}

TEST(RoundMath, PromotionKeepsEveryAnswerAndRemembersThePreviousSegment) {
  Schedule c = with_length_change(sched(), 300, kEpoch + 2500);
  EXPECT_EQ(promote(c, kEpoch + 2999).pending, c.pending);  // not reached: unchanged
  Schedule p = promote(c, kEpoch + 3000);
  EXPECT_FALSE(p.pending);
  EXPECT_EQ(p.current(), (Segment{kEpoch + 3000, 300, 4}));
  ASSERT_TRUE(p.previous);
  EXPECT_EQ(*p.previous, (Segment{kEpoch, 1000, 1}));
  for (int64_t t = kEpoch + 3000; t < kEpoch + 6000; t += 37) {
    EXPECT_EQ(round_at(p, t), round_at(c, t)) << t;
  }
  for (int64_t id = 1; id < 20; ++id) EXPECT_EQ(window_of(p, id), window_of(c, id)) << id;
  // A new change can follow a promoted one.
  Schedule next = with_length_change(p, 900, kEpoch + 3100);
  ASSERT_TRUE(next.pending);
  EXPECT_EQ(*next.pending, (Segment{kEpoch + 3300, 900, 5}));
}

TEST(RoundMath, ChangeRequestedBeforeTheEpochAppliesAfterTheFirstRound) {
  Schedule c = with_length_change(sched(), 300, kEpoch - 100);
  ASSERT_TRUE(c.pending);
  EXPECT_EQ(*c.pending, (Segment{kEpoch + 1000, 300, 2}));
}

TEST(RoundMath, MakeSchedule) {
  Schedule s = make_schedule(kEpoch, 30000);
  EXPECT_EQ(s.current(), (Segment{kEpoch, 30000, 1}));
  EXPECT_TRUE(s.valid());
  EXPECT_FALSE(Schedule{}.valid());
}

TEST(RoundMath, FarFutureRoundsDoNotOverflow) {
  Schedule s = sched(kEpoch, 50);
  // A thousand years of 50 ms rounds.
  int64_t t = kEpoch + int64_t{1000} * 365 * 24 * 3600 * 1000;
  RoundWindow w = round_at(s, t);
  EXPECT_EQ(w.id, 1 + (t - kEpoch) / 50);
  EXPECT_LE(w.starts_at, t);
  EXPECT_GT(w.ends_at, t);
  EXPECT_EQ(window_of(s, w.id), w);

  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  RoundWindow last = round_at(s, kMax);
  EXPECT_GT(last.id, 0);
  EXPECT_LE(last.starts_at, kMax);
  EXPECT_GE(last.ends_at, last.starts_at);
  RoundWindow huge = window_of(s, kMax);  // saturates instead of wrapping negative
  EXPECT_EQ(huge.starts_at, kMax);
  EXPECT_EQ(huge.ends_at, kMax);
}

}  // namespace
}  // namespace clickrace::core
