#include <gtest/gtest.h>

#include "bus_fixture.hpp"
#include "clickrace/bus/events.hpp"
#include "clickrace/core/round_math.hpp"

// schedule.lua when the configured length goes back before a planned change is reached: the
// change is cancelled, so no round runs at the abandoned length (docs/bus.md, schedule.lua).
namespace clickrace::test {
namespace {

constexpr int64_t kLong = 1'000'000;  // rounds long enough that no boundary passes mid-test

using ScheduleRevert = BusTest;

std::vector<std::pair<std::string, std::string>> hgetall(const Reply& r) {
  std::vector<std::pair<std::string, std::string>> out;
  for (size_t i = 0; i + 1 < r.elements.size(); i += 2) {
    out.emplace_back(r.elements[i].str, r.elements[i + 1].str);
  }
  return out;
}

// {epoch, len, base, next_epoch, next_len, next_base} of a schedule.lua reply (without `now`).
std::vector<int64_t> head(const Reply& r) {
  std::vector<int64_t> out;
  for (size_t i = 0; i < 6 && i < r.elements.size(); ++i) out.push_back(r.elements[i].integer);
  return out;
}

TEST_F(ScheduleRevert, GoingBackBeforeTheBoundaryCancelsThePendingChange) {
  int64_t epoch = redis_now() - 2 * kLong - 10;  // round 3 running
  write_schedule(epoch, kLong);
  Reply planned = eval(bus::lua::schedule, {keys_.schedule()}, {"200"});
  ASSERT_EQ(planned.elements.size(), 12u) << planned.str;
  ASSERT_EQ(planned.elements[4].integer, 200);

  Reply back = eval(bus::lua::schedule, {keys_.schedule()}, {std::to_string(kLong)});
  ASSERT_EQ(back.elements.size(), 12u) << back.str;
  EXPECT_EQ(head(back), (std::vector<int64_t>{epoch, kLong, 1, 0, 0, 0}));
  for (const char* f : {"next_epoch", "next_len", "next_base", "prev_epoch"}) {
    EXPECT_EQ(cmd({"HEXISTS", keys_.schedule(), f}).integer, 0) << f;
  }
  // The rounds after the abandoned boundary keep the running length.
  auto s = bus::schedule_from_hash(hgetall(cmd({"HGETALL", keys_.schedule()})));
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->pending);
  EXPECT_EQ(core::window_of(*s, 4), (core::RoundWindow{4, epoch + 3 * kLong, epoch + 4 * kLong}));

  // Asking again plans the change afresh, at the end of the round running now.
  Reply again = eval(bus::lua::schedule, {keys_.schedule()}, {"200"});
  EXPECT_EQ(head(again), (std::vector<int64_t>{epoch, kLong, 1, epoch + 3 * kLong, 200, 4}));
}

TEST_F(ScheduleRevert, ARequestForThePendingLengthKeepsIt) {
  int64_t epoch = redis_now() - 10;
  write_schedule(epoch, kLong);
  Reply planned = eval(bus::lua::schedule, {keys_.schedule()}, {"200"});
  Reply same = eval(bus::lua::schedule, {keys_.schedule()}, {"200"});
  EXPECT_EQ(head(same), head(planned));
  EXPECT_EQ(head(same), (std::vector<int64_t>{epoch, kLong, 1, epoch + kLong, 200, 2}));
}

// A reached change is history, not a plan: it is promoted, and going back is a new change at
// the next boundary. Cancelling that one keeps the promoted segment and its prev_*.
TEST_F(ScheduleRevert, AReachedChangeIsPromotedNotCancelled) {
  int64_t epoch = redis_now() - 2 * kLong - 10;
  write_schedule(epoch, kLong);
  int64_t boundary = epoch + 2 * kLong;  // passed 10 ms ago: round 3 runs at kLong / 2
  cmd({"HSET", keys_.schedule(), "next_epoch", std::to_string(boundary), "next_len",
       std::to_string(kLong / 2), "next_base", "3"});

  Reply back = eval(bus::lua::schedule, {keys_.schedule()}, {std::to_string(kLong)});
  ASSERT_EQ(back.elements.size(), 12u) << back.str;
  EXPECT_EQ(head(back),
            (std::vector<int64_t>{boundary, kLong / 2, 3, boundary + kLong / 2, kLong, 4}));

  Reply cancel = eval(bus::lua::schedule, {keys_.schedule()}, {std::to_string(kLong / 2)});
  EXPECT_EQ(head(cancel), (std::vector<int64_t>{boundary, kLong / 2, 3, 0, 0, 0}));
  auto s = bus::schedule_from_hash(hgetall(cmd({"HGETALL", keys_.schedule()})));
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->pending);
  ASSERT_TRUE(s->previous);
  EXPECT_EQ(*s->previous, (core::Segment{epoch, kLong, 1}));
  EXPECT_EQ(core::window_of(*s, 2), (core::RoundWindow{2, epoch + kLong, boundary}));
}

// The score partitions S (ARGV[2]): stored when the schedule is created, fixed for its life.
using SchedulePartitions = BusTest;

TEST_F(SchedulePartitions, StoredAtCreationAndKept) {
  Reply r = eval(bus::lua::schedule, {keys_.schedule(), keys_.closed()}, {"500", "4"});
  ASSERT_EQ(r.elements.size(), 13u) << r.str;
  EXPECT_EQ(r.elements[7].integer, 1);  // created
  EXPECT_EQ(r.elements[12].integer, 4);
  EXPECT_EQ(cmd({"HGET", keys_.schedule(), "partitions"}).str, "4");
  // Another setting later (a restarted scheduler) is ignored: the schedule's S answers.
  Reply again = eval(bus::lua::schedule, {keys_.schedule(), keys_.closed()}, {"500", "12"});
  ASSERT_EQ(again.elements.size(), 13u) << again.str;
  EXPECT_EQ(again.elements[7].integer, 0);
  EXPECT_EQ(again.elements[12].integer, 4);
  EXPECT_EQ(cmd({"HGET", keys_.schedule(), "partitions"}).str, "4");
  // Without ARGV[2] the reply keeps its 12 fields.
  EXPECT_EQ(eval(bus::lua::schedule, {keys_.schedule()}, {"500"}).elements.size(), 12u);
}

TEST_F(SchedulePartitions, AScheduleWithoutTheFieldHasOnePartition) {
  write_schedule(redis_now(), kLong);
  Reply r = eval(bus::lua::schedule, {keys_.schedule()}, {std::to_string(kLong), "8"});
  ASSERT_EQ(r.elements.size(), 13u) << r.str;
  EXPECT_EQ(r.elements[12].integer, 1);
  EXPECT_EQ(cmd({"HEXISTS", keys_.schedule(), "partitions"}).integer, 0);
}

TEST_F(SchedulePartitions, BadCountsAreRejected) {
  for (const char* bad : {"0", "257", "-1", "x", "1000"}) {
    Reply r = eval(bus::lua::schedule, {keys_.schedule()}, {"500", bad});
    ASSERT_TRUE(r.is_error());
    EXPECT_EQ(r.str.rfind("BADARG ", 0), 0u) << r.str;
  }
  EXPECT_EQ(cmd({"EXISTS", keys_.schedule()}).integer, 0);
}

// The schedule alone was lost with the closed mark at 6. S = 1: round 7 was sealed (its keys
// sit beside the mark) — it is not restarted under its id. S > 1: its partitions' keys are
// elsewhere, the check is skipped and round 7 runs again (docs/bus.md).
TEST_F(SchedulePartitions, ALostScheduleEndsASealedRoundOnlyWithOnePartition) {
  cmd({"SET", keys_.closed(), "6"});
  cmd({"SET", keys_.partition(0, 1).summary(7), "{}"});
  Reply one = eval(bus::lua::schedule, {keys_.schedule(), keys_.closed()}, {"1000", "1"});
  ASSERT_EQ(one.elements.size(), 13u) << one.str;
  EXPECT_EQ(one.elements[2].integer, 8);   // base
  EXPECT_EQ(one.elements[11].integer, 7);  // prev_base: round 7 ended now

  cmd({"DEL", keys_.schedule()});
  cmd({"SET", keys_.total(7), "5"});
  Reply many = eval(bus::lua::schedule, {keys_.schedule(), keys_.closed()}, {"1000", "4"});
  ASSERT_EQ(many.elements.size(), 13u) << many.str;
  EXPECT_EQ(many.elements[2].integer, 7);
  EXPECT_EQ(many.elements[11].integer, 0);
}

}  // namespace
}  // namespace clickrace::test
