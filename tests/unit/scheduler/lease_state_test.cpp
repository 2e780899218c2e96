#include "lease_state.hpp"

#include <gtest/gtest.h>

#include "clickrace/core/clock.hpp"

namespace clickrace::scheduler {
namespace {

constexpr int64_t kLease = 3000;

struct Fixture {
  core::ManualClock clock{1'000'000};
  LeaseState lease{kLease};
  // An acquire sent now and answered `rtt` ms later.
  Transition answer(bool held, int64_t rtt = 2) {
    int64_t sent = clock.now_ms();
    clock.advance(rtt);
    return lease.on_acquire(held, sent, clock.now_ms());
  }
};

TEST(LeaseState, StartsAsFollower) {
  Fixture f;
  EXPECT_EQ(f.lease.role(), Role::follower);
  EXPECT_FALSE(f.lease.leading(f.clock.now_ms()));
  EXPECT_EQ(f.lease.changes(), 0u);
}

TEST(LeaseState, AcquireMakesLeaderUntilOneLeaseAfterTheSend) {
  Fixture f;
  int64_t sent = f.clock.now_ms();
  EXPECT_EQ(f.answer(true, 5), Transition::became_leader);
  EXPECT_EQ(f.lease.role(), Role::leader);
  EXPECT_EQ(f.lease.valid_until(), sent + kLease);  // counted from the send, not the answer
  EXPECT_EQ(f.lease.term(), 1u);
  EXPECT_EQ(f.lease.changes(), 1u);
}

TEST(LeaseState, RenewalsExtendWithoutNewTerm) {
  Fixture f;
  f.answer(true);
  for (int i = 0; i < 10; ++i) {
    f.clock.advance(f.lease.renew_interval());
    int64_t sent = f.clock.now_ms();
    EXPECT_EQ(f.answer(true), Transition::none);
    EXPECT_EQ(f.lease.valid_until(), sent + kLease);
  }
  EXPECT_TRUE(f.lease.leading(f.clock.now_ms()));
  EXPECT_EQ(f.lease.term(), 1u);
  EXPECT_EQ(f.lease.changes(), 1u);
}

TEST(LeaseState, MissedRenewalsStepDownExactlyAtExpiry) {
  Fixture f;
  int64_t sent = f.clock.now_ms();
  f.answer(true);
  int64_t expiry = sent + kLease;
  // Renewals fail (Redis down): still leading until the last confirmation runs out.
  f.clock.set(expiry - 1);
  EXPECT_EQ(f.lease.on_error(f.clock.now_ms()), Transition::none);
  EXPECT_TRUE(f.lease.leading(f.clock.now_ms()));
  f.clock.set(expiry);
  // leading() is false at expiry even before anyone calls tick(): no acting on a dead lease.
  EXPECT_FALSE(f.lease.leading(f.clock.now_ms()));
  EXPECT_EQ(f.lease.tick(f.clock.now_ms()), Transition::lost_leadership);
  EXPECT_EQ(f.lease.role(), Role::follower);
  EXPECT_EQ(f.lease.tick(f.clock.now_ms() + 10), Transition::none);
  EXPECT_EQ(f.lease.changes(), 2u);
}

TEST(LeaseState, AnotherHolderTakesTheRoleAtOnce) {
  Fixture f;
  f.answer(true);
  EXPECT_EQ(f.answer(false), Transition::lost_leadership);
  EXPECT_FALSE(f.lease.leading(f.clock.now_ms()));
  EXPECT_EQ(f.answer(false), Transition::none);  // still someone else's
}

TEST(LeaseState, NotLeaderFromFencingStepsDown) {
  Fixture f;
  f.answer(true);
  EXPECT_EQ(f.lease.on_not_leader(f.clock.now_ms()), Transition::lost_leadership);
  EXPECT_EQ(f.lease.role(), Role::follower);
  // The next successful acquire starts a new term.
  EXPECT_EQ(f.answer(true), Transition::became_leader);
  EXPECT_EQ(f.lease.term(), 2u);
}

TEST(LeaseState, AnAnswerArrivingAfterItsLeaseIsUselessIsNotLeadership) {
  Fixture f;
  EXPECT_EQ(f.answer(true, kLease), Transition::none);
  EXPECT_EQ(f.lease.role(), Role::follower);
}

TEST(LeaseState, AnOlderAnswerNeverShortensTheLease) {
  Fixture f;
  int64_t first = f.clock.now_ms();
  f.answer(true);
  f.clock.advance(1000);
  int64_t second = f.clock.now_ms();
  f.answer(true);
  EXPECT_EQ(f.lease.on_acquire(true, first, f.clock.now_ms()), Transition::none);
  EXPECT_EQ(f.lease.valid_until(), second + kLease);
}

TEST(LeaseState, StandbyTakesOverWithinOneLeaseOfTheLeadersLastRenewal) {
  // Leader A renews at t0 and dies. Redis drops its key by t0 + lease (+ the answer delay);
  // standby B polling every poll_interval holds it at most one poll later.
  LeaseState b{kLease};
  int64_t t0 = 0;
  int64_t key_gone = t0 + kLease;
  int64_t t = t0;
  while (true) {
    bool held = t >= key_gone;
    if (b.on_acquire(held, t, t + 1) == Transition::became_leader) break;
    t += b.poll_interval();
  }
  EXPECT_LE(t - key_gone, b.poll_interval());
  EXPECT_LT(b.poll_interval(), kLease / 3);
}

}  // namespace
}  // namespace clickrace::scheduler
