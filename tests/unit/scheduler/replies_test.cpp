#include "replies.hpp"

#include <gtest/gtest.h>

namespace clickrace::scheduler {
namespace {

using redis::Reply;

TEST(Replies, CloseClosedDoneEarly) {
  auto closed = parse_close_reply(Reply::array({Reply::string("CLOSED"), Reply::string("{}")}));
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->kind, CloseOutcome::Kind::closed);
  EXPECT_EQ(closed->result_json, "{}");
  auto done = parse_close_reply(Reply::array({Reply::string("DONE"), Reply::string("{\"a\":1}")}));
  ASSERT_TRUE(done);
  EXPECT_EQ(done->kind, CloseOutcome::Kind::already_closed);
  auto early = parse_close_reply(Reply::array({Reply::string("EARLY"), Reply::integer(37)}));
  ASSERT_TRUE(early);
  EXPECT_EQ(early->kind, CloseOutcome::Kind::early);
  EXPECT_EQ(early->ms_left, 37);
}

TEST(Replies, CloseNotLeaderAndErrors) {
  auto nl = parse_close_reply(Reply::error("NOTLEADER the scheduler lease is not held"));
  ASSERT_TRUE(nl);
  EXPECT_EQ(nl->kind, CloseOutcome::Kind::not_leader);
  EXPECT_FALSE(parse_close_reply(Reply::error("NOROUND no round is running yet")));
  EXPECT_FALSE(parse_close_reply(Reply::integer(1)));
  EXPECT_FALSE(parse_close_reply(Reply::array({Reply::string("WHAT"), Reply::string("x")})));
  EXPECT_FALSE(parse_close_reply(Reply::array({Reply::string("EARLY"), Reply::string("x")})));
  EXPECT_FALSE(parse_close_reply(Reply::array({Reply::string("CLOSED")})));
}

TEST(Replies, Lease) {
  EXPECT_TRUE(*parse_lease_reply(Reply::integer(1)));
  EXPECT_FALSE(*parse_lease_reply(Reply::integer(0)));
  EXPECT_FALSE(parse_lease_reply(Reply::integer(2)));
  EXPECT_FALSE(parse_lease_reply(Reply::error("BADARG x")));
}

TEST(Replies, ScheduleReply) {
  std::vector<Reply> v;
  for (long long x : {1000LL, 500LL, 1LL, 0LL, 0LL, 0LL, 1234LL}) v.push_back(Reply::integer(x));
  auto s = parse_schedule_reply(Reply::array(v));
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->schedule.epoch, 1000);
  EXPECT_EQ(s->schedule.len, 500);
  EXPECT_FALSE(s->schedule.pending);
  EXPECT_EQ(s->now, 1234);
  EXPECT_FALSE(parse_schedule_reply(Reply::error("BADARG")));
  EXPECT_FALSE(parse_schedule_reply(Reply::array({Reply::string("x")})));
}

TEST(Replies, ScheduleHashWithPrevious) {
  std::vector<Reply> v;
  for (const char* x : {"epoch", "5000", "len", "200", "base", "6", "prev_epoch", "0", "prev_len",
                        "1000", "prev_base", "1"}) {
    v.push_back(Reply::string(x));
  }
  auto s = parse_schedule_hash(Reply::array(v));
  ASSERT_TRUE(s);
  ASSERT_TRUE(*s);
  EXPECT_EQ((*s)->base, 6);
  ASSERT_TRUE((*s)->previous);
  EXPECT_EQ((*s)->previous->len, 1000);
  auto none = parse_schedule_hash(Reply::array({}));
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
}

TEST(Replies, OptionalInt) {
  EXPECT_EQ(*parse_optional_int(Reply()), std::nullopt);
  EXPECT_EQ(*parse_optional_int(Reply::string("42")), std::optional<int64_t>(42));
  EXPECT_FALSE(parse_optional_int(Reply::string("4x")));
}

TEST(Replies, TopAndLeaderboard) {
  auto top = parse_top(Reply::array(
      {Reply::string("bob"), Reply::string("7"), Reply::string("alice"), Reply::string("3")}));
  ASSERT_TRUE(top);
  ASSERT_EQ(top->size(), 2u);
  EXPECT_EQ((*top)[0].name, "bob");
  EXPECT_EQ((*top)[0].clicks, 7);
  EXPECT_FALSE(parse_top(Reply::array({Reply::string("bob"), Reply::string("nan")})));
  EXPECT_FALSE(parse_top(Reply::array({Reply::string("bob")})));

  core::RoundWindow w{3, 1000, 1500};
  auto lb = make_leaderboard(w, 1200, *top, 10);
  EXPECT_EQ(lb.round, 3);
  EXPECT_EQ(lb.remaining_ms, 300);
  EXPECT_EQ(lb.total_clicks, 10);
  EXPECT_EQ(make_leaderboard(w, 1600, {}, 0).remaining_ms, 0);
}

}  // namespace
}  // namespace clickrace::scheduler
