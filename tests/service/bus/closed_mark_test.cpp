// No click is ever stored in a round that has already closed (DESIGN §2 invariant 7), even when
// Redis's clock steps back: click.lua counts a click whose round by TIME is at or below the
// partition's sealed mark (`Pk sealed`, written when the leader seals the partition for a close)
// in the next open round. Real Redis, real script; the partitioned layout in
// click_partitions_test.cpp.
#include <gtest/gtest.h>

#include "bus_fixture.hpp"

namespace clickrace::test {
namespace {

constexpr int64_t kLong = 1'000'000;  // no boundary passes mid-test

using ClosedMark = BusTest;

std::string batch_id() {
  static int n = 0;
  return "closed-mark:" + std::to_string(++n);
}

// What a clock step back produces: rounds up to 15 were sealed while TIME now says round 11.
TEST_F(ClosedMark, AClickBehindTheClosedMarkCountsInTheNextOpenRound) {
  write_schedule(redis_now() - 10 * kLong - kLong / 2, kLong);  // round 11 by TIME
  cmd({"SET", keys_.partition(0, 1).sealed(), "15"});
  Reply r = click(batch_id(), 0, {"alice", "2"});
  ASSERT_EQ(r.type, REDIS_REPLY_ARRAY) << r.str;
  EXPECT_EQ(r.elements.at(0).integer, 16);
  EXPECT_EQ(r.elements.at(1).integer, 2);
  EXPECT_EQ(cmd({"ZSCORE", keys_.scores(16), "alice"}).str, "2");
  EXPECT_EQ(cmd({"GET", keys_.total(16)}).str, "2");
  for (int64_t closed_round = 1; closed_round <= 15; ++closed_round) {
    EXPECT_EQ(cmd({"EXISTS", keys_.scores(closed_round)}).integer, 0) << closed_round;
    EXPECT_EQ(cmd({"EXISTS", keys_.total(closed_round)}).integer, 0) << closed_round;
  }
}

// The round running now was closed (a clock step back of less than a round, right after its
// close): the click goes to the next one, not into the announced result.
TEST_F(ClosedMark, TheRunningRoundClosedMovesTheClickToTheNextRound) {
  write_schedule(redis_now() - 10 * kLong - kLong / 2, kLong);  // round 11
  cmd({"SET", keys_.partition(0, 1).sealed(), "11"});
  Reply r = click(batch_id(), 0, {"bob", "1"});
  ASSERT_EQ(r.type, REDIS_REPLY_ARRAY) << r.str;
  EXPECT_EQ(r.elements.at(0).integer, 12);
  EXPECT_EQ(cmd({"EXISTS", keys_.scores(11)}).integer, 0);
}

// A mark behind the running round changes nothing (the normal case), nor does no mark.
TEST_F(ClosedMark, AMarkBehindTheClockChangesNothing) {
  write_schedule(redis_now() - 10 * kLong - kLong / 2, kLong);  // round 11
  Reply none = click(batch_id(), 0, {"c", "1"});
  EXPECT_EQ(none.elements.at(0).integer, 11);
  cmd({"SET", keys_.partition(0, 1).sealed(), "10"});
  Reply r = click(batch_id(), 0, {"c", "1"});
  EXPECT_EQ(r.elements.at(0).integer, 11);
  EXPECT_EQ(r.elements.at(1).integer, 2);
}

// A resend of a redirected batch gets the same answer and changes nothing (exactly once).
TEST_F(ClosedMark, ARedirectedBatchIsCountedOnce) {
  write_schedule(redis_now() - 10 * kLong - kLong / 2, kLong);  // round 11
  cmd({"SET", keys_.partition(0, 1).sealed(), "13"});
  std::string id = batch_id();
  Reply first = click(id, 0, {"dave", "3"});
  Reply resend = click(id, 0, {"dave", "3"});
  EXPECT_EQ(first.elements.at(0).integer, 14);
  EXPECT_EQ(resend.elements.at(0).integer, 14);
  EXPECT_EQ(resend.elements.at(1).integer, 3);
  EXPECT_EQ(cmd({"GET", keys_.total(14)}).str, "3");
}

}  // namespace
}  // namespace clickrace::test
