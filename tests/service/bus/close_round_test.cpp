#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <random>

#include "bus_fixture.hpp"
#include "clickrace/bus/events.hpp"
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

  Reply close(int64_t round, const std::string& holder = "s1", const std::string& ttl = "604800") {
    return eval(bus::lua::close_round, {keys_.leader(), keys_.schedule()},
                {keys_.prefix(), holder, std::to_string(round), ttl, "10000"});
  }

  bus::RoundResult closed_result(int64_t round) {
    Reply r = close(round);
    EXPECT_EQ(r.type, REDIS_REPLY_ARRAY) << r.str;
    EXPECT_EQ(r.elements.at(0).str, "CLOSED");
    auto parsed = bus::parse_round_result(r.elements.at(1).str);
    EXPECT_TRUE(parsed) << r.elements.at(1).str;
    return parsed ? *parsed : bus::RoundResult{};
  }

  void scores(int64_t round, const std::vector<std::pair<std::string, int64_t>>& s) {
    int64_t total = 0;
    for (auto& [name, n] : s) {
      cmd({"ZADD", keys_.scores(round), std::to_string(n), name});
      total += n;
    }
    cmd({"SET", keys_.total(round), std::to_string(total)});
  }

  int64_t now_ = 0;
  int64_t epoch_ = 0;
};

TEST_F(CloseRound, WinnersWithTiesAndRoundTimes) {
  scores(5, {{"carol", 3}, {"bob", 5}, {"alice", 5}});
  bus::RoundResult r = closed_result(5);
  EXPECT_EQ(r.round, 5);
  EXPECT_EQ(r.started_at, epoch_ + 4 * kLen);
  EXPECT_EQ(r.ended_at, epoch_ + 5 * kLen);
  EXPECT_EQ(r.winners, (std::vector<std::string>{"alice", "bob"}));
  EXPECT_EQ(r.winner_count, 2);
  EXPECT_EQ(r.winning_clicks, 5);
  EXPECT_EQ(r.total_clicks, 13);
  EXPECT_EQ(r.players, 3);
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

TEST_F(CloseRound, OneHundredFiftyTiedListsOneHundred) {
  std::vector<std::pair<std::string, int64_t>> s;
  for (int i = 0; i < 150; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "p%03d", i);
    s.emplace_back(name, 4);
  }
  s.emplace_back("zz_last", 1);
  scores(3, s);
  bus::RoundResult r = closed_result(3);
  ASSERT_EQ(r.winners.size(), 100u);
  EXPECT_EQ(r.winners.front(), "p000");
  EXPECT_EQ(r.winners.back(), "p099");
  EXPECT_EQ(r.winner_count, 150);
  EXPECT_EQ(r.winning_clicks, 4);
  EXPECT_EQ(r.total_clicks, 601);
  EXPECT_EQ(r.players, 151);
}

TEST_F(CloseRound, SecondCloseIsIdempotentAndPublishesNothing) {
  scores(6, {{"alice", 2}});
  std::string first;
  {
    Subscriber sub(server_->port(), keys_.events());
    Reply r = close(6);
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
  cmd({"ZADD", keys_.scores(6), "99", "late"});  // a second close must not recompute
  Reply again = close(6);
  ASSERT_EQ(again.elements.at(0).str, "DONE") << again.str;
  EXPECT_EQ(again.elements.at(1).str, first);
  EXPECT_TRUE(sub.drain().empty());
  EXPECT_EQ(cmd({"XLEN", keys_.rounds()}).integer, 1);
}

TEST_F(CloseRound, OnlyTheLeaseHolderMayClose) {
  scores(2, {{"alice", 1}});
  Subscriber sub(server_->port(), keys_.events());
  Reply r = close(2, "s2");
  ASSERT_TRUE(r.is_error());
  EXPECT_EQ(r.str.rfind("NOTLEADER", 0), 0u) << r.str;
  cmd({"DEL", keys_.leader()});
  EXPECT_EQ(close(2, "s1").str.rfind("NOTLEADER", 0), 0u);
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
  EXPECT_TRUE(cmd({"GET", keys_.result(11)}).is_nil());
}

TEST_F(CloseRound, WritesStreamClosedPointerAndExpiries) {
  scores(9, {{"alice", 3}});
  bus::RoundResult r = closed_result(9);
  Reply entries = cmd({"XRANGE", keys_.rounds(), "-", "+"});
  ASSERT_EQ(entries.elements.size(), 1u);
  const Reply& fields = entries.elements[0].elements.at(1);
  ASSERT_EQ(fields.elements.size(), 4u);
  EXPECT_EQ(fields.elements[0].str, "round");
  EXPECT_EQ(fields.elements[1].str, "9");
  EXPECT_EQ(fields.elements[2].str, "result");
  EXPECT_EQ(*bus::parse_round_result(fields.elements[3].str), r);
  EXPECT_EQ(cmd({"GET", keys_.closed()}).str, "9");
  for (const auto& key : {keys_.scores(9), keys_.total(9), keys_.result(9)}) {
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
  for (const auto& args :
       std::vector<std::vector<std::string>>{{keys_.prefix(), "s1", "0", "60", "100"},
                                             {keys_.prefix(), "s1", "x", "60", "100"},
                                             {keys_.prefix(), "s1", "-3", "60", "100"},
                                             {keys_.prefix(), "s1", "3", "0", "100"},
                                             {keys_.prefix(), "s1", "3", "60", "0"},
                                             {keys_.prefix(), "s1", "3"},
                                             {keys_.prefix(), "", "3", "60", "100"}}) {
    Reply r = eval(bus::lua::close_round, {keys_.leader(), keys_.schedule()}, args);
    ASSERT_TRUE(r.is_error());
    EXPECT_EQ(r.str.rfind("BADARG ", 0), 0u) << r.str;
  }
}

TEST_F(CloseRound, NoScheduleIsNoRound) {
  cmd({"DEL", keys_.schedule()});
  Reply r = close(1);
  ASSERT_TRUE(r.is_error());
  EXPECT_EQ(r.str.rfind("NOROUND", 0), 0u);
}

// Real clicks through click.lua in a short round, then close: the Lua result must equal the
// C++ reference (winners.hpp) computed from the stored scores.
TEST_F(CloseRound, RandomClicksMatchTheCppReference) {
  std::mt19937 rng(12345);
  for (int trial = 0; trial < 3; ++trial) {
    // A fresh game each trial: a schedule re-created behind the closed mark would number on
    // after it (click.lua never counts into a closed round).
    cmd({"DEL", keys_.schedule(), keys_.closed()});
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

    bus::RoundResult got = closed_result(round);
    EXPECT_EQ(got.winners, want.winners);
    EXPECT_EQ(got.winner_count, want.winner_count);
    EXPECT_EQ(got.winning_clicks, want.winning_clicks);
    EXPECT_EQ(got.total_clicks, want.total_clicks);
    EXPECT_EQ(got.players, want.players);
    EXPECT_EQ(got.started_at, start);
    EXPECT_EQ(got.ended_at, start + 200);
    cmd({"DEL", keys_.result(round), keys_.scores(round), keys_.total(round)});
  }
}

}  // namespace
}  // namespace clickrace::test
