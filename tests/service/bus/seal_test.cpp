#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <random>

#include "bus_fixture.hpp"
#include "clickrace/bus/partitions.hpp"
#include "clickrace/core/partition_merge.hpp"
#include "clickrace/core/winners.hpp"

// seal.lua (one partition's closing summary, fenced by the leader term) and schedule_copy.lua
// (the partition's copy of the schedule), on a real Redis: docs/bus.md "Partitions".
namespace clickrace::test {
namespace {

using nlohmann::json;

constexpr int64_t kLen = 1000;
constexpr int kS = 4;

class Seal : public BusTest {
 protected:
  void SetUp() override {
    BusTest::SetUp();
    int64_t now = redis_now();
    epoch_ = now - 10 * kLen - kLen / 2;  // rounds 1..10 ended, 11 running for ~500 ms more
    for (int k = 0; k < kS; ++k) copy(k, epoch_, kLen);
  }

  bus::PartitionKeys part(int k) const { return keys_.partition(k, kS); }

  void copy(int k, int64_t epoch, int64_t len) {
    cmd({"HSET", part(k).schedule(), "epoch", std::to_string(epoch), "len", std::to_string(len),
         "base", "1", "partitions", std::to_string(kS)});
  }

  Reply seal(int k, int64_t round, int64_t term = 1, const std::string& max_listed = "100",
             const std::string& ttl = "604800") {
    bus::PartitionKeys p = part(k);
    return eval(
        bus::lua::seal,
        {p.schedule(), p.sealed(), p.term(), p.scores(round), p.total(round), p.summary(round)},
        {std::to_string(term), std::to_string(round), ttl, max_listed});
  }

  // The reply's summary, parsed; fails the test on any other reply.
  core::PartitionSummary summary(const Reply& r, const char* tag = "SEALED") {
    EXPECT_EQ(r.type, REDIS_REPLY_ARRAY) << r.str;
    if (r.type != REDIS_REPLY_ARRAY || r.elements.size() != 2) return {};
    EXPECT_EQ(r.elements[0].str, tag);
    return parse(r.elements[1].str);
  }

  static core::PartitionSummary parse(const std::string& text) {
    json j = json::parse(text);
    EXPECT_TRUE(j.at("names").is_array()) << text;
    core::PartitionSummary s;
    s.top = j.at("top").get<int64_t>();
    s.at_top = j.at("atTop").get<int64_t>();
    s.names = j.at("names").get<std::vector<std::string>>();
    s.total_clicks = j.at("totalClicks").get<int64_t>();
    s.players = j.at("players").get<int64_t>();
    return s;
  }

  void scores(int k, int64_t round, const std::vector<std::pair<std::string, int64_t>>& s) {
    for (auto& [name, n] : s) {
      cmd({"ZINCRBY", part(k).scores(round), std::to_string(n), name});
      cmd({"INCRBY", part(k).total(round), std::to_string(n)});
    }
  }

  int64_t epoch_ = 0;
};

TEST_F(Seal, SummaryOfTiesIsExact) {
  scores(1, 5, {{"carol", 3}, {"bob", 5}, {"alice", 5}, {"dave", 1}});
  core::PartitionSummary s = summary(seal(1, 5));
  EXPECT_EQ(s, (core::PartitionSummary{5, 2, {"alice", "bob"}, 14, 4}));
  EXPECT_EQ(cmd({"GET", part(1).sealed()}).str, "5");
  EXPECT_EQ(cmd({"GET", part(1).term()}).str, "1");
  // Other partitions are untouched.
  EXPECT_TRUE(cmd({"GET", part(0).sealed()}).is_nil());
  EXPECT_TRUE(cmd({"GET", part(0).summary(5)}).is_nil());
}

TEST_F(Seal, EmptyRoundHasALiteralEmptyNamesArray) {
  Reply r = seal(0, 4);
  ASSERT_EQ(r.elements.size(), 2u) << r.str;
  EXPECT_NE(r.elements[1].str.find(R"("names":[])"), std::string::npos) << r.elements[1].str;
  EXPECT_EQ(parse(r.elements[1].str), (core::PartitionSummary{0, 0, {}, 0, 0}));
  EXPECT_EQ(cmd({"GET", part(0).sealed()}).str, "4");
}

TEST_F(Seal, ATopOfZeroHasNoWinner) {
  cmd({"ZADD", part(2).scores(3), "0", "idle"});
  EXPECT_EQ(summary(seal(2, 3)), (core::PartitionSummary{0, 0, {}, 0, 1}));
}

TEST_F(Seal, ListsAtMostMaxListedNamesButCountsAll) {
  std::vector<std::pair<std::string, int64_t>> s;
  for (int i = 0; i < 150; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "p%03d", i);
    s.emplace_back(name, 4);
  }
  s.emplace_back("zz_last", 1);
  scores(3, 3, s);
  core::PartitionSummary got = summary(seal(3, 3));
  ASSERT_EQ(got.names.size(), 100u);
  EXPECT_EQ(got.names.front(), "p000");
  EXPECT_EQ(got.names.back(), "p099");
  EXPECT_EQ(got.at_top, 150);
  EXPECT_EQ(got.top, 4);
  EXPECT_EQ(got.total_clicks, 601);
  EXPECT_EQ(got.players, 151);
  cmd({"DEL", part(3).summary(3)});
  EXPECT_EQ(summary(seal(3, 3, 1, "7")).names.size(), 7u);
}

TEST_F(Seal, SecondSealAnswersTheStoredSummaryUnchanged) {
  scores(0, 6, {{"alice", 2}});
  Reply first = seal(0, 6);
  ASSERT_EQ(first.elements.at(0).str, "SEALED");
  cmd({"ZADD", part(0).scores(6), "99", "late"});  // a second seal must not recompute
  Reply again = seal(0, 6, 2);
  ASSERT_EQ(again.elements.at(0).str, "DONE") << again.str;
  EXPECT_EQ(again.elements.at(1).str, first.elements.at(1).str);
}

TEST_F(Seal, ARunningRoundIsEarlyAndNothingIsWritten) {
  scores(1, 11, {{"alice", 2}});
  Reply r = seal(1, 11);
  ASSERT_EQ(r.type, REDIS_REPLY_ARRAY) << r.str;
  EXPECT_EQ(r.elements.at(0).str, "EARLY");
  EXPECT_GT(r.elements.at(1).integer, 0);
  EXPECT_LE(r.elements.at(1).integer, kLen);
  EXPECT_EQ(seal(1, 12).elements.at(0).str, "EARLY");
  EXPECT_TRUE(cmd({"GET", part(1).summary(11)}).is_nil());
  EXPECT_TRUE(cmd({"GET", part(1).sealed()}).is_nil());
  EXPECT_EQ(cmd({"TTL", part(1).scores(11)}).integer, -1);
}

// The partition's own copy decides (the clock and schedule click.lua attributes its clicks
// with): a copy that puts round 5 later makes it EARLY here even though the others sealed it.
TEST_F(Seal, TheCopyOfThisPartitionDecides) {
  copy(2, redis_now() - kLen / 2, kLen);  // round 1 running here
  EXPECT_EQ(seal(2, 5).elements.at(0).str, "EARLY");
  EXPECT_EQ(seal(1, 5).elements.at(0).str, "SEALED");
}

TEST_F(Seal, UsesThePreviousSegmentAfterAPromotion) {
  int64_t change = epoch_ + 9 * kLen;
  cmd({"DEL", part(0).schedule()});
  cmd({"HSET", part(0).schedule(), "epoch", std::to_string(change), "len", "300000", "base", "10",
       "prev_epoch", std::to_string(epoch_), "prev_len", std::to_string(kLen), "prev_base", "1"});
  EXPECT_EQ(seal(0, 9).elements.at(0).str, "SEALED");
  EXPECT_EQ(seal(0, 10).elements.at(0).str, "EARLY");
}

TEST_F(Seal, AnOlderTermIsRefusedWithTheTermSeen) {
  scores(0, 7, {{"alice", 1}});
  ASSERT_EQ(seal(0, 6, 5).elements.at(0).str, "SEALED");
  EXPECT_EQ(cmd({"GET", part(0).term()}).str, "5");
  Reply old = seal(0, 7, 4);
  ASSERT_TRUE(old.is_error());
  EXPECT_EQ(old.str, "NOTLEADER term 5");
  EXPECT_TRUE(cmd({"GET", part(0).summary(7)}).is_nil());
  EXPECT_EQ(cmd({"GET", part(0).sealed()}).str, "6");
  // Even a stored summary is not read back by an older term.
  EXPECT_TRUE(seal(0, 6, 4).is_error());
  // The same term and a newer one are accepted; the newer one is remembered.
  EXPECT_EQ(seal(0, 7, 5).elements.at(0).str, "SEALED");
  EXPECT_EQ(seal(0, 7, 9).elements.at(0).str, "DONE");
  EXPECT_EQ(cmd({"GET", part(0).term()}).str, "9");
  // The term is remembered even when the round is not over yet.
  EXPECT_EQ(seal(0, 11, 10).elements.at(0).str, "EARLY");
  EXPECT_EQ(cmd({"GET", part(0).term()}).str, "10");
}

TEST_F(Seal, TheSealedMarkIsNeverLowered) {
  ASSERT_EQ(seal(3, 8).elements.at(0).str, "SEALED");
  ASSERT_EQ(seal(3, 5).elements.at(0).str, "SEALED");
  EXPECT_EQ(cmd({"GET", part(3).sealed()}).str, "8");
}

TEST_F(Seal, SetsExpiries) {
  scores(2, 9, {{"alice", 3}});
  ASSERT_EQ(seal(2, 9).elements.at(0).str, "SEALED");
  for (const auto& key : {part(2).scores(9), part(2).total(9), part(2).summary(9)}) {
    int64_t ttl = cmd({"TTL", key}).integer;
    EXPECT_GT(ttl, 604000) << key;
    EXPECT_LE(ttl, 604800) << key;
  }
  EXPECT_EQ(cmd({"TTL", part(2).sealed()}).integer, -1);
  EXPECT_EQ(cmd({"TTL", part(2).term()}).integer, -1);
}

TEST_F(Seal, NoCopyIsNoRound) {
  cmd({"DEL", part(1).schedule()});
  Reply r = seal(1, 3);
  ASSERT_TRUE(r.is_error());
  EXPECT_EQ(r.str.rfind("NOROUND", 0), 0u) << r.str;
  EXPECT_TRUE(cmd({"GET", part(1).sealed()}).is_nil());
}

TEST_F(Seal, BadArgumentsAreRejected) {
  bus::PartitionKeys p = part(0);
  std::vector<std::string> keys{p.schedule(), p.sealed(), p.term(),
                                p.scores(3),  p.total(3), p.summary(3)};
  for (const auto& args : std::vector<std::vector<std::string>>{{"0", "3", "60", "100"},
                                                                {"x", "3", "60", "100"},
                                                                {"1", "0", "60", "100"},
                                                                {"1", "-3", "60", "100"},
                                                                {"1", "3", "0", "100"},
                                                                {"1", "3", "60", "0"},
                                                                {"1", "3", "60"},
                                                                {}}) {
    Reply r = eval(bus::lua::seal, keys, args);
    ASSERT_TRUE(r.is_error());
    EXPECT_EQ(r.str.rfind("BADARG ", 0), 0u) << r.str;
  }
  Reply few = eval(bus::lua::seal, {p.schedule()}, {"1", "3", "60", "100"});
  EXPECT_EQ(few.str.rfind("BADARG ", 0), 0u) << few.str;
  EXPECT_TRUE(cmd({"GET", p.sealed()}).is_nil());
  EXPECT_TRUE(cmd({"GET", p.term()}).is_nil());
}

// Random scores spread over the partitions by partition_of(): sealing each and merging the
// summaries gives exactly what pick_winners() gives over all scores at once — ties across
// partitions included.
TEST_F(Seal, MergedSummariesMatchTheCppReference) {
  std::mt19937 rng(4242);
  for (int trial = 0; trial < 4; ++trial) {
    int64_t round = 2 + trial;
    std::uniform_int_distribution<int> count(1, trial == 0 ? 2 : 30);
    std::map<std::string, int64_t> all;
    for (int i = 0; i < 60; ++i) {
      std::string name = "player" + std::to_string(i);
      int64_t n = count(rng);
      scores(bus::partition_of(name, kS), round, {{name, n}});
      all[name] += n;
    }
    std::vector<core::PlayerScore> flat;
    for (auto& [name, n] : all) flat.push_back({name, n});
    core::RoundOutcome want = core::pick_winners(flat, 3);

    std::vector<core::PartitionSummary> parts;
    for (int k = 0; k < kS; ++k) parts.push_back(summary(seal(k, round, 1, "3")));
    core::RoundOutcome got = core::merge_summaries(parts, 3);
    EXPECT_EQ(got.winners, want.winners) << "trial " << trial;
    EXPECT_EQ(got.winner_count, want.winner_count);
    EXPECT_EQ(got.winning_clicks, want.winning_clicks);
    EXPECT_EQ(got.total_clicks, want.total_clicks);
    EXPECT_EQ(got.players, want.players);
    if (trial == 0) {
      EXPECT_GT(want.winner_count, 3) << "the tie case is exercised";
    }
  }
}

// S = 1: the partition's keys are the global ones (a single Redis keeps its layout).
TEST_F(Seal, OnePartitionUsesTheGlobalKeys) {
  bus::PartitionKeys p = keys_.partition(0, 1);
  EXPECT_EQ(p.schedule(), keys_.schedule());
  EXPECT_EQ(p.scores(5), keys_.scores(5));
  write_schedule(epoch_, kLen);
  cmd({"ZINCRBY", keys_.scores(5), "3", "alice"});
  cmd({"INCRBY", keys_.total(5), "3"});
  Reply r = eval(bus::lua::seal,
                 {p.schedule(), p.sealed(), p.term(), p.scores(5), p.total(5), p.summary(5)},
                 {"1", "5", "60", "100"});
  EXPECT_EQ(summary(r), (core::PartitionSummary{3, 1, {"alice"}, 3, 1}));
}

using ScheduleCopy = Seal;

TEST_F(ScheduleCopy, ReplacesTheWholeCopyAndIsFenced) {
  bus::PartitionKeys p = part(1);
  auto write = [&](int64_t term, std::vector<std::string> fields) {
    std::vector<std::string> args{std::to_string(term)};
    args.insert(args.end(), fields.begin(), fields.end());
    return eval(bus::lua::schedule_copy, {p.schedule(), p.term()}, args);
  };
  ASSERT_EQ(write(3, {"epoch", "100", "len", "50", "base", "1", "next_epoch", "200", "next_len",
                      "70", "next_base", "3", "partitions", "4"})
                .integer,
            1);
  EXPECT_EQ(cmd({"HGET", p.schedule(), "next_len"}).str, "70");
  EXPECT_EQ(cmd({"GET", p.term()}).str, "3");
  // The change was cancelled in the global schedule: the copy loses next_* too.
  ASSERT_EQ(write(3, {"epoch", "100", "len", "50", "base", "1", "partitions", "4"}).integer, 1);
  EXPECT_EQ(cmd({"HLEN", p.schedule()}).integer, 4);
  EXPECT_EQ(cmd({"HEXISTS", p.schedule(), "next_epoch"}).integer, 0);
  // An older leader's schedule may be stale: refused, nothing changed.
  Reply old = write(2, {"epoch", "1", "len", "1", "base", "1"});
  ASSERT_TRUE(old.is_error());
  EXPECT_EQ(old.str, "NOTLEADER term 3");
  EXPECT_EQ(cmd({"HGET", p.schedule(), "epoch"}).str, "100");
  // Bad input changes nothing.
  for (const auto& bad : std::vector<std::vector<std::string>>{
           {"epoch", "1", "len", "1"},
           {"epoch", "1", "len", "1", "base"},
           {"epoch", "1", "len", "1", "base", "x"},
           {"epoch", "1", "len", "1", "base", "1", "other", "2"}}) {
    Reply r = write(4, bad);
    ASSERT_TRUE(r.is_error());
    EXPECT_EQ(r.str.rfind("BADARG ", 0), 0u) << r.str;
  }
  EXPECT_EQ(cmd({"HGET", p.schedule(), "epoch"}).str, "100");
  EXPECT_EQ(cmd({"GET", p.term()}).str, "3");
}

}  // namespace
}  // namespace clickrace::test
