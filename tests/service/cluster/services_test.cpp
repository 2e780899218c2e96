#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>

#include "../faults/click_load.hpp"
#include "../faults/fault_topology.hpp"
#include "clickrace/redis/cluster_slots.hpp"
#include "cluster_stack.hpp"
#include "ws_client.hpp"

// Both services on a real Redis Cluster, played by official-client players through nginx.
namespace clickrace::test {
namespace {

struct Tally {
  long long lost = 0;      // acknowledged but not stored (must be 0)
  long long invented = 0;  // stored beyond acknowledged + ambiguous (must be 0)
  long long acked = 0, stored = 0, ambiguous = 0;
};

// Per player: acked <= stored <= acked + ambiguous (exact: stored == acked).
Tally tally(ClickLoad& load, ClusterStack& stack, bool exact) {
  auto stored = stack.stored_clicks();
  Tally t;
  for (auto& p : load.players()) {
    PlayerCounts c = p->counts();
    long long s = stored.count(p->name()) ? stored[p->name()] : 0;
    t.acked += c.acked;
    t.stored += s;
    t.ambiguous += c.ambiguous();
    if (s < c.acked) t.lost += c.acked - s;
    long long allowed = exact ? c.acked : c.acked + c.ambiguous();
    if (s > allowed) t.invented += s - allowed;
    EXPECT_LE(c.acked, s) << p->name() << " lost acknowledged clicks";
    EXPECT_LE(s, allowed) << p->name() << " has clicks nobody sent";
  }
  return t;
}

// The stream: consecutive rounds from 1, each once, each starting where the previous ended.
std::vector<long long> check_stream(ClusterStack& stack) {
  std::vector<long long> ids;
  long long prev_end = 0;
  for (const auto& text : stack.stream_results()) {
    auto j = nlohmann::json::parse(text);
    long long id = j["round"].get<long long>();
    if (!ids.empty()) {
      EXPECT_EQ(id, ids.back() + 1) << "stream skips or repeats a round";
      EXPECT_EQ(j["startedAt"].get<long long>(), prev_end);
    }
    ids.push_back(id);
    prev_end = j["endedAt"].get<long long>();
  }
  return ids;
}

// Every connection saw RoundEnded ids in order, none twice.
void check_announcements(ClickLoad& load) {
  for (auto& p : load.players()) {
    std::set<long long> seen;
    for (const auto& s : p->sessions()) {
      for (std::size_t i = 1; i < s.rounds.size(); ++i) {
        EXPECT_EQ(s.rounds[i], s.rounds[i - 1] + 1) << p->name() << " round order/gap";
      }
      for (long long r : s.rounds) EXPECT_TRUE(seen.insert(r).second) << p->name() << " twice";
    }
  }
}

LoadOptions load_options(ClusterStack& stack, int players) {
  LoadOptions o;
  o.players = players;
  o.clicks_per_s = 10;
  o.base_url = stack.lb().base_url();
  return o;
}

TEST(ClusterServices, HubFlowWithTwoGatewaysAndTwoSchedulers) {
  ClusterStack stack;
  ClickLoad load(load_options(stack, 30));
  ASSERT_TRUE(eventually([&] { return load.all_connected(); }, 20s));
  load.start();
  std::this_thread::sleep_for(4s);
  load.stop();
  // The rounds with clicks close and are announced.
  std::this_thread::sleep_for(std::chrono::milliseconds(3 * kClusterRoundMs));
  auto t = tally(load, stack, true);
  EXPECT_GT(t.acked, 500);
  EXPECT_EQ(t.lost, 0);
  EXPECT_EQ(t.stored, t.acked);
  auto ids = check_stream(stack);
  ASSERT_GE(ids.size(), 4u);
  long long total = 0;
  for (const auto& text : stack.stream_results()) {
    total += nlohmann::json::parse(text)["totalClicks"].get<long long>();
  }
  EXPECT_EQ(total, t.stored) << "the results' totals account for every stored click";
  check_announcements(load);
  std::cout << "[ cluster  ] acked " << t.acked << " stored " << t.stored << " over " << ids.size()
            << " rounds\n";
  if (HasFailure()) std::cout << stack.logs_tail();
}

// Two replicas per primary: after a failover the new primary still has one, so acknowledged
// (WAITed) clicks continue. (With one replica, clicks are refused until a replica is back.)
TEST(ClusterServices, KillingThePrimaryWithTheDataUnderLoad) {
  RedisCluster::Config config;
  config.replicas = 2;
  ClusterStack stack(config);
  ClickLoad load(load_options(stack, 30));
  ASSERT_TRUE(eventually([&] { return load.all_connected(); }, 20s));
  load.start();
  std::this_thread::sleep_for(3s);
  int victim = stack.data_port();
  long long killed = FaultTopology::wall_ms();
  stack.cluster().kill(victim);
  // Clicks are served again after the failover.
  bool served = load.wait_served(
      [&] {
        std::vector<Player*> all;
        for (auto& p : load.players()) all.push_back(p.get());
        return all;
      }(),
      killed, 40s);
  long long back = 0;
  for (auto& p : load.players()) back = std::max(back, p->first_ack_after(killed));
  EXPECT_TRUE(served) << stack.logs_tail();
  std::cout << "[ cluster  ] every player served again " << (back - killed)
            << " ms after kill -9 of the primary holding the game's keys\n";
  std::this_thread::sleep_for(3s);
  load.stop();
  std::this_thread::sleep_for(std::chrono::milliseconds(3 * kClusterRoundMs));
  EXPECT_NE(stack.data_port(), victim);
  // Each gateway saw the failover (per-node metrics).
  for (int i = 0; i < 2; ++i) {
    std::string text = http_request(stack.gateway_port(i), "GET", "/metrics").body;
    std::string promoted = "clickrace_gateway_redis_node_failovers_total{node=\"127.0.0.1:" +
                           std::to_string(stack.data_port()) + "\"} 1";
    EXPECT_NE(text.find(promoted), std::string::npos) << "gateway " << i << ":\n" << text;
  }
  auto t = tally(load, stack, false);
  std::cout << "[ cluster  ] acked " << t.acked << " stored " << t.stored << " ambiguous "
            << t.ambiguous << " lost " << t.lost << '\n';
  EXPECT_EQ(t.lost, 0);
  EXPECT_EQ(t.invented, 0);
  check_stream(stack);
  check_announcements(load);
  if (HasFailure()) std::cout << stack.logs_tail();
}

// The primary's replica falls behind (SIGSTOP, link cut) while players click, then the primary dies
// and the stale replica takes over: no acknowledged click may be missing from it. Without WAIT the
// clicks acknowledged while the replica was frozen are lost here (seen: run with
// CLICKRACE_REDIS_WAIT_REPLICAS=0 in gateway_env).
TEST(ClusterServices, AcknowledgedClicksSurviveAPromotedStaleReplica) {
  std::map<std::string, std::string> env;
  if (const char* w = std::getenv("CLICKRACE_TEST_WAIT_REPLICAS")) {
    env["CLICKRACE_REDIS_WAIT_REPLICAS"] = w;
  }
  ClusterStack stack({}, env);
  ClickLoad load(load_options(stack, 20));
  ASSERT_TRUE(eventually([&] { return load.all_connected(); }, 20s));
  load.start();
  std::this_thread::sleep_for(2s);
  int primary = stack.data_port();
  int replica = stack.cluster().replica_of(primary);
  ASSERT_NE(replica, 0);
  long long acked_before = load.totals().acked;
  stack.cluster().pause(replica);
  // Cut the replication link too (a stopped process still receives into its socket buffer):
  // from here on, clicks reach the primary only.
  RedisSync(primary).cmd({"CLIENT", "KILL", "TYPE", "replica"});
  std::this_thread::sleep_for(1500ms);
  long long acked_while_frozen = load.totals().acked - acked_before;
  stack.cluster().kill(primary);
  stack.cluster().resume(replica);
  // The stale replica is promoted; the old primary comes back as its replica.
  EXPECT_TRUE(eventually([&] { return stack.data_port() == replica; }, 30s))
      << stack.cluster().diagnostics();
  stack.cluster().restart(primary);
  std::this_thread::sleep_for(3s);
  load.stop();
  std::this_thread::sleep_for(std::chrono::milliseconds(3 * kClusterRoundMs));
  auto t = tally(load, stack, false);
  std::cout << "[ cluster  ] acked while the replica was frozen " << acked_while_frozen
            << "; acked " << t.acked << " stored " << t.stored << " ambiguous " << t.ambiguous
            << " lost " << t.lost << '\n';
  EXPECT_EQ(t.lost, 0);
  EXPECT_EQ(t.invented, 0);
  check_stream(stack);
  if (HasFailure() || std::getenv("CLICKRACE_TEST_LOGS")) std::cout << stack.logs_tail(60);
}

// The game's slot moves to another primary, key by key, while players click: the services
// follow ASK during the migration and MOVED after it, and every click is accounted for.
TEST(ClusterServices, MovingTheGamesSlotUnderLoad) {
  ClusterStack stack;
  ClickLoad load(load_options(stack, 30));
  ASSERT_TRUE(eventually([&] { return load.all_connected(); }, 20s));
  load.start();
  std::this_thread::sleep_for(3s);
  int slot = redis::cluster::key_slot(kClusterPrefix);
  int from = stack.data_port();
  int to = 0;
  for (int p : stack.cluster().primary_ports()) {
    if (p != from) to = p;
  }
  int moved = 0;
  try {
    // A few keys at a time, with clicks flowing between the steps.
    moved = stack.cluster().move_slot_gradually(slot, from, to, 5, 50ms);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "migration: " << e.what();
  }
  std::this_thread::sleep_for(3s);
  load.stop();
  std::this_thread::sleep_for(std::chrono::milliseconds(3 * kClusterRoundMs));
  EXPECT_EQ(stack.data_port(), to);
  EXPECT_EQ(RedisSync(from).cmd({"CLUSTER", "COUNTKEYSINSLOT", std::to_string(slot)}).integer, 0)
      << "keys of the game left behind on the old primary";
  auto t = tally(load, stack, false);
  std::cout << "[ cluster  ] moved " << moved << " keys; acked " << t.acked << " stored "
            << t.stored << " ambiguous " << t.ambiguous << '\n';
  EXPECT_GT(t.acked, 0);
  EXPECT_EQ(t.lost, 0);
  EXPECT_EQ(t.invented, 0);
  check_stream(stack);
  check_announcements(load);
  std::string metrics = http_request(stack.gateway_port(0), "GET", "/metrics").body;
  EXPECT_NE(metrics.find("clickrace_gateway_redis_node_redirects_total"), std::string::npos);
  if (HasFailure() || std::getenv("CLICKRACE_TEST_LOGS")) std::cout << stack.logs_tail(400);
}

}  // namespace
}  // namespace clickrace::test
