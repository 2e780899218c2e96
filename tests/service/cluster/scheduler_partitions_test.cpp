// Two real round-schedulers on a real Redis Cluster (3 primaries + 3 replicas) closing rounds
// over S = 12 score partitions (the cluster default; docs/bus.md "Partitions"): scores written
// into partitions on every primary give the exact merged result, announced once; killing -9
// the primary that holds the global keys (lease, schedule, results, stream) during closes skips
// no round and announces none twice.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "clickrace/bus/events.hpp"
#include "clickrace/bus/keys.hpp"
#include "clickrace/bus/partitions.hpp"
#include "clickrace/core/round_math.hpp"
#include "clickrace/redis/cluster_slots.hpp"
#include "event_listener.hpp"
#include "process.hpp"
#include "redis_cluster.hpp"
#include "ws_client.hpp"

namespace clickrace::test {
namespace {

using namespace std::chrono_literals;

constexpr int kS = 12;
constexpr int64_t kRoundMs = 1000;
const std::string kPrefix = "{crsp}:";

class SchedulerPartitionsCluster : public ::testing::Test {
 protected:
  ~SchedulerPartitionsCluster() override {
    for (auto& s : scheds_) s->stop(3s);
  }
  Process& start_scheduler(const std::string& id) {
    scheds_.push_back(std::make_unique<Process>(
        id, std::vector<std::string>{bin("round-scheduler")},
        std::map<std::string, std::string>{{"CLICKRACE_REDIS_CLUSTER", cluster_.seeds()},
                                           {"CLICKRACE_KEY_PREFIX", kPrefix},
                                           {"CLICKRACE_SCHEDULER_PORT", "0"},
                                           {"CLICKRACE_BIND_ADDRESS", "127.0.0.1"},
                                           {"CLICKRACE_ROUND_MS", std::to_string(kRoundMs)},
                                           {"CLICKRACE_LEASE_MS", "1000"},
                                           {"CLICKRACE_LEADERBOARD_MS", "500"},
                                           {"CLICKRACE_SCHEDULER_ID", id},
                                           {"CLICKRACE_LOG_LEVEL", "info"}}));
    Process& p = *scheds_.back();
    p.start();
    admin_ports_.push_back(p.wait_listening());
    EXPECT_GT(admin_ports_.back(), 0) << p.output();
    return p;
  }
  // A command on the primary serving `key` (asked of the live nodes).
  Reply at(const std::string& key, const std::vector<std::string>& args) {
    RedisSync c(cluster_.primary_of_slot(redis::cluster::key_slot(key)));
    return c.cmd(args);
  }
  std::optional<core::Schedule> schedule() {
    Reply r = at(keys_.schedule(), {"HGETALL", keys_.schedule()});
    std::vector<std::pair<std::string, std::string>> f;
    for (size_t i = 0; i + 1 < r.elements.size(); i += 2) {
      f.emplace_back(r.elements[i].str, r.elements[i + 1].str);
    }
    if (f.empty()) return std::nullopt;
    auto s = bus::schedule_from_hash(f);
    return s ? std::optional<core::Schedule>(*s) : std::nullopt;
  }
  int64_t redis_now() {
    Reply t = at(keys_.schedule(), {"TIME"});
    return std::stoll(t.elements.at(0).str) * 1000 + std::stoll(t.elements.at(1).str) / 1000;
  }
  // The stream's results, oldest first.
  std::vector<bus::RoundResult> stream() {
    std::vector<bus::RoundResult> out;
    for (const auto& e : at(keys_.rounds(), {"XRANGE", keys_.rounds(), "-", "+"}).elements) {
      if (e.elements.size() != 2) continue;
      const auto& fields = e.elements[1].elements;
      for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
        if (fields[i].str != "result") continue;
        if (auto r = bus::parse_round_result(fields[i + 1].str)) out.push_back(*r);
      }
    }
    return out;
  }
  // 0 also while the node holding it cannot answer (killed, not failed over yet).
  int64_t closed() {
    try {
      Reply r = at(keys_.closed(), {"GET", keys_.closed()});
      return r.is_nil() || r.is_error() ? 0 : std::stoll(r.str);
    } catch (const std::exception&) {
      return 0;
    }
  }
  // Every round in the stream once, consecutive, each kRoundMs long and starting where the
  // previous one ended; every RoundEnded heard carries the stream's result of its round.
  void expect_each_round_once(const EventListener& heard) {
    auto s = stream();
    ASSERT_FALSE(s.empty());
    for (std::size_t i = 0; i < s.size(); ++i) {
      EXPECT_EQ(s[i].ended_at - s[i].started_at, kRoundMs) << "round " << s[i].round;
      if (i == 0) continue;
      EXPECT_EQ(s[i].round, s[i - 1].round + 1) << "skipped or repeated after " << s[i - 1].round;
      EXPECT_EQ(s[i].started_at, s[i - 1].ended_at) << "round " << s[i].round;
    }
    std::map<int64_t, bus::RoundResult> by_round;
    for (const auto& r : s) by_round[r.round] = r;
    // A second RoundEnded for a round is only possible when a primary died before its
    // announcement reached the replica: then it is the very same result (gateways drop it).
    for (const auto& e : heard.ended()) {
      auto it = by_round.find(e.round);
      if (it == by_round.end()) continue;  // announced after the stream was read
      EXPECT_EQ(e, it->second) << "round " << e.round << " announced with another result";
    }
  }
  std::string logs() {
    std::string out;
    for (auto& s : scheds_) out += s->output();
    return out + cluster_.diagnostics();
  }

  RedisCluster cluster_;
  bus::Keys keys_{kPrefix};
  std::vector<std::unique_ptr<Process>> scheds_;
  std::vector<int> admin_ports_;
};

TEST_F(SchedulerPartitionsCluster, TwelvePartitionsOnThreePrimariesGiveTheExactResultOnce) {
  // A cluster forwards PUBLISH to every node: listening on one hears every event.
  EventListener heard(cluster_.ports().front(), kPrefix + "events");
  ASSERT_TRUE(heard.ok());
  start_scheduler("s1");
  start_scheduler("s2");
  // The schedule records S = 12 (the cluster default) and every partition holds its copy.
  ASSERT_TRUE(eventually([&] { return schedule().has_value(); }, 15s)) << logs();
  EXPECT_EQ(at(keys_.schedule(), {"HGET", keys_.schedule(), "partitions"}).str, "12");
  std::map<int, std::vector<int>> by_primary;  // primary port -> partitions it serves
  ASSERT_TRUE(eventually(
      [&] {
        for (int k = 0; k < kS; ++k) {
          auto key = keys_.partition(k, kS).schedule();
          if (at(key, {"HGET", key, "partitions"}).str != "12") return false;
        }
        return true;
      },
      15s))
      << logs();
  for (int k = 0; k < kS; ++k) {
    by_primary[cluster_.primary_of_slot(
                   redis::cluster::key_slot(keys_.partition(k, kS).schedule()))]
        .push_back(k);
  }
  ASSERT_EQ(by_primary.size(), 3u) << "the 12 partitions spread over the 3 primaries";
  for (auto& [port, parts] : by_primary) EXPECT_EQ(parts.size(), 4u) << port;

  // Scores for the next round, on every primary: one player per partition below the top, and
  // three tied at the top in partitions on three different primaries.
  core::Schedule s = *schedule();
  int64_t target = core::round_at(s, redis_now()).id + 1;
  auto name_in = [](int k, int i) {
    int found = 0;
    for (int n = 0;; ++n) {
      std::string name = "cp" + std::to_string(n);
      if (bus::partition_of(name, kS) == k && found++ == i) return name;
    }
  };
  auto add = [&](const std::string& name, int64_t n) {
    bus::PartitionKeys p = keys_.partition(bus::partition_of(name, kS), kS);
    at(p.scores(target), {"ZINCRBY", p.scores(target), std::to_string(n), name});
    at(p.total(target), {"INCRBY", p.total(target), std::to_string(n)});
  };
  int64_t total = 0, players = 0;
  for (int k = 0; k < kS; ++k) {
    add(name_in(k, 0), k + 1);
    total += k + 1;
    ++players;
  }
  std::vector<std::string> tied;
  for (auto& [port, parts] : by_primary) {
    tied.push_back(name_in(parts.front(), 1));
    add(tied.back(), 20);
    total += 20;
    ++players;
  }
  std::sort(tied.begin(), tied.end());

  ASSERT_TRUE(eventually(
      [&] {
        if (closed() < target) return false;
        for (const auto& e : heard.ended()) {
          if (e.round == target) return true;
        }
        return false;
      },
      20s))
      << logs();
  std::vector<bus::RoundResult> got;
  for (const auto& e : heard.ended()) {
    if (e.round == target) got.push_back(e);
  }
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].winners, tied);
  EXPECT_EQ(got[0].winner_count, 3);
  EXPECT_EQ(got[0].winning_clicks, 20);
  EXPECT_EQ(got[0].total_clicks, total);
  EXPECT_EQ(got[0].players, players);
  EXPECT_EQ(got[0].started_at, core::window_of(s, target).starts_at);
  expect_each_round_once(heard);
  // Per-node Redis metrics and the close metrics on the leader's /metrics.
  std::string leader = at(keys_.leader(), {"GET", keys_.leader()}).str;
  int admin = admin_ports_[leader == "s1" ? 0 : 1];
  HttpResult m = http_request(admin, "GET", "/metrics");
  EXPECT_EQ(m.status, 200);
  for (const char* series :
       {"clickrace_scheduler_redis_node_calls_total{node=",
        "clickrace_scheduler_redis_node_redirects_total{node=",
        "clickrace_scheduler_redis_node_failovers_total{node=",
        "clickrace_scheduler_seal_calls_total", "clickrace_scheduler_seal_early_total",
        "clickrace_scheduler_schedule_copies_total"}) {
    EXPECT_NE(m.body.find(series), std::string::npos) << series << "\n" << m.body;
  }
}

// kill -9 of the primary holding the global keys right at a round boundary (while the leader
// seals and closes): its replica takes over, the killed node comes back as a replica (round
// results wait for one: CLICKRACE_REDIS_WAIT_REPLICAS=1), and the rounds go on — none skipped,
// none announced twice, none with two results.
TEST_F(SchedulerPartitionsCluster, KillingTheGlobalPrimaryDuringClosesSkipsNoRound) {
  int slot = redis::cluster::key_slot(kPrefix);
  int global = cluster_.primary_of_slot(slot);
  int global_replica = cluster_.replica_of(global);
  int other = 0;
  for (int p : cluster_.ports()) {
    if (p != global && p != global_replica) other = p;
  }
  EventListener heard(other, kPrefix + "events");
  ASSERT_TRUE(heard.ok());
  start_scheduler("s1");
  start_scheduler("s2");
  ASSERT_TRUE(eventually([&] { return closed() >= 2; }, 20s)) << logs();

  // Right at the next boundary, by Redis's clock.
  core::Schedule s = *schedule();
  int64_t now = redis_now();
  core::RoundWindow w = core::round_at(s, now);
  std::this_thread::sleep_for(std::chrono::milliseconds(w.ends_at - now + 3));
  cluster_.kill(global);
  int64_t closed_before = w.id - 1;

  ASSERT_TRUE(eventually(
      [&] {
        try {
          int p = cluster_.primary_of_slot(slot, other);
          return p != 0 && p != global;
        } catch (const std::exception&) {
          return false;
        }
      },
      30s))
      << logs();
  cluster_.restart(global);
  ASSERT_TRUE(cluster_.wait_ok(40s)) << logs();
  ASSERT_TRUE(eventually([&] { return closed() >= closed_before + 4; }, 30s)) << logs();
  // Give the last announcement time to arrive on pub/sub too.
  std::this_thread::sleep_for(300ms);
  expect_each_round_once(heard);
  auto st = stream();
  ASSERT_FALSE(st.empty());
  EXPECT_LE(st.front().round, closed_before);
  EXPECT_GE(st.back().round, closed_before + 4);
}

}  // namespace
}  // namespace clickrace::test
