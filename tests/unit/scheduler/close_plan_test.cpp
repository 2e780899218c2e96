#include "close_plan.hpp"

#include <gtest/gtest.h>

#include <vector>

// The closer's plan on an injected clock (every time an argument, Redis ms): what it closes next,
// how long it sleeps, and when it must read the schedule and the closed mark again — above all
// after Redis lost its data under a running leader (issue 12: the leader waited for the old
// round numbers; an EARLY by N rounds made it sleep N rounds).
namespace clickrace::scheduler {
namespace {

constexpr int64_t kLen = 400;

core::Schedule schedule(int64_t epoch, int64_t len = kLen, int64_t base = 1) {
  core::Schedule s;
  s.epoch = epoch;
  s.len = len;
  s.base = base;
  return s;
}

TEST(ClosePlan, PositionsAfterTheClosedMark) {
  ClosePlanner p;
  EXPECT_FALSE(p.positioned());
  p.position(schedule(0), std::nullopt);
  EXPECT_EQ(p.next(), 1);
  p.position(schedule(0), 39);
  EXPECT_EQ(p.next(), 40);
  p.on_closed(40);
  EXPECT_EQ(p.next(), 41);
  p.on_closed(12);  // an old answer never moves the plan back
  EXPECT_EQ(p.next(), 41);
  p.reset();
  EXPECT_FALSE(p.positioned());
}

TEST(ClosePlan, SleepsUntilTheRoundEndsAndNotAtAllWhenBehind) {
  ClosePlanner p;
  p.position(schedule(0), 39);  // round 40 covers [15600, 16000)
  EXPECT_EQ(p.delay(15'700), 300);
  EXPECT_EQ(p.delay(16'000), 0);
  EXPECT_EQ(p.delay(20'000), 0);  // catching up: at once
}

// A plan ahead of Redis's clock (the clock stepped back 6 rounds after round 40 closed): the
// closer looks again every round instead of sleeping six.
TEST(ClosePlan, NeverSleepsLongerThanTheRunningRound) {
  ClosePlanner p;
  p.position(schedule(0), 40);    // round 41 ends at 16400
  int64_t now = 34 * kLen + 100;  // round 35 by the clock
  EXPECT_EQ(p.delay(now), kLen);
  auto early = p.on_early(16'400 - now, now);
  EXPECT_FALSE(early.reread);  // Redis agrees with the plan: nothing to read again
  EXPECT_EQ(early.wait_ms, kLen);
}

TEST(ClosePlan, ASmallEarlyIsClockNoiseAndWaitedOut) {
  ClosePlanner p;
  p.position(schedule(0), 39);
  auto w = p.on_early(7, 16'000);  // we thought round 40 had ended; Redis: 7 ms to go
  EXPECT_FALSE(w.reread);
  EXPECT_EQ(w.wait_ms, 7);
  EXPECT_EQ(p.on_early(0, 16'000).wait_ms, 1);  // never a 0 ms spin
}

// The reported failure: after FLUSHALL at round 41 the schedule is re-created with round 1
// starting now. close_round.lua answers EARLY by 40 rounds for round 41; the closer must not sleep
// 40 rounds but read the schedule, find its plan stale and close round 1 when it ends.
TEST(ClosePlan, AnEarlyFarBeyondThePlanRereadsInsteadOfSleepingForRounds) {
  ClosePlanner p;
  core::Schedule old = schedule(0);
  p.position(old, 40);  // round 41 ends at 16400
  int64_t lost = 16'200;
  core::Schedule fresh = schedule(lost);  // re-created: round 1 is [16200, 16600)
  int64_t now = 16'400;
  auto w = p.on_early(fresh.epoch + 41 * kLen - now, now);
  EXPECT_TRUE(w.reread);
  EXPECT_LE(w.wait_ms, kLen);
  EXPECT_TRUE(p.stale(fresh, std::nullopt));
  p.position(fresh, std::nullopt);
  EXPECT_EQ(p.next(), 1);
  EXPECT_EQ(p.delay(now), 200);
}

TEST(ClosePlan, AFreshSnapshotThatAgreesKeepsThePlan) {
  ClosePlanner p;
  EXPECT_FALSE(p.stale(schedule(0), 3));  // not positioned: nothing to check
  p.position(schedule(0), 39);
  EXPECT_FALSE(p.stale(schedule(0), 39));
  EXPECT_FALSE(p.stale(schedule(0), 40));  // round 40 closed, its answer lost: retried as DONE
  p.position(schedule(0), std::nullopt);
  EXPECT_FALSE(p.stale(schedule(0), std::nullopt));  // nothing closed yet
}

TEST(ClosePlan, ALostOrMovedClosedMarkMakesThePlanStale) {
  ClosePlanner p;
  p.position(schedule(0), 40);
  EXPECT_TRUE(p.stale(schedule(0), std::nullopt));  // vanished (the schedule survived)
  EXPECT_TRUE(p.stale(schedule(0), 35));            // back: a stale replica
  EXPECT_TRUE(p.stale(schedule(0), 44));            // ahead: another leader closed more
}

TEST(ClosePlan, AChangedScheduleMakesThePlanStale) {
  ClosePlanner p;
  core::Schedule s = schedule(0);
  p.position(s, 40);
  // DEL schedule: re-created after the surviving mark (schedule.lua: base = closed + 1).
  core::Schedule recreated = schedule(16'500, kLen, 41);
  EXPECT_TRUE(p.stale(recreated, 40));
  p.position(recreated, 40);
  EXPECT_EQ(p.next(), 41);
  EXPECT_EQ(p.delay(16'500), kLen);
  // A planned length change, and its promotion, are changes too (harmless to re-plan).
  core::Schedule pending = recreated;
  pending.pending = core::Segment{17'300, 200, 43};
  EXPECT_TRUE(p.stale(pending, 40));
  EXPECT_TRUE(same_schedule(recreated, recreated));
  EXPECT_FALSE(same_schedule(recreated, pending));
}

// The closer's loop against a model of close_round.lua, on an injected clock: Redis loses
// everything at `lost` and the schedule is re-created at once (a renewal or the standby did it),
// but no renewal snapshot reaches the closer (a lease many rounds long). Round 1 of the new
// schedule is still closed when it ends, within two round lengths of the loss.
TEST(ClosePlan, AfterDataLossTheNewFirstRoundClosesWithinTwoRoundLengths) {
  struct Redis {
    core::Schedule s;
    std::optional<int64_t> closed;
  } redis{schedule(0), 39};
  ClosePlanner p;
  p.position(redis.s, redis.closed);
  int64_t now = 39 * kLen + 50;
  const int64_t lost = 41 * kLen + 123;
  std::vector<std::pair<int64_t, int64_t>> closed_at;  // (round, when)
  bool flushed = false;
  for (int step = 0; step < 1000 && closed_at.size() < 6; ++step) {
    now += p.delay(now);
    if (!flushed && now >= lost) {
      redis = Redis{schedule(lost), std::nullopt};
      flushed = true;
    }
    int64_t end = core::window_of(redis.s, p.next()).ends_at;
    if (now < end) {  // EARLY
      auto w = p.on_early(end - now, now);
      if (w.reread && p.stale(redis.s, redis.closed)) {
        p.position(redis.s, redis.closed);
        continue;
      }
      now += w.wait_ms;
      continue;
    }
    redis.closed = std::max(redis.closed.value_or(0), p.next());
    closed_at.push_back({p.next(), now});
    p.on_closed(p.next());
  }
  ASSERT_GE(closed_at.size(), 6u);
  // Rounds 40, 41 of the old schedule, then 1, 2, 3, 4 of the new one, each at its end.
  EXPECT_EQ(closed_at[0], (std::pair<int64_t, int64_t>{40, 40 * kLen}));
  EXPECT_EQ(closed_at[1], (std::pair<int64_t, int64_t>{41, 41 * kLen}));
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(closed_at[2 + i].first, 1 + i);
    EXPECT_EQ(closed_at[2 + i].second, lost + (1 + i) * kLen);
  }
  EXPECT_LE(closed_at[2].second - lost, 2 * kLen);
}

}  // namespace
}  // namespace clickrace::scheduler
