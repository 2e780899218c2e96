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

}  // namespace
}  // namespace clickrace::test
