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
  // The schedule is gone (data loss) or unreadable: the closer has it re-created.
  auto gone = parse_close_reply(Reply::error("NOROUND no round is running yet"));
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->kind, CloseOutcome::Kind::no_schedule);
  auto bad = parse_close_reply(Reply::error("BADSCHEDULE the stored schedule is malformed"));
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->kind, CloseOutcome::Kind::no_schedule);
  EXPECT_FALSE(parse_close_reply(Reply::error("ERR something else")));
  EXPECT_FALSE(parse_close_reply(Reply::integer(1)));
  EXPECT_FALSE(parse_close_reply(Reply::array({Reply::string("WHAT"), Reply::string("x")})));
  EXPECT_FALSE(parse_close_reply(Reply::array({Reply::string("EARLY"), Reply::string("x")})));
  EXPECT_FALSE(parse_close_reply(Reply::array({Reply::string("CLOSED")})));
  auto written =
      parse_close_reply(Reply::array({Reply::string("WRITTEN"), Reply::string("{\"b\":2}")}));
  ASSERT_TRUE(written);
  EXPECT_EQ(written->kind, CloseOutcome::Kind::written);
  EXPECT_EQ(written->result_json, "{\"b\":2}");
  EXPECT_EQ(parse_close_reply(Reply::error("NORESULT round 3 has no written result"))->kind,
            CloseOutcome::Kind::no_result);
}

TEST(Replies, Lease) {
  EXPECT_EQ(*parse_lease_reply(Reply::integer(1)), 1);
  EXPECT_EQ(*parse_lease_reply(Reply::integer(0)), 0);
  EXPECT_EQ(*parse_lease_reply(Reply::integer(17)), 17);  // the holder's term
  EXPECT_FALSE(parse_lease_reply(Reply::integer(-1)));
  EXPECT_FALSE(parse_lease_reply(Reply::error("BADARG x")));
}

TEST(Replies, Seal) {
  auto sealed = parse_seal_reply(Reply::array(
      {Reply::string("SEALED"),
       Reply::string(R"({"top":5,"atTop":3,"names":["a","b"],"totalClicks":20,"players":7})")}));
  ASSERT_TRUE(sealed) << sealed.error().message;
  EXPECT_EQ(sealed->kind, SealReply::Kind::summary);
  EXPECT_TRUE(sealed->sealed_now);
  EXPECT_EQ(sealed->summary, (core::PartitionSummary{5, 3, {"a", "b"}, 20, 7}));
  auto done = parse_seal_reply(Reply::array(
      {Reply::string("DONE"),
       Reply::string(R"({"top":0,"atTop":0,"names":[],"totalClicks":0,"players":0})")}));
  ASSERT_TRUE(done);
  EXPECT_FALSE(done->sealed_now);
  auto early = parse_seal_reply(Reply::array({Reply::string("EARLY"), Reply::integer(12)}));
  ASSERT_TRUE(early);
  EXPECT_EQ(early->kind, SealReply::Kind::early);
  EXPECT_EQ(early->ms_left, 12);
  auto nl = parse_seal_reply(Reply::error("NOTLEADER term 9"));
  ASSERT_TRUE(nl);
  EXPECT_EQ(nl->kind, SealReply::Kind::not_leader);
  EXPECT_EQ(nl->term, 9);
  EXPECT_EQ(parse_seal_reply(Reply::error("NOROUND no copy"))->kind, SealReply::Kind::no_copy);
  EXPECT_FALSE(parse_seal_reply(Reply::error("NOTLEADER term x")));
  EXPECT_FALSE(parse_seal_reply(Reply::error("ERR other")));
  EXPECT_FALSE(parse_seal_reply(Reply::array({Reply::string("SEALED"), Reply::string("{}")})));
  // cjson's {} for an empty names table would be a bug of the script: refused.
  EXPECT_FALSE(parse_summary_json(R"({"top":0,"atTop":0,"names":{},"totalClicks":0,"players":0})"));
  EXPECT_FALSE(
      parse_summary_json(R"({"top":1,"atTop":1,"names":["a","b"],"totalClicks":1,"players":2})"));
  EXPECT_FALSE(parse_summary_json("not json"));
}

TEST(Replies, ScheduleFields) {
  core::Schedule s{1000, 500, 3, core::Segment{2000, 300, 5}, core::Segment{0, 250, 1}};
  EXPECT_EQ(schedule_fields(s, 4),
            (std::vector<std::string>{"epoch",      "1000", "len",      "500", "base",      "3",
                                      "next_epoch", "2000", "next_len", "300", "next_base", "5",
                                      "prev_epoch", "0",    "prev_len", "250", "prev_base", "1",
                                      "partitions", "4"}));
  EXPECT_EQ(schedule_fields(core::Schedule{1, 2, 1, std::nullopt, std::nullopt}, 1).size(), 6u);
}

Reply ints(std::initializer_list<long long> xs) {
  std::vector<Reply> v;
  for (long long x : xs) v.push_back(Reply::integer(x));
  return Reply::array(v);
}

TEST(Replies, ScheduleReply) {
  auto s = parse_schedule_reply(ints({1000, 500, 1, 0, 0, 0, 1234, 0, 0, 0, 0, 0}));
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->schedule.epoch, 1000);
  EXPECT_EQ(s->schedule.len, 500);
  EXPECT_FALSE(s->schedule.pending);
  EXPECT_FALSE(s->schedule.previous);
  EXPECT_EQ(s->now, 1234);
  EXPECT_FALSE(s->created);
  EXPECT_FALSE(s->closed);
  EXPECT_FALSE(parse_schedule_reply(Reply::error("BADARG")));
  EXPECT_FALSE(parse_schedule_reply(Reply::array({Reply::string("x")})));
  EXPECT_EQ(s->partitions, 1);
  auto with_s = parse_schedule_reply(ints({1000, 500, 1, 0, 0, 0, 1234, 0, 0, 0, 0, 0, 12}));
  ASSERT_TRUE(with_s);
  EXPECT_EQ(with_s->partitions, 12);
  EXPECT_FALSE(parse_schedule_reply(ints({1000, 500, 1, 0, 0, 0, 1234, 0, 0, 0, 0, 0, 0})));
  EXPECT_FALSE(parse_schedule_reply(ints({1000, 500, 1, 0, 0, 0, 1234, 0, 0, 0, 0, 0, 257})));
  // The old seven-field shape is not accepted: the closed mark would be missing unnoticed.
  EXPECT_FALSE(parse_schedule_reply(ints({1000, 500, 1, 0, 0, 0, 1234})));
}

TEST(Replies, ScheduleReplyCreatedClosedPendingAndPrevious) {
  auto s = parse_schedule_reply(ints({9000, 400, 41, 9400, 200, 42, 9001, 1, 40, 1000, 500, 1}));
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_TRUE(s->created);
  EXPECT_EQ(s->closed, 40);
  EXPECT_EQ(s->schedule.base, 41);
  EXPECT_EQ(s->schedule.pending, (core::Segment{9400, 200, 42}));
  EXPECT_EQ(s->schedule.previous, (core::Segment{1000, 500, 1}));
  EXPECT_FALSE(parse_schedule_reply(ints({9000, 400, 41, 0, 0, 0, 9001, 2, 0, 0, 0, 0})));
  EXPECT_FALSE(parse_schedule_reply(ints({9000, 400, 41, 0, 0, 0, 9001, 0, -1, 0, 0, 0})));
  EXPECT_FALSE(parse_schedule_reply(ints({9000, 400, 41, 0, 0, 0, 9001, 0, 0, 1000, 500, 0})));
}

TEST(Replies, Time) {
  EXPECT_EQ(*parse_time_reply(Reply::array({Reply::string("1700000000"), Reply::string("123456")})),
            1'700'000'000'123LL);
  EXPECT_FALSE(parse_time_reply(Reply::array({Reply::string("1")})));
  EXPECT_FALSE(parse_time_reply(Reply::array({Reply::string("x"), Reply::string("1")})));
  EXPECT_FALSE(parse_time_reply(Reply::array({Reply::string("1"), Reply::string("1000000")})));
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
