// The real scheduler closing rounds over S = 4 score partitions on one Redis (docs/bus.md
// "Partitions"): scores written straight into the partitions' keys (as click.lua would), the
// announced result exact — winners tied across partitions, winning clicks, total clicks,
// players — and a leader that died halfway (some partitions sealed, or the result written but
// not announced) finished by the next one, each round announced once.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "clickrace/bus/keys.hpp"
#include "clickrace/bus/lua_scripts.hpp"
#include "clickrace/bus/partitions.hpp"
#include "clickrace/core/partition_merge.hpp"
#include "clickrace/core/round_math.hpp"
#include "scheduler_harness.hpp"

namespace clickrace::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr int kS = 4;

// Names spread over the partitions: the i-th name of partition k (partition_of decides).
std::string name_in(int k, int i) {
  int found = 0;
  for (int n = 0;; ++n) {
    std::string name = "p" + std::to_string(n);
    if (bus::partition_of(name, kS) == k && found++ == i) return name;
  }
}

class Partitions : public ::testing::Test {
 protected:
  SchedulerConfig config(const std::string& id, int64_t round_ms) {
    SchedulerConfig c;
    c.redis_url = redis_.url();
    c.prefix = prefix_;
    c.id = id;
    c.round_ms = round_ms;
    c.partitions = kS;
    c.leaderboard_ms = 100;
    return c;
  }
  std::unique_ptr<SchedulerProcess> start(const SchedulerConfig& c) {
    auto p = std::make_unique<SchedulerProcess>(c);
    EXPECT_TRUE(p->start()) << p->process().output();
    return p;
  }
  bool wait_closed(int64_t at_least, std::chrono::milliseconds timeout = 15s) {
    return wait_closed_and_heard(sync_, prefix_, events_, at_least, timeout);
  }
  bus::PartitionKeys part(int k) const { return keys_.partition(k, kS); }
  void add(int64_t round, const std::string& name, int64_t n) {
    bus::PartitionKeys p = part(bus::partition_of(name, kS));
    sync_.cmd({"ZINCRBY", p.scores(round), std::to_string(n), name});
    sync_.cmd({"INCRBY", p.total(round), std::to_string(n)});
  }
  // The schedule and Redis's clock now.
  std::optional<core::Schedule> schedule() {
    Reply r = sync_.cmd({"HGETALL", keys_.schedule()});
    std::vector<std::pair<std::string, std::string>> f;
    for (size_t i = 0; i + 1 < r.elements.size(); i += 2) {
      f.emplace_back(r.elements[i].str, r.elements[i + 1].str);
    }
    if (f.empty()) return std::nullopt;
    auto s = bus::schedule_from_hash(f);
    if (!s) return std::nullopt;
    return *s;
  }
  int64_t redis_now() {
    Reply t = sync_.cmd({"TIME"});
    return std::stoll(t.elements.at(0).str) * 1000 + std::stoll(t.elements.at(1).str) / 1000;
  }
  // Every RoundEnded of `round` heard.
  std::vector<bus::RoundResult> ended(int64_t round) {
    std::vector<bus::RoundResult> out;
    for (const auto& e : events_.ended()) {
      if (e.round == round) out.push_back(e);
    }
    return out;
  }
  Reply seal(int k, int64_t round, int64_t term) {
    bus::PartitionKeys p = part(k);
    std::vector<std::string> a{"EVAL",
                               bus::lua::seal,
                               "6",
                               p.schedule(),
                               p.sealed(),
                               p.term(),
                               p.scores(round),
                               p.total(round),
                               p.summary(round),
                               std::to_string(term),
                               std::to_string(round),
                               "600",
                               "100"};
    return sync_.cmd(a);
  }

  RedisServer redis_;
  RedisSync sync_{redis_.port()};
  std::string prefix_ = unique_prefix();
  bus::Keys keys_{prefix_};
  EventListener events_{redis_.port(), prefix_ + "events"};
};

TEST_F(Partitions, TiesAcrossPartitionsAreMergedExactly) {
  ASSERT_TRUE(events_.ok());
  auto a = start(config("a", 1500));
  ASSERT_TRUE(eventually([&] { return schedule().has_value(); }));
  // The schedule records S, and every partition has its copy.
  EXPECT_EQ(sync_.cmd({"HGET", keys_.schedule(), "partitions"}).str, "4");
  ASSERT_TRUE(eventually([&] {
    for (int k = 0; k < kS; ++k) {
      if (sync_.cmd({"HGET", part(k).schedule(), "epoch"}).str !=
          sync_.cmd({"HGET", keys_.schedule(), "epoch"}).str) {
        return false;
      }
    }
    return true;
  })) << a->process().output();
  EXPECT_EQ(sync_.cmd({"HGET", part(2).schedule(), "partitions"}).str, "4");

  // Scores for the next round, written before it starts: three players tied at 7 in three
  // different partitions, the rest below.
  core::Schedule s = *schedule();
  int64_t target = core::round_at(s, redis_now()).id + 1;
  std::vector<std::string> tied{name_in(0, 0), name_in(1, 0), name_in(3, 0)};
  std::map<std::string, int64_t> expected{
      {tied[0], 7},       {tied[1], 7},       {tied[2], 7},      {name_in(0, 1), 6},
      {name_in(2, 0), 5}, {name_in(2, 1), 1}, {name_in(3, 1), 2}};
  int64_t total = 0;
  for (auto& [name, n] : expected) {
    // In two steps, as separate click batches would.
    add(target, name, n - n / 2);
    if (n / 2 > 0) add(target, name, n / 2);
    total += n;
  }
  std::sort(tied.begin(), tied.end());

  ASSERT_TRUE(wait_closed(target)) << a->process().output();
  auto got = ended(target);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].winners, tied);
  EXPECT_EQ(got[0].winner_count, 3);
  EXPECT_EQ(got[0].winning_clicks, 7);
  EXPECT_EQ(got[0].total_clicks, total);
  EXPECT_EQ(got[0].players, static_cast<int64_t>(expected.size()));
  EXPECT_EQ(got[0].started_at, core::window_of(s, target).starts_at);
  EXPECT_EQ(got[0].ended_at, core::window_of(s, target).ends_at);
  // The stream holds the same; every partition sealed the round.
  bool in_stream = false;
  for (const auto& r : read_stream(sync_, prefix_)) {
    if (r.round == target) {
      EXPECT_EQ(r, got[0]);
      in_stream = true;
    }
  }
  EXPECT_TRUE(in_stream);
  for (int k = 0; k < kS; ++k) {
    EXPECT_GE(std::stoll(sync_.cmd({"GET", part(k).sealed()}).str), target) << k;
    EXPECT_FALSE(sync_.cmd({"GET", part(k).summary(target)}).is_nil()) << k;
  }
  // The leaderboard of the running round merged the partitions' tops and totals.
  bool board = false;
  for (const auto& e : events_.events()) {
    if (e.event != "Leaderboard" || e.round != target) continue;
    board = true;
    EXPECT_EQ(e.data["totalClicks"], total);
    ASSERT_EQ(e.data["top"].size(), expected.size());
    EXPECT_EQ(e.data["top"][0]["clicks"], 7);
    EXPECT_EQ(e.data["top"][3]["name"], name_in(0, 1));
    EXPECT_EQ(e.data["top"][4]["clicks"], 5);
  }
  EXPECT_TRUE(board);
  // The rounds before and after are empty and announced too, in order, once each.
  ASSERT_TRUE(wait_closed(target + 1)) << a->process().output();
  auto all = events_.ended();
  expect_unique(all);
  expect_contiguous(all, 1500, all.front().round);
  auto [status, metrics] = a->get("/metrics");
  EXPECT_EQ(status, 200);
  EXPECT_NE(metrics.find("clickrace_scheduler_seal_calls_total"), std::string::npos);
  EXPECT_NE(metrics.find("clickrace_scheduler_redis_node_calls_total{node="), std::string::npos)
      << metrics;
  auto status_json = nlohmann::json::parse(a->get("/status").second);
  EXPECT_EQ(status_json["scorePartitions"], 4);
  EXPECT_GE(status_json["term"].get<int64_t>(), 1);
  EXPECT_EQ(status_json["term"], std::stoll(sync_.cmd({"GET", prefix_ + "scheduler:term"}).str));
}

// A leader died halfway through two closes: round r with two of its four partitions sealed,
// round r + 1 sealed everywhere and its result written but not announced. The next leader (a
// higher term) finishes both: the same exact results, each announced once, and then goes on.
TEST_F(Partitions, TheNextLeaderFinishesWhatADeadLeaderLeft) {
  ASSERT_TRUE(events_.ok());
  auto a = start(config("a", 400));
  ASSERT_TRUE(wait_closed(2)) << a->process().output();
  a->process().kill();  // -9: no release
  int64_t dead_term = std::stoll(sync_.cmd({"GET", keys_.term()}).str);
  // a may have died sealing closed + 1; it never touched a round after that one.
  int64_t r = closed_round(sync_, prefix_) + 2;
  core::Schedule s = *schedule();
  // Scores of rounds r and r + 1 (running or over: nobody seals them before the writes).
  add(r, name_in(0, 0), 4);
  add(r, name_in(2, 0), 4);
  add(r, name_in(3, 0), 1);
  add(r + 1, name_in(1, 0), 9);
  add(r + 1, name_in(1, 1), 2);
  // Both rounds over, by Redis's clock.
  ASSERT_TRUE(eventually([&] { return redis_now() >= core::window_of(s, r + 1).ends_at + 20; }));
  // What the dead leader did: sealed partitions 0 and 1 of round r (partition 0 holds a winner,
  // so the next leader must take that summary back, not lose it) ...
  for (int k : {0, 1}) {
    Reply sr = seal(k, r, dead_term);
    ASSERT_EQ(sr.elements.at(0).str, "SEALED") << sr.str;
  }
  // ... and for round r + 1 sealed every partition, merged and wrote the result unannounced.
  std::vector<core::PartitionSummary> parts;
  for (int k = 0; k < kS; ++k) {
    Reply sr = seal(k, r + 1, dead_term);
    ASSERT_EQ(sr.elements.at(0).str, "SEALED") << sr.str;
    json j = json::parse(sr.elements.at(1).str);
    parts.push_back({j["top"], j["atTop"], j["names"], j["totalClicks"], j["players"]});
  }
  core::RoundOutcome m = core::merge_summaries(parts);
  sync_.cmd({"SET", keys_.leader(), "a", "PX", "5000"});  // as if a still held its lease
  std::vector<std::string> w{"EVAL",
                             bus::lua::close_round,
                             "6",
                             keys_.leader(),
                             keys_.schedule(),
                             keys_.result(r + 1),
                             keys_.announced(r + 1),
                             keys_.closed(),
                             keys_.rounds(),
                             prefix_,
                             "a",
                             std::to_string(r + 1),
                             "600",
                             "100",
                             "write",
                             std::to_string(m.winner_count),
                             std::to_string(m.winning_clicks),
                             std::to_string(m.total_clicks),
                             std::to_string(m.players)};
  w.insert(w.end(), m.winners.begin(), m.winners.end());
  Reply written = sync_.cmd(w);
  ASSERT_EQ(written.elements.at(0).str, "WRITTEN") << written.str;
  sync_.cmd({"DEL", keys_.leader()});
  EXPECT_TRUE(ended(r).empty());
  EXPECT_TRUE(ended(r + 1).empty());

  auto b = start(config("b", 400));
  ASSERT_TRUE(wait_closed(r + 2)) << b->process().output();
  EXPECT_GT(std::stoll(sync_.cmd({"GET", keys_.term()}).str), dead_term);
  auto got_r = ended(r);
  auto got_next = ended(r + 1);
  ASSERT_EQ(got_r.size(), 1u) << b->process().output();
  ASSERT_EQ(got_next.size(), 1u) << b->process().output();
  std::vector<std::string> tied{name_in(0, 0), name_in(2, 0)};
  std::sort(tied.begin(), tied.end());
  EXPECT_EQ(got_r[0].winners, tied);
  EXPECT_EQ(got_r[0].winner_count, 2);
  EXPECT_EQ(got_r[0].winning_clicks, 4);
  EXPECT_EQ(got_r[0].total_clicks, 9);
  EXPECT_EQ(got_r[0].players, 3);
  EXPECT_EQ(got_next[0].winners, std::vector<std::string>{name_in(1, 0)});
  EXPECT_EQ(got_next[0].winning_clicks, 9);
  EXPECT_EQ(got_next[0].total_clicks, 11);
  EXPECT_EQ(got_next[0].players, 2);
  EXPECT_EQ(json::parse(written.elements.at(1).str),
            json::parse(sync_.cmd({"GET", keys_.result(r + 1)}).str));
  auto all = events_.ended();
  expect_unique(all);
  expect_contiguous(all, 400, all.front().round);
}

// Two schedulers over four partitions, the leader killed -9 again and again at random moments
// (mid-seal, mid-close, mid-round): no round skipped, none announced twice.
TEST_F(Partitions, KillingLeadersRepeatedlyNeverSkipsOrRepeatsARound) {
  ASSERT_TRUE(events_.ok());
  std::map<std::string, std::unique_ptr<SchedulerProcess>> s;
  s["a"] = start(config("a", 300));
  s["b"] = start(config("b", 300));
  ASSERT_TRUE(wait_closed(2));
  for (int i = 0; i < 4; ++i) {
    int64_t c = closed_round(sync_, prefix_);
    ASSERT_TRUE(wait_closed(c + 1)) << s["a"]->process().output() << s["b"]->process().output();
    std::this_thread::sleep_for(std::chrono::milliseconds(37 * i));
    std::string leader = sync_.cmd({"GET", keys_.leader()}).str;
    ASSERT_TRUE(leader == "a" || leader == "b") << leader;
    s[leader]->process().kill();
    s[leader] = start(config(leader, 300));
  }
  int64_t c = closed_round(sync_, prefix_);
  ASSERT_TRUE(wait_closed(c + 2));
  auto all = events_.ended();
  expect_unique(all);
  expect_contiguous(all, 300, 1);
}

}  // namespace
}  // namespace clickrace::test
