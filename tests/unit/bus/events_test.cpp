#include "clickrace/bus/events.hpp"

#include <gtest/gtest.h>

#include "clickrace/bus/keys.hpp"
#include "clickrace/bus/lua_scripts.hpp"

namespace clickrace::bus {
namespace {

using nlohmann::json;

TEST(Keys, EveryNameOfTheContract) {
  Keys k("t1:");
  EXPECT_EQ(k.prefix(), "t1:");
  EXPECT_EQ(k.schedule(), "t1:schedule");
  EXPECT_EQ(k.scores(42), "t1:round:42:scores");
  EXPECT_EQ(k.total(42), "t1:round:42:total");
  EXPECT_EQ(k.result(42), "t1:round:42:result");
  EXPECT_EQ(k.closed(), "t1:closed");
  EXPECT_EQ(k.rounds(), "t1:rounds");
  EXPECT_EQ(k.events(), "t1:events");
  EXPECT_EQ(k.leader(), "t1:scheduler:leader");
  EXPECT_EQ(k.user("alice"), "t1:user:alice");
  EXPECT_EQ(k.token_secret(), "t1:token_secret");
  EXPECT_EQ(Keys().schedule(), "clickrace:schedule");
}

TEST(LuaScripts, AreEmbedded) {
  for (const char* s : {lua::click, lua::schedule, lua::lease, lua::close_round}) {
    ASSERT_NE(s, nullptr);
    EXPECT_NE(std::string(s).find("redis.call"), std::string::npos);
  }
}

TEST(Events, RoundStartedFieldNames) {
  RoundStarted v{7, 1000, 2000, 1500};
  json j = v;
  EXPECT_EQ(j, json::parse(R"({"round":7,"startsAt":1000,"endsAt":2000,"serverTime":1500})"));
  EXPECT_EQ(j.get<RoundStarted>(), v);
  auto p = parse_round_started(j.dump());
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, v);
}

TEST(Events, RoundResultFieldNamesAndEmptyWinnersArray) {
  RoundResult v;
  v.round = 3;
  v.started_at = 10;
  v.ended_at = 20;
  json j = v;
  EXPECT_EQ(j, json::parse(R"({"round":3,"startedAt":10,"endedAt":20,"winners":[],
      "winnerCount":0,"winningClicks":0,"totalClicks":0,"players":0})"));
  EXPECT_NE(j.dump().find(R"("winners":[])"), std::string::npos);
  v.winners = {"alice", "bob"};
  v.winner_count = 150;
  v.winning_clicks = 9;
  v.total_clicks = 99;
  v.players = 12;
  auto p = parse_round_result(json(v).dump());
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, v);
}

TEST(Events, LeaderboardFieldNames) {
  Leaderboard v{4, 1234, 50, {{"alice", 30}, {"bob", 20}}};
  json j = v;
  EXPECT_EQ(j, json::parse(R"({"round":4,"remainingMs":1234,"totalClicks":50,
      "top":[{"name":"alice","clicks":30},{"name":"bob","clicks":20}]})"));
  auto p = parse_leaderboard(j.dump());
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, v);
}

TEST(Events, BadPayloadsAreErrorsNotExceptions) {
  for (const char* bad : {"", "null", "[]", "{", R"({"round":"x"})", R"({"round":1})",
                          R"({"round":1,"startedAt":1,"endedAt":2,"winners":{},"winnerCount":0,
                             "winningClicks":0,"totalClicks":0,"players":0})"}) {
    auto r = parse_round_result(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().message, "bad RoundResult JSON");
    EXPECT_FALSE(parse_round_started(bad));
    EXPECT_FALSE(parse_leaderboard(bad));
  }
}

TEST(Envelope, BuildAndParseKeepDataVerbatim) {
  RoundStarted v{8, 1, 2, 3};
  std::string text = build_envelope(kRoundStarted, 8, v);
  EXPECT_EQ(json::parse(text), json::parse(R"({"event":"RoundStarted","round":8,
      "data":{"round":8,"startsAt":1,"endsAt":2,"serverTime":3}})"));
  auto env = parse_envelope(text);
  ASSERT_TRUE(env);
  EXPECT_EQ(env->event, "RoundStarted");
  EXPECT_EQ(env->round, 8);
  EXPECT_EQ(json::parse(env->data), json(v));
}

TEST(Envelope, ParsesTheScriptsHandBuiltText) {
  // As close_round.lua publishes it.
  auto env = parse_envelope(
      R"({"event":"RoundEnded","round":12,"data":{"round":12,"startedAt":1,"endedAt":2,)"
      R"("winners":[],"winnerCount":0,"winningClicks":0,"totalClicks":0,"players":0}})");
  ASSERT_TRUE(env);
  EXPECT_EQ(env->event, "RoundEnded");
  EXPECT_EQ(env->round, 12);
  auto r = parse_round_result(env->data);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->winners.empty());
  EXPECT_NE(env->data.find(R"("winners":[])"), std::string::npos);
}

TEST(Envelope, MalformedInputIsRejected) {
  for (const char* bad :
       {"", " ", "null", "42", "\"x\"", "[]", "{", "{}", R"({"event":"RoundEnded","round":1})",
        R"({"event":"RoundEnded","data":{}})", R"({"round":1,"data":{}})",
        R"({"event":7,"round":1,"data":{}})", R"({"event":"","round":1,"data":{}})",
        R"({"event":"RoundEnded","round":"1","data":{}})",
        R"({"event":"RoundEnded","round":1.5,"data":{}})",
        R"({"event":"RoundEnded","round":1,"data":{}} trailing)", "\xff\xfe{}"}) {
    auto r = parse_envelope(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().message, "bad envelope");
  }
}

TEST(Schedule, FromHash) {
  auto s = schedule_from_hash({{"epoch", "1000"}, {"len", "500"}, {"base", "1"}});
  ASSERT_TRUE(s);
  EXPECT_EQ(s->current(), (core::Segment{1000, 500, 1}));
  EXPECT_FALSE(s->pending);
  EXPECT_FALSE(s->previous);

  auto full = schedule_from_hash({{"epoch", "1000"},
                                  {"len", "500"},
                                  {"base", "3"},
                                  {"next_epoch", "2000"},
                                  {"next_len", "100"},
                                  {"next_base", "5"},
                                  {"prev_epoch", "0"},
                                  {"prev_len", "250"},
                                  {"prev_base", "1"}});
  ASSERT_TRUE(full);
  EXPECT_EQ(*full->pending, (core::Segment{2000, 100, 5}));
  EXPECT_EQ(*full->previous, (core::Segment{0, 250, 1}));

  EXPECT_FALSE(schedule_from_hash({}));
  EXPECT_FALSE(schedule_from_hash({{"epoch", "1000"}, {"len", "0"}, {"base", "1"}}));
  EXPECT_FALSE(schedule_from_hash({{"epoch", "x"}, {"len", "5"}, {"base", "1"}}));
  EXPECT_FALSE(
      schedule_from_hash({{"epoch", "1000"}, {"len", "5"}, {"base", "1"}, {"next_epoch", "2000"}}));
}

TEST(Schedule, FromScriptReply) {
  auto r = schedule_from_reply({1000, 500, 1, 0, 0, 0, 1234});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->schedule.current(), (core::Segment{1000, 500, 1}));
  EXPECT_FALSE(r->schedule.pending);
  EXPECT_EQ(r->now, 1234);
  auto p = schedule_from_reply({1000, 500, 1, 3000, 100, 5, 1234});
  ASSERT_TRUE(p);
  EXPECT_EQ(*p->schedule.pending, (core::Segment{3000, 100, 5}));
  EXPECT_FALSE(schedule_from_reply({1, 2, 3}));
  EXPECT_FALSE(schedule_from_reply({1000, 0, 1, 0, 0, 0, 1}));
}

TEST(Schedule, Json) {
  core::Schedule s;
  s.epoch = 1;
  s.len = 2;
  s.base = 3;
  EXPECT_EQ(schedule_json(s), json::parse(R"({"epoch":1,"len":2,"base":3,"pending":null})"));
  s.pending = core::Segment{4, 5, 6};
  EXPECT_EQ(schedule_json(s)["pending"], json::parse(R"({"epoch":4,"len":5,"base":6})"));
}

}  // namespace
}  // namespace clickrace::bus
