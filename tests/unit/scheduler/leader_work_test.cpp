#include "leader_work.hpp"

#include <gtest/gtest.h>

#include "clickrace/core/clock.hpp"
#include "lease_state.hpp"

// The interleavings between the lease state machine and the leader's work, driven as the
// Scheduler drives them (its timers and Redis answers replaced by explicit steps on a fake clock).
namespace clickrace::scheduler {
namespace {

constexpr int64_t kLease = 3000;
using Action = LeaderWork::Action;

struct Leader {
  core::ManualClock clock{1'000'000};
  LeaseState lease{kLease};
  LeaderWork work;

  int64_t now() const { return clock.now_ms(); }
  // An acquire sent now and answered 2 ms later; becoming leader starts the work.
  void acquire() {
    int64_t sent = now();
    clock.advance(2);
    Transition t = lease.on_acquire(true, sent, now());
    ASSERT_EQ(t, Transition::became_leader);
    ASSERT_EQ(work.on_became_leader(lease.term()), Action::start);
  }
  // The belief lapses: a renewal went out 50 ms before it ran out and is still unanswered, and
  // the expiry timer (due at the same instant) has not run yet. Returns the renewal's send time.
  int64_t lapse() {
    clock.set(lease.valid_until() - 50);
    int64_t renewal_sent = now();
    clock.set(lease.valid_until());
    EXPECT_FALSE(lease.leading(now()));
    EXPECT_EQ(lease.role(), Role::leader);
    return renewal_sent;
  }
  // The late renewal answer is handled before the expiry timer: the lease is extended and the
  // role never changes, so no became_leader will restart anything.
  void late_renewal(int64_t sent) {
    uint64_t term = lease.term();
    clock.advance(5);
    ASSERT_EQ(lease.on_acquire(true, sent, now()), Transition::none);
    ASSERT_TRUE(lease.leading(now()));
    ASSERT_EQ(lease.term(), term);
    // The expiry timer, re-armed by the answer, finds nothing to do later either.
    ASSERT_EQ(lease.tick(now()), Transition::none);
  }
};

TEST(LeaderWork, AStartAnsweredInALapseIsStartedAgainByTheLateRenewal) {
  Leader l;
  l.acquire();
  uint64_t term = l.lease.term();
  int64_t renewal = l.lapse();
  // The start's schedule reply lands in the lapse: it may not be acted on, so it is dropped...
  EXPECT_FALSE(l.work.on_start_answer(term, l.lease.leading(l.now())));
  EXPECT_FALSE(l.work.starting());
  l.late_renewal(renewal);
  // ...and the confirmation starts again instead of waiting for a start that never comes.
  EXPECT_EQ(l.work.on_confirmed(l.lease.term(), /*closer_running=*/false), Action::start);
  EXPECT_TRUE(l.work.starting());
  EXPECT_TRUE(l.work.on_start_answer(term, l.lease.leading(l.now())));
  EXPECT_EQ(l.work.on_confirmed(l.lease.term(), /*closer_running=*/true), Action::refresh);
}

TEST(LeaderWork, ACloseDueInALapseLooksAgainAndClosesAfterTheLateRenewal) {
  Leader l;
  l.acquire();
  ASSERT_TRUE(l.work.on_start_answer(l.lease.term(), true));  // the closer runs
  int64_t renewal = l.lapse();
  // The close deadline comes in the lapse: no close is sent, but one is due again shortly
  // (well within a renewal interval, so the round is closed late by a few ms at most).
  auto wait = close_wait(l.lease.leading(l.now()), kLease);
  ASSERT_TRUE(wait);
  EXPECT_GT(*wait, 0);
  EXPECT_LT(*wait, l.lease.renew_interval());
  l.late_renewal(renewal);
  l.clock.advance(*wait);
  EXPECT_FALSE(close_wait(l.lease.leading(l.now()), kLease));  // sent now
  EXPECT_EQ(l.work.on_confirmed(l.lease.term(), true), Action::refresh);
}

TEST(LeaderWork, ALapseEndingInDemotionStartsOnceInTheNextTerm) {
  Leader l;
  l.acquire();
  uint64_t first = l.lease.term();
  l.lapse();
  ASSERT_EQ(l.lease.tick(l.now()), Transition::lost_leadership);  // the expiry timer
  l.work.on_lost_leadership();
  EXPECT_FALSE(l.work.starting());
  l.clock.advance(100);
  l.acquire();
  uint64_t second = l.lease.term();
  ASSERT_NE(first, second);
  // The first term's answer arrives late: ignored, and the new term's start stays in flight.
  EXPECT_FALSE(l.work.on_start_answer(first, true));
  EXPECT_TRUE(l.work.starting());
  EXPECT_EQ(l.work.on_confirmed(second, false), Action::none);  // one start at a time
  EXPECT_TRUE(l.work.on_start_answer(second, true));
}

TEST(LeaderWork, AFailedStartIsRetriedAtTheNextConfirmation) {
  Leader l;
  l.acquire();
  uint64_t term = l.lease.term();
  EXPECT_EQ(l.work.on_confirmed(term, false), Action::none);  // still in flight
  EXPECT_FALSE(l.work.on_start_answer(term, false));          // Redis error
  EXPECT_EQ(l.work.on_confirmed(term, false), Action::start);
  EXPECT_TRUE(l.work.on_start_answer(term, true));
}

TEST(LeaderWork, CloseWaitIsShortAndNeverZero) {
  EXPECT_FALSE(close_wait(true, kLease));
  for (int64_t lease : {1, 30, 300, 900, 3000, 600000}) {
    auto w = close_wait(false, lease);
    ASSERT_TRUE(w);
    EXPECT_GE(*w, 5);
    EXPECT_LE(*w, 100);
  }
}

}  // namespace
}  // namespace clickrace::scheduler
