#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <random>

#include "bus_fixture.hpp"
#include "clickrace/bus/events.hpp"
#include "clickrace/core/partition_merge.hpp"
#include "clickrace/core/winners.hpp"

namespace clickrace::test {
namespace {

using nlohmann::json;

constexpr int64_t kLen = 1000;

class CloseRound : public BusTest {
 protected:
  void SetUp() override {
    BusTest::SetUp();
    now_ = redis_now();
    epoch_ = now_ - 10 * kLen - kLen / 2;  // rounds 1..10 ended, 11 running for ~500 ms more
    write_schedule(epoch_, kLen);
    take_lease("s1");
  }

  void take_lease(const std::string& holder) {
    cmd({"SET", keys_.leader(), holder, "PX", "60000"});
  }

  // close_round.lua with the merged result `o` (what the scheduler merges from the sealed
  // partition summaries).
  Reply close(int64_t round, const core::RoundOutcome& o = {}, const std::string& holder = "s1",
              const std::string& op = "close", const std::string& ttl = "604800") {
    std::vector<std::string> args{keys_.prefix(),
                                  holder,
                                  std::to_string(round),
                                  ttl,
                                  "10000",
                                  op,
                                  std::to_string(o.winner_count),
                                  std::to_string(o.winning_clicks),
                                  std::to_string(o.total_clicks),
                                  std::to_string(o.players)};
    if (op == "announce") args.resize(6);
    args.insert(args.end(), o.winners.begin(), o.winners.end());
    return eval(bus::lua::close_round, round_keys(round), args);
  }

  std::vector<std::string> round_keys(int64_t round) {
    return {keys_.leader(),         keys_.schedule(), keys_.result(round),
            keys_.announced(round), keys_.closed(),   keys_.rounds()};
  }

  bus::RoundResult closed_result(int64_t round, const core::RoundOutcome& o = {}) {
    Reply r = close(round, o);
    EXPECT_EQ(r.type, REDIS_REPLY_ARRAY) << r.str;
    EXPECT_EQ(r.elements.at(0).str, "CLOSED");
    auto parsed = bus::parse_round_result(r.elements.at(1).str);
    EXPECT_TRUE(parsed) << r.elements.at(1).str;
    return parsed ? *parsed : bus::RoundResult{};
  }

  static core::RoundOutcome outcome(std::vector<std::string> winners, int64_t count, int64_t top,
                                    int64_t total, int64_t players) {
    return core::RoundOutcome{std::move(winners), count, top, total, players};
  }

  int64_t now_ = 0;
  int64_t epoch_ = 0;
};

TEST_F(CloseRound, WritesTheMergedResultWithTheRoundTimes) {
  bus::RoundResult r = closed_result(5, outcome({"alice", "bob"}, 2, 5, 13, 3));
  EXPECT_EQ(r.round, 5);
  EXPECT_EQ(r.started_at, epoch_ + 4 * kLen);
  EXPECT_EQ(r.ended_at, epoch_ + 5 * kLen);
  EXPECT_EQ(r.winners, (std::vector<std::string>{"alice", "bob"}));
  EXPECT_EQ(r.winner_count, 2);
  EXPECT_EQ(r.winning_clicks, 5);
  EXPECT_EQ(r.total_clicks, 13);
  EXPECT_EQ(r.players, 3);
  EXPECT_EQ(*bus::parse_round_result(cmd({"GET", keys_.result(5)}).str), r);
}

TEST_F(CloseRound, EmptyRoundHasALiteralEmptyWinnersArray) {
  Reply r = close(4);
  ASSERT_EQ(r.elements.at(0).str, "CLOSED") << r.str;
  const std::string& text = r.elements.at(1).str;
  EXPECT_NE(text.find(R"("winners":[])"), std::string::npos) << text;
  EXPECT_NE(cmd({"GET", keys_.result(4)}).str.find(R"("winners":[])"), std::string::npos);
  auto parsed = bus::parse_round_result(text);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->winner_count, 0);
  EXPECT_EQ(parsed->winning_clicks, 0);
  EXPECT_EQ(parsed->total_clicks, 0);
  EXPECT_EQ(parsed->players, 0);
}

TEST_F(CloseRound, OneHundredListedOfOneHundredFiftyTied) {
  std::vector<std::string> listed;
  for (int i = 0; i < 100; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "p%03d", i);
    listed.emplace_back(name);
  }
  bus::RoundResult r = closed_result(3, outcome(listed, 150, 4, 601, 151));
  ASSERT_EQ(r.winners.size(), 100u);
  EXPECT_EQ(r.winners.front(), "p000");
  EXPECT_EQ(r.winners.back(), "p099");
  EXPECT_EQ(r.winner_count, 150);
  EXPECT_EQ(r.winning_clicks, 4);
  EXPECT_EQ(r.total_clicks, 601);
  EXPECT_EQ(r.players, 151);
}

TEST_F(CloseRound, SecondCloseIsIdempotentAndPublishesNothing) {
  std::string first;
  {
    Subscriber sub(server_->port(), keys_.events());
    Reply r = close(6, outcome({"alice"}, 1, 2, 2, 1));
    ASSERT_EQ(r.elements.at(0).str, "CLOSED") << r.str;
    first = r.elements.at(1).str;
    std::vector<std::string> msgs = sub.drain();
    ASSERT_EQ(msgs.size(), 1u);  // round 7 is not running now: no RoundStarted
    auto env = bus::parse_envelope(msgs[0]);
    ASSERT_TRUE(env) << msgs[0];
    EXPECT_EQ(env->event, "RoundEnded");
    EXPECT_EQ(env->round, 6);
    EXPECT_EQ(json::parse(env->data), json::parse(first));
  }
  Subscriber sub(server_->port(), keys_.events());
  // Another result for the same round (a bug, a stale caller) never replaces the first.
  for (const char* op : {"close", "write", "announce"}) {
    Reply again = close(6, outcome({"late"}, 1, 99, 101, 2), "s1", op);
    ASSERT_EQ(again.elements.at(0).str, "DONE") << op << " " << again.str;
    EXPECT_EQ(again.elements.at(1).str, first);
  }
  EXPECT_TRUE(sub.drain().empty());
  EXPECT_EQ(cmd({"XLEN", keys_.rounds()}).integer, 1);
}

// With replicas to wait for, the scheduler writes (then WAITs), then announces: nothing of the
// round is visible to gateways (events, stream, closed mark) until the announcement.
TEST_F(CloseRound, WriteThenAnnounce) {
  Subscriber sub(server_->port(), keys_.events());
  Reply w = close(8, outcome({"bob"}, 1, 7, 9, 2), "s1", "write");
  ASSERT_EQ(w.elements.at(0).str, "WRITTEN") << w.str;
  auto written = bus::parse_round_result(w.elements.at(1).str);
  ASSERT_TRUE(written);
  EXPECT_EQ(written->winners, std::vector<std::string>{"bob"});
  EXPECT_EQ(cmd({"EXISTS", keys_.rounds()}).integer, 0);
  EXPECT_TRUE(cmd({"GET", keys_.closed()}).is_nil());
  EXPECT_EQ(cmd({"EXISTS", keys_.announced(8)}).integer, 0);
  // Written again (a retry after a WAIT came back short, or a new leader): the first result is
  // kept, and its expiry re-written so that the retry's WAIT covers it.
  cmd({"EXPIRE", keys_.result(8), "100"});
  Reply w2 = close(8, outcome({"zed"}, 1, 8, 8, 1), "s1", "write");
  ASSERT_EQ(w2.elements.at(0).str, "WRITTEN") << w2.str;
  EXPECT_EQ(w2.elements.at(1).str, w.elements.at(1).str);
  EXPECT_GT(cmd({"TTL", keys_.result(8)}).integer, 604000);

  Reply a = close(8, {}, "s1", "announce");
  ASSERT_EQ(a.elements.at(0).str, "CLOSED") << a.str;
  EXPECT_EQ(a.elements.at(1).str, w.elements.at(1).str);
  EXPECT_EQ(cmd({"GET", keys_.closed()}).str, "8");
  EXPECT_EQ(cmd({"XLEN", keys_.rounds()}).integer, 1);
  std::vector<std::string> msgs = sub.drain();
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(json::parse(bus::parse_envelope(msgs[0])->data), json::parse(w.elements.at(1).str));
  EXPECT_EQ(close(8, {}, "s1", "announce").elements.at(0).str, "DONE");
}

// A leader that died after writing: the next one's close announces the written result.
TEST_F(CloseRound, AWrittenResultIsAnnouncedByTheNextClose) {
  ASSERT_EQ(close(7, outcome({"amy"}, 1, 3, 3, 1), "s1", "write").elements.at(0).str, "WRITTEN");
  take_lease("s2");
  Reply r = close(7, outcome({"other"}, 1, 1, 1, 1), "s2", "close");
  ASSERT_EQ(r.elements.at(0).str, "CLOSED") << r.str;
  EXPECT_EQ(bus::parse_round_result(r.elements.at(1).str)->winners,
            std::vector<std::string>{"amy"});
}

TEST_F(CloseRound, AnnounceWithoutAResultIsNoResult) {
  Reply r = close(9, {}, "s1", "announce");
  ASSERT_TRUE(r.is_error());
  EXPECT_EQ(r.str.rfind("NORESULT", 0), 0u) << r.str;
  EXPECT_EQ(cmd({"EXISTS", keys_.rounds()}).integer, 0);
  EXPECT_TRUE(cmd({"GET", keys_.closed()}).is_nil());
}

TEST_F(CloseRound, OnlyTheLeaseHolderMayClose) {
  Subscriber sub(server_->port(), keys_.events());
  for (const char* op : {"close", "write", "announce"}) {
    Reply r = close(2, outcome({"alice"}, 1, 1, 1, 1), "s2", op);
    ASSERT_TRUE(r.is_error());
    EXPECT_EQ(r.str.rfind("NOTLEADER", 0), 0u) << r.str;
  }
  cmd({"DEL", keys_.leader()});
  EXPECT_EQ(close(2, {}, "s1").str.rfind("NOTLEADER", 0), 0u);
  EXPECT_TRUE(cmd({"GET", keys_.result(2)}).is_nil());
  EXPECT_EQ(cmd({"EXISTS", keys_.rounds()}).integer, 0);
  EXPECT_TRUE(cmd({"GET", keys_.closed()}).is_nil());
  EXPECT_TRUE(sub.drain().empty());
}

TEST_F(CloseRound, RunningRoundIsEarly) {
  Reply r = close(11);
  ASSERT_EQ(r.type, REDIS_REPLY_ARRAY) << r.str;
  EXPECT_EQ(r.elements.at(0).str, "EARLY");
  int64_t left = r.elements.at(1).integer;
  EXPECT_GT(left, 0);
  EXPECT_LE(left, kLen);
  EXPECT_EQ(close(12).elements.at(0).str, "EARLY");
  EXPECT_EQ(close(11, {}, "s1", "write").elements.at(0).str, "EARLY");
  EXPECT_TRUE(cmd({"GET", keys_.result(11)}).is_nil());
}

TEST_F(CloseRound, WritesStreamClosedPointerAndExpiries) {
  bus::RoundResult r = closed_result(9, outcome({"alice"}, 1, 3, 3, 1));
  Reply entries = cmd({"XRANGE", keys_.rounds(), "-", "+"});
  ASSERT_EQ(entries.elements.size(), 1u);
  const Reply& fields = entries.elements[0].elements.at(1);
  ASSERT_EQ(fields.elements.size(), 4u);
  EXPECT_EQ(fields.elements[0].str, "round");
  EXPECT_EQ(fields.elements[1].str, "9");
  EXPECT_EQ(fields.elements[2].str, "result");
  EXPECT_EQ(*bus::parse_round_result(fields.elements[3].str), r);
  EXPECT_EQ(cmd({"GET", keys_.closed()}).str, "9");
  for (const auto& key : {keys_.result(9), keys_.announced(9)}) {
    int64_t ttl = cmd({"TTL", key}).integer;
    EXPECT_GT(ttl, 604000) << key;
    EXPECT_LE(ttl, 604800) << key;
  }
  // Closing an older round later never lowers the pointer.
  closed_result(7);
  EXPECT_EQ(cmd({"GET", keys_.closed()}).str, "9");
  EXPECT_EQ(cmd({"XLEN", keys_.rounds()}).integer, 2);
}

TEST_F(CloseRound, RoundStartedOnlyForTheRunningRound) {
  Subscriber sub(server_->port(), keys_.events());
  ASSERT_EQ(close(10).elements.at(0).str, "CLOSED");  // round 11 runs now
  std::vector<std::string> msgs = sub.drain();
  ASSERT_EQ(msgs.size(), 2u);
  auto ended = bus::parse_envelope(msgs[0]);
  auto started = bus::parse_envelope(msgs[1]);
  ASSERT_TRUE(ended && started);
  EXPECT_EQ(ended->event, "RoundEnded");
  EXPECT_EQ(started->event, "RoundStarted");
  EXPECT_EQ(started->round, 11);
  auto data = bus::parse_round_started(started->data);
  ASSERT_TRUE(data);
  EXPECT_EQ(data->round, 11);
  EXPECT_EQ(data->starts_at, epoch_ + 10 * kLen);
  EXPECT_EQ(data->ends_at, epoch_ + 11 * kLen);
  EXPECT_GE(data->server_time, data->starts_at);
  EXPECT_LT(data->server_time, data->ends_at);
}

TEST_F(CloseRound, UsesThePreviousSegmentAfterAPromotion) {
  // 1000 ms rounds until round 9 ended; 300 ms rounds from round 10 (already promoted).
  int64_t change = epoch_ + 9 * kLen;
  cmd({"DEL", keys_.schedule()});
  cmd({"HSET", keys_.schedule(), "epoch", std::to_string(change), "len", "300000", "base", "10",
       "prev_epoch", std::to_string(epoch_), "prev_len", std::to_string(kLen), "prev_base", "1"});
  bus::RoundResult r = closed_result(9);
  EXPECT_EQ(r.started_at, epoch_ + 8 * kLen);
  EXPECT_EQ(r.ended_at, change);
}

TEST_F(CloseRound, BadArgumentsAreRejected) {
  std::string P = keys_.prefix();
  for (const auto& args : std::vector<std::vector<std::string>>{
           {P, "s1", "0", "60", "100", "close", "0", "0", "0", "0"},
           {P, "s1", "x", "60", "100", "close", "0", "0", "0", "0"},
           {P, "s1", "-3", "60", "100", "close", "0", "0", "0", "0"},
           {P, "s1", "3", "0", "100", "close", "0", "0", "0", "0"},
           {P, "s1", "3", "60", "0", "close", "0", "0", "0", "0"},
           {P, "s1", "3", "60", "100", "other", "0", "0", "0", "0"},
           {P, "s1", "3", "60", "100", "close", "0", "0", "0"},
           {P, "s1", "3", "60", "100", "close", "-1", "0", "0", "0"},
           {P, "s1", "3", "60", "100", "close", "0", "x", "0", "0"},
           {P, "s1", "3", "60", "100", "write", "1", "1", "1", "1", "a", "b"},  // 2 listed > 1
           {P, "s1", "3", "60", "100", "close", "1", "1", "1", "1", ""},
           {P, "s1", "3"},
           {P, "", "3", "60", "100", "close", "0", "0", "0", "0"}}) {
    Reply r = eval(bus::lua::close_round, round_keys(3), args);
    ASSERT_TRUE(r.is_error());
    EXPECT_EQ(r.str.rfind("BADARG ", 0), 0u) << r.str;
  }
  Reply few = eval(bus::lua::close_round, {keys_.leader(), keys_.schedule()},
                   {P, "s1", "3", "60", "100", "close", "0", "0", "0", "0"});
  EXPECT_EQ(few.str.rfind("BADARG ", 0), 0u) << few.str;
  EXPECT_TRUE(cmd({"GET", keys_.result(3)}).is_nil());
}

TEST_F(CloseRound, NoScheduleIsNoRound) {
  cmd({"DEL", keys_.schedule()});
  Reply r = close(1);
  ASSERT_TRUE(r.is_error());
  EXPECT_EQ(r.str.rfind("NOROUND", 0), 0u);
}

// Real clicks through click.lua in a short round, then the whole close as the scheduler does it
// with one partition: seal.lua, the merge, close_round.lua. The result must equal the C++
// reference (winners.hpp) computed from the stored scores.
TEST_F(CloseRound, RandomClicksSealedAndClosedMatchTheCppReference) {
  std::mt19937 rng(12345);
  bus::PartitionKeys pk = keys_.partition(0, 1);
  for (int trial = 0; trial < 3; ++trial) {
    // A fresh game each trial: a schedule re-created behind the closed or sealed mark would
    // number on after it (click.lua never counts into a sealed round).
    cmd({"DEL", keys_.schedule(), keys_.closed(), pk.sealed(), pk.summary(1)});
    int64_t start = redis_now();
    write_schedule(start, 200);
    int64_t round = 1;
    std::uniform_int_distribution<int> player(0, 14), count(1, trial == 0 ? 3 : 50);
    std::map<std::string, int64_t> expected;
    for (int batch = 0; batch < 10; ++batch) {
      std::vector<std::string> pairs;
      for (int i = 0; i < 8; ++i) {
        std::string name = "player" + std::to_string(player(rng));
        int n = count(rng);
        pairs.push_back(name);
        pairs.push_back(std::to_string(n));
        expected[name] += n;
      }
      Reply r = click("close:" + std::to_string(trial) + ":" + std::to_string(batch), 0, pairs);
      ASSERT_EQ(r.elements.at(0).integer, round) << "the round ended mid-test: machine too slow";
    }
    ASSERT_TRUE(eventually([&] { return redis_now() >= start + 200; }, 1s));

    Reply stored = cmd({"ZRANGE", keys_.scores(round), "0", "-1", "WITHSCORES"});
    std::vector<core::PlayerScore> from_redis;
    for (size_t i = 0; i + 1 < stored.elements.size(); i += 2) {
      from_redis.push_back({stored.elements[i].str, std::stoll(stored.elements[i + 1].str)});
      EXPECT_EQ(from_redis.back().clicks, expected[from_redis.back().name]);
    }
    EXPECT_EQ(from_redis.size(), expected.size());
    core::RoundOutcome want = core::pick_winners(from_redis);

    Reply sealed = eval(bus::lua::seal,
                        {pk.schedule(), pk.sealed(), pk.term(), pk.scores(round), pk.total(round),
                         pk.summary(round)},
                        {"1", std::to_string(round), "600", "100"});
    ASSERT_EQ(sealed.elements.at(0).str, "SEALED") << sealed.str;
    json j = json::parse(sealed.elements.at(1).str);
    core::PartitionSummary part{j["top"], j["atTop"], j["names"], j["totalClicks"], j["players"]};
    EXPECT_EQ(part, core::summarize(from_redis));
    bus::RoundResult got = closed_result(round, core::merge_summaries({part}));
    EXPECT_EQ(got.winners, want.winners);
    EXPECT_EQ(got.winner_count, want.winner_count);
    EXPECT_EQ(got.winning_clicks, want.winning_clicks);
    EXPECT_EQ(got.total_clicks, want.total_clicks);
    EXPECT_EQ(got.players, want.players);
    EXPECT_EQ(got.started_at, start);
    EXPECT_EQ(got.ended_at, start + 200);
    // A click after the seal never lands in the sealed round.
    Reply late = click("close:" + std::to_string(trial) + ":late", 0, {"player0", "1"});
    EXPECT_GT(late.elements.at(0).integer, round) << late.str;
    cmd({"DEL", keys_.result(round), keys_.announced(round), keys_.scores(round),
         keys_.total(round)});
  }
}

}  // namespace
}  // namespace clickrace::test
