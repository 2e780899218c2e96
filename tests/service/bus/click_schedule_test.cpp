#include <gtest/gtest.h>

#include "bus_fixture.hpp"
#include "clickrace/bus/events.hpp"
#include "clickrace/core/round_math.hpp"

namespace clickrace::test {
namespace {

constexpr int64_t kLong = 1'000'000;  // rounds long enough that no boundary passes mid-test

std::vector<std::pair<std::string, std::string>> hgetall(const Reply& r) {
  std::vector<std::pair<std::string, std::string>> out;
  for (size_t i = 0; i + 1 < r.elements.size(); i += 2) {
    out.emplace_back(r.elements[i].str, r.elements[i + 1].str);
  }
  return out;
}

using ClickScript = BusTest;

// A fresh click.lua batch id (as a gateway builds them: instance:sequence).
std::string batch_id() {
  static int n = 0;
  return "test:" + std::to_string(++n);
}

TEST_F(ClickScript, NoScheduleAnswersNoRound) {
  Reply r = click(batch_id(), 0, {"alice", "1"});
  ASSERT_TRUE(r.is_error());
  EXPECT_EQ(r.str, "NOROUND no round is running yet");
}

TEST_F(ClickScript, BatchIsAttributedToTheCurrentRoundWithTotals) {
  int64_t now = redis_now();
  write_schedule(now - 5 * kLong - kLong / 2, kLong);  // round 6 is running
  Reply r = click(batch_id(), 0, {"alice", "3", "bob", "2", "alice", "4"});
  ASSERT_EQ(r.type, REDIS_REPLY_ARRAY) << r.str;
  ASSERT_EQ(r.elements.size(), 7u);  // round, then (total, granted) per pair
  EXPECT_EQ(r.elements[0].integer, 6);
  EXPECT_EQ(r.elements[1].integer, 3);
  EXPECT_EQ(r.elements[2].integer, 3);
  EXPECT_EQ(r.elements[3].integer, 2);
  EXPECT_EQ(r.elements[4].integer, 2);
  EXPECT_EQ(r.elements[5].integer, 7);
  EXPECT_EQ(r.elements[6].integer, 4);
  EXPECT_EQ(cmd({"GET", keys_.total(6)}).str, "9");
  EXPECT_EQ(cmd({"ZSCORE", keys_.scores(6), "alice"}).str, "7");
  EXPECT_EQ(cmd({"ZSCORE", keys_.scores(6), "bob"}).str, "2");

  Reply again = click(batch_id(), 0, {"bob", "1"});
  EXPECT_EQ(again.elements.at(1).integer, 3);
  EXPECT_EQ(cmd({"GET", keys_.total(6)}).str, "10");
}

TEST_F(ClickScript, RoundAgreesWithTheCppRoundMath) {
  int64_t now = redis_now();
  write_schedule(now - 123'456, 777, 40);
  Reply r = click(batch_id(), 0, {"x", "1"});
  int64_t after = redis_now();
  auto s = bus::schedule_from_hash(hgetall(cmd({"HGETALL", keys_.schedule()})));
  ASSERT_TRUE(s);
  int64_t lo = core::round_at(*s, now).id, hi = core::round_at(*s, after).id;
  EXPECT_GE(r.elements.at(0).integer, lo);
  EXPECT_LE(r.elements.at(0).integer, hi);
}

TEST_F(ClickScript, PendingChangeIsUsedOnceReached) {
  int64_t now = redis_now();
  // Main segment says round ~1001; the reached change says round 500 started 1 s ago.
  write_schedule(now - 1000 * kLong, kLong);
  cmd({"HSET", keys_.schedule(), "next_epoch", std::to_string(now - 1000), "next_len",
       std::to_string(kLong), "next_base", "500"});
  Reply r = click(batch_id(), 0, {"a", "1"});
  EXPECT_EQ(r.elements.at(0).integer, 500);
}

TEST_F(ClickScript, BeforeTheEpochCountsInTheFirstRound) {
  write_schedule(redis_now() + kLong, kLong, 1);
  Reply r = click(batch_id(), 0, {"a", "2"});
  EXPECT_EQ(r.elements.at(0).integer, 1);
}

TEST_F(ClickScript, BadArgumentsAreRejectedAndWriteNothing) {
  write_schedule(redis_now() - 10, kLong);
  // ARGV after the batch id: rate, S, r, then pairs (the KEYS are built from the pairs).
  const std::vector<std::vector<std::string>> bad = {
      {},
      {"0"},
      {"0", "1"},
      {"0", "1", "0"},
      {"0", "1", "0", "alice"},
      {"alice", "1"},            // no rate, S, r
      {"1", "0", "alice", "1"},  // no rate
      {"-1", "1", "0", "alice", "1"},
      {"1.5", "1", "0", "alice", "1"},
      {"abc", "1", "0", "alice", "1"},
      {"99999999", "1", "0", "alice", "1"},
      {"0", "0", "0", "alice", "1"},    // S 0
      {"0", "x", "0", "alice", "1"},    // S not a number
      {"0", "1", "-1", "alice", "1"},   // r negative
      {"0", "1", "1.5", "alice", "1"},  // r not an integer
      {"0", "1", "0", "alice", "0"},
      {"0", "1", "0", "alice", "-1"},
      {"0", "1", "0", "alice", "1.5"},
      {"0", "1", "0", "alice", "abc"},
      {"0", "1", "0", "alice", "1e3"},
      {"0", "1", "0", "alice", "01"},
      {"0", "1", "0", "alice", "1000001"},
      {"0", "1", "0", "", "1"},
      {"0", "1", "0", std::string(65, 'n'), "1"},
      {"0", "1", "0", "ok", "1", "alice", "x"},  // one bad pair spoils the batch
  };
  auto pk = keys_.partition(0, 1);
  for (const auto& rest : bad) {
    std::vector<std::string> args{"b1"};
    args.insert(args.end(), rest.begin(), rest.end());
    Reply r = eval(bus::lua::click, click_keys(pk, "b1", 0), args);
    ASSERT_TRUE(r.is_error()) << args.size();
    EXPECT_EQ(r.str.rfind("BADARG ", 0), 0u) << r.str;
  }
  for (const std::string& id : {std::string(), std::string(129, 'b')}) {
    Reply r = click_on(pk, id, 0, 1, 0, {"alice", "1"});
    EXPECT_EQ(r.str.rfind("BADARG ", 0), 0u) << r.str;
  }
  EXPECT_TRUE(cmd({"GET", keys_.total(1)}).is_nil());
  EXPECT_EQ(cmd({"EXISTS", keys_.scores(1)}).integer, 0);
  EXPECT_TRUE(cmd({"GET", pk.click_batch("b1")}).is_nil()) << "a rejected batch is not stored";
  Reply ok = click("b1", 0, {"alice", "1000000"});
  EXPECT_EQ(ok.elements.at(1).integer, 1000000);
}

// The declared KEYS must be the partition's layout for this batch and round guess: a caller that
// mixes partitions (or forgets a round's bucket hash) is refused before anything is written.
TEST_F(ClickScript, KeysThatAreNotThePartitionsLayoutAreRejected) {
  write_schedule(redis_now() - 10, kLong);
  auto pk = keys_.partition(0, 1);
  const std::vector<std::string> args{"b2", "0", "1", "0", "alice", "1", "bob", "2"};
  auto good = click_keys(pk, "b2", 0);
  auto other = keys_.partition(1, 4);
  for (size_t i = 0; i < good.size(); ++i) {
    auto keys = good;
    keys[i] = other.prefix() + keys[i].substr(pk.prefix().size());
    Reply r = eval(bus::lua::click, keys, args);
    EXPECT_EQ(r.str.rfind("BADARG ", 0), 0u) << i << ": " << r.str;
  }
  auto missing = good;
  missing.pop_back();
  EXPECT_EQ(eval(bus::lua::click, missing, args).str.rfind("BADARG ", 0), 0u);
  auto wrong_round = click_keys(pk, "b2", 5);
  EXPECT_EQ(eval(bus::lua::click, wrong_round, args).str.rfind("BADARG ", 0), 0u);
  EXPECT_EQ(cmd({"EXISTS", keys_.scores(1)}).integer, 0);
  EXPECT_TRUE(cmd({"GET", pk.click_batch("b2")}).is_nil());
  ASSERT_EQ(eval(bus::lua::click, good, args).type, REDIS_REPLY_ARRAY);
}

// Idempotency (DESIGN §2 invariant 1): a gateway that lost the answer resends the batch with the
// same id; Redis applies it at most once and answers with the reply of the first run.
TEST_F(ClickScript, SameBatchIdIsAppliedOnceAndGetsTheSameReply) {
  write_schedule(redis_now() - 5 * kLong - kLong / 2, kLong);  // round 6
  const std::vector<std::string> pairs{"alice", "3", "bob", "2"};
  Reply first = click("gw1:7", 0, pairs);
  ASSERT_EQ(first.type, REDIS_REPLY_ARRAY) << first.str;
  Reply other = click("gw2:7", 0, {"alice", "1"});
  EXPECT_EQ(other.elements.at(1).integer, 4) << "another id is another batch";

  Reply again = click("gw1:7", 0, pairs);
  ASSERT_EQ(again.type, REDIS_REPLY_ARRAY) << again.str;
  ASSERT_EQ(again.elements.size(), 5u);
  EXPECT_EQ(again.elements[0].integer, 6);
  EXPECT_EQ(again.elements[1].integer, 3);  // the first run's totals, not the current ones
  EXPECT_EQ(again.elements[3].integer, 2);
  EXPECT_EQ(cmd({"ZSCORE", keys_.scores(6), "alice"}).str, "4");
  EXPECT_EQ(cmd({"ZSCORE", keys_.scores(6), "bob"}).str, "2");
  EXPECT_EQ(cmd({"GET", keys_.total(6)}).str, "6");

  long long ttl = cmd({"TTL", keys_.prefix() + "clickbatch:gw1:7"}).integer;
  EXPECT_GT(ttl, 0);
  EXPECT_LE(ttl, 60);  // BATCH_TTL_S: only the resend window needs it
}

TEST_F(ClickScript, AResentBatchKeepsItsRoundAfterTheRoundChanged) {
  write_schedule(redis_now() - 10, kLong);
  const std::vector<std::string> pairs{"alice", "5"};
  Reply first = click("gw1:1", 0, pairs);
  ASSERT_EQ(first.elements.at(0).integer, 1);
  write_schedule(redis_now() - 10, kLong, 9);  // round 9 runs now
  // Resent with the guess of the first send, or with a newer one: the stored reply either way.
  for (int64_t r : {1, 9, 0}) {
    Reply again = click_on(keys_.partition(0, 1), "gw1:1", 0, 1, r, pairs);
    EXPECT_EQ(again.elements.at(0).integer, 1) << r;
    EXPECT_EQ(again.elements.at(1).integer, 5) << r;
  }
  EXPECT_EQ(cmd({"EXISTS", keys_.scores(9)}).integer, 0);
}

TEST_F(ClickScript, AnErrorIsNotStoredSoTheResendIsApplied) {
  const std::vector<std::string> pairs{"alice", "2"};
  Reply early = click("gw1:1", 0, pairs);
  ASSERT_TRUE(early.is_error());
  EXPECT_EQ(early.str.rfind("NOROUND", 0), 0u);
  write_schedule(redis_now() - 10, kLong);
  Reply later = click("gw1:1", 0, pairs);
  ASSERT_EQ(later.type, REDIS_REPLY_ARRAY) << later.str;
  EXPECT_EQ(later.elements.at(1).integer, 2);
  EXPECT_EQ(cmd({"GET", keys_.total(1)}).str, "2");
}

using ScheduleScript = BusTest;

TEST_F(ScheduleScript, CreatesOnceAtRedisTime) {
  int64_t before = redis_now();
  Reply r = eval(bus::lua::schedule, {keys_.schedule()}, {"500"});
  int64_t after = redis_now();
  ASSERT_EQ(r.elements.size(), 12u) << r.str;
  EXPECT_GE(r.elements[0].integer, before);
  EXPECT_LE(r.elements[0].integer, after);
  EXPECT_EQ(r.elements[1].integer, 500);
  EXPECT_EQ(r.elements[2].integer, 1);
  EXPECT_EQ(r.elements[3].integer, 0);
  EXPECT_EQ(r.elements[4].integer, 0);
  EXPECT_EQ(r.elements[5].integer, 0);
  EXPECT_GE(r.elements[6].integer, r.elements[0].integer);

  Reply again = eval(bus::lua::schedule, {keys_.schedule()}, {"500"});
  EXPECT_EQ(again.elements[0].integer, r.elements[0].integer);  // not recreated

  EXPECT_EQ(again.elements[7].integer, 0);  // created: only the first call
  EXPECT_EQ(r.elements[7].integer, 1);
  std::vector<int64_t> ints;
  for (std::size_t i = 0; i < 7; ++i) ints.push_back(again.elements[i].integer);
  auto parsed = bus::schedule_from_reply(ints);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->schedule.len, 500);
}

TEST_F(ScheduleScript, LengthChangeWaitsForTheRoundBoundary) {
  int64_t now = redis_now();
  int64_t epoch = now - 2 * kLong - 10;  // round 3 running
  write_schedule(epoch, kLong);
  Reply r = eval(bus::lua::schedule, {keys_.schedule()}, {"200"});
  ASSERT_EQ(r.elements.size(), 12u) << r.str;
  EXPECT_EQ(r.elements[1].integer, kLong);  // the running round keeps its length
  EXPECT_EQ(r.elements[3].integer, epoch + 3 * kLong);
  EXPECT_EQ(r.elements[4].integer, 200);
  EXPECT_EQ(r.elements[5].integer, 4);
  // A second, different request while one is pending changes nothing.
  Reply r2 = eval(bus::lua::schedule, {keys_.schedule()}, {"300"});
  EXPECT_EQ(r2.elements[4].integer, 200);

  // The C++ plan agrees.
  core::Schedule s = core::with_length_change(core::Schedule{epoch, kLong, 1, {}, {}}, 200, now);
  EXPECT_EQ(*s.pending, (core::Segment{epoch + 3 * kLong, 200, 4}));
}

TEST_F(ScheduleScript, ReachedChangeIsPromotedAndThePreviousSegmentKept) {
  int64_t now = redis_now();
  int64_t epoch = now - 2500;  // 1000 ms rounds; round 3 would be running
  write_schedule(epoch, 1000);
  cmd({"HSET", keys_.schedule(), "next_epoch", std::to_string(epoch + 2000), "next_len", "200",
       "next_base", "3"});
  Reply r = eval(bus::lua::schedule, {keys_.schedule()}, {"200"});
  ASSERT_EQ(r.elements.size(), 12u) << r.str;
  EXPECT_EQ(r.elements[0].integer, epoch + 2000);
  EXPECT_EQ(r.elements[1].integer, 200);
  EXPECT_EQ(r.elements[2].integer, 3);
  EXPECT_EQ(r.elements[4].integer, 0);
  // The snapshot carries the previous segment too (the scheduler needs no HGETALL).
  EXPECT_EQ(r.elements[9].integer, epoch);
  EXPECT_EQ(r.elements[10].integer, 1000);
  EXPECT_EQ(r.elements[11].integer, 1);
  auto s = bus::schedule_from_hash(hgetall(cmd({"HGETALL", keys_.schedule()})));
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->pending);
  ASSERT_TRUE(s->previous);
  EXPECT_EQ(*s->previous, (core::Segment{epoch, 1000, 1}));
  EXPECT_EQ(core::window_of(*s, 2), (core::RoundWindow{2, epoch + 1000, epoch + 2000}));

  // After a promotion a new change can be planned.
  Reply r2 = eval(bus::lua::schedule, {keys_.schedule()}, {"400"});
  EXPECT_EQ(r2.elements[4].integer, 400);
  int64_t id = core::round_at(*s, r2.elements[6].integer).id;
  EXPECT_EQ(r2.elements[5].integer, id + 1);
  EXPECT_EQ(r2.elements[3].integer, core::window_of(*s, id).ends_at);
}

TEST_F(ScheduleScript, BadLengthIsRejected) {
  for (std::string bad : {"0", "-5", "abc", "1.5", ""}) {
    Reply r = eval(bus::lua::schedule, {keys_.schedule()}, {bad});
    ASSERT_TRUE(r.is_error()) << bad;
    EXPECT_EQ(r.str.rfind("BADARG ", 0), 0u);
  }
  EXPECT_TRUE(eval(bus::lua::schedule, {keys_.schedule()}, {}).is_error());
  EXPECT_EQ(cmd({"EXISTS", keys_.schedule()}).integer, 0);
}

// The schedule alone was lost (DEL, a partial restore) while the closed mark survived: the new
// schedule numbers on after the mark, so no new round reuses the id of a closed one, and the
// reply says it was created and what the mark is.
TEST_F(ScheduleScript, ARecreatedScheduleNumbersOnAfterTheClosedMark) {
  cmd({"SET", keys_.closed(), "40"});
  int64_t before = redis_now();
  Reply r = eval(bus::lua::schedule, {keys_.schedule(), keys_.closed()}, {"400"});
  ASSERT_EQ(r.elements.size(), 12u) << r.str;
  EXPECT_GE(r.elements[0].integer, before);
  EXPECT_EQ(r.elements[2].integer, 41);  // base
  EXPECT_EQ(r.elements[7].integer, 1);   // created
  EXPECT_EQ(r.elements[8].integer, 40);  // closed
  EXPECT_EQ(cmd({"HGET", keys_.schedule(), "base"}).str, "41");
  // A click now counts in round 41, which the scheduler closes next.
  Reply c = click(batch_id(), 0, {"erin", "1"});
  EXPECT_EQ(c.elements.at(0).integer, 41);

  Reply again = eval(bus::lua::schedule, {keys_.schedule(), keys_.closed()}, {"400"});
  EXPECT_EQ(again.elements[0].integer, r.elements[0].integer);
  EXPECT_EQ(again.elements[7].integer, 0);
}

// The schedule was lost while round closed+1 was running with clicks in it: that round is not
// restarted under its id (it would run ~1.5 lengths with the old clicks and be announced as
// started twice). It ends now with what it holds, and the new schedule starts the next one.
TEST_F(ScheduleScript, ARunningRoundWithClicksEndsWhenItsScheduleIsRecreated) {
  cmd({"SET", keys_.closed(), "6"});
  write_schedule(redis_now() - 6 * 1000 - 500, 1000);  // round 7 is half over
  Reply c7 = click(batch_id(), 0, {"alice", "5"});
  ASSERT_EQ(c7.elements.at(0).integer, 7);
  cmd({"DEL", keys_.schedule()});
  int64_t now = redis_now();
  Reply r = eval(bus::lua::schedule, {keys_.schedule(), keys_.closed()}, {"1000"});
  ASSERT_EQ(r.elements.size(), 12u) << r.str;
  EXPECT_EQ(r.elements[2].integer, 8);   // base: the next round
  EXPECT_EQ(r.elements[7].integer, 1);   // created
  EXPECT_EQ(r.elements[11].integer, 7);  // prev_base: round 7's window ...
  EXPECT_LE(r.elements[9].integer + r.elements[10].integer, r.elements[6].integer);  // ... ended
  EXPECT_GE(r.elements[9].integer + r.elements[10].integer, now);
  Reply c8 = click(batch_id(), 0, {"bob", "1"});
  EXPECT_EQ(c8.elements.at(0).integer, 8) << "no click joins round 7 after the loss";
  EXPECT_TRUE(cmd({"ZSCORE", keys_.scores(7), "bob"}).is_nil());
}

// Everything was lost (FLUSHALL, a restart without persistence): numbering starts at 1 again.
TEST_F(ScheduleScript, WithoutAClosedMarkRoundsStartAtOne) {
  Reply r = eval(bus::lua::schedule, {keys_.schedule(), keys_.closed()}, {"400"});
  ASSERT_EQ(r.elements.size(), 12u) << r.str;
  EXPECT_EQ(r.elements[2].integer, 1);
  EXPECT_EQ(r.elements[7].integer, 1);
  EXPECT_EQ(r.elements[8].integer, 0);
}

using LeaseScript = BusTest;

TEST_F(LeaseScript, AcquireRenewStealRelease) {
  auto lease = [&](const std::string& op, const std::string& who, const std::string& ttl) {
    return eval(bus::lua::lease, {keys_.leader()}, {op, who, ttl});
  };
  EXPECT_EQ(lease("acquire", "A", "5000").integer, 1);
  EXPECT_EQ(cmd({"GET", keys_.leader()}).str, "A");
  EXPECT_EQ(lease("acquire", "B", "5000").integer, 0);  // held by A: no steal
  EXPECT_EQ(cmd({"GET", keys_.leader()}).str, "A");
  cmd({"PEXPIRE", keys_.leader(), "1000"});
  EXPECT_EQ(lease("acquire", "A", "60000").integer, 1);  // renew extends
  EXPECT_GT(cmd({"PTTL", keys_.leader()}).integer, 50000);
  EXPECT_EQ(lease("release", "B", "0").integer, 0);  // not B's: ignored
  EXPECT_EQ(cmd({"GET", keys_.leader()}).str, "A");
  EXPECT_EQ(lease("release", "A", "0").integer, 1);
  EXPECT_TRUE(cmd({"GET", keys_.leader()}).is_nil());
  EXPECT_EQ(lease("acquire", "B", "5000").integer, 1);
}

TEST_F(LeaseScript, ExpiresSoAnotherHolderCanTakeOver) {
  EXPECT_EQ(eval(bus::lua::lease, {keys_.leader()}, {"acquire", "A", "100"}).integer, 1);
  EXPECT_TRUE(eventually([&] { return cmd({"EXISTS", keys_.leader()}).integer == 0; }, 1s));
  EXPECT_EQ(eval(bus::lua::lease, {keys_.leader()}, {"acquire", "B", "5000"}).integer, 1);
  EXPECT_EQ(cmd({"GET", keys_.leader()}).str, "B");
}

TEST_F(LeaseScript, BadArgumentsAreRejected) {
  for (const auto& args : std::vector<std::vector<std::string>>{{"steal", "A", "100"},
                                                                {"acquire", "", "100"},
                                                                {"acquire", "A", "0"},
                                                                {"acquire", "A", "-1"},
                                                                {"acquire", "A", "x"},
                                                                {"acquire", "A"},
                                                                {}}) {
    Reply r = eval(bus::lua::lease, {keys_.leader()}, args);
    ASSERT_TRUE(r.is_error());
    EXPECT_EQ(r.str.rfind("BADARG ", 0), 0u) << r.str;
  }
  EXPECT_EQ(cmd({"EXISTS", keys_.leader()}).integer, 0);
}

}  // namespace
}  // namespace clickrace::test
