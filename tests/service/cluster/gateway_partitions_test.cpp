// The gateway's clicks on a real Redis Cluster (3 primaries + 3 replicas) with the partitioned
// layout (DESIGN §3.1): S = 12 partitions whose tags spread over every primary, each partition's
// schedule copy written by the test as the leader would write it (no scheduler runs: one long
// round, so the accounting is about clicks alone). Official-client players click through one
// gateway; acknowledged == stored, per player, summed over the partitions.
#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <set>

#include "../faults/click_load.hpp"
#include "clickrace/bus/keys.hpp"
#include "clickrace/bus/partitions.hpp"
#include "clickrace/redis/cluster_slots.hpp"
#include "redis_cluster.hpp"
#include "ws_client.hpp"

namespace clickrace::test {
namespace {

constexpr int kS = 12;
const std::string kPrefix = "{gwparts}:";

int slot_of(const std::string& key) { return redis::cluster::key_slot(key); }

class PartitionedCluster {
 public:
  PartitionedCluster() {
    keys_ = bus::Keys(kPrefix);
    write_schedule();
    port_ = free_port();
    gateway_ = std::make_unique<Process>(
        "gateway", std::vector<std::string>{bin("hub-gateway")},
        std::map<std::string, std::string>{
            {"CLICKRACE_REDIS_CLUSTER", cluster_.seeds()},
            {"CLICKRACE_KEY_PREFIX", kPrefix},
            {"CLICKRACE_GATEWAY_PORT", std::to_string(port_)},
            {"CLICKRACE_BIND_ADDRESS", "127.0.0.1"},
            {"CLICKRACE_TOKEN_SECRET", "cluster-parts-secret-0123456789abcdef0123456789"},
            {"CLICKRACE_FAST_PASSWORD_HASH", "1"},
            {"CLICKRACE_LOGIN_ATTEMPTS_PER_MIN", "100000"},
            {"CLICKRACE_MAX_CLICKS_PER_S", "1000"},
            {"CLICKRACE_KEEPALIVE_MS", "1000"},
            {"CLICKRACE_REDIS_TIMEOUT_MS", "1000"},
            {"CLICKRACE_CLICK_RETRY_MS", "20000"},
            {"CLICKRACE_LOG_LEVEL", "info"}});
    gateway_->start();
    EXPECT_GT(gateway_->wait_listening(), 0) << gateway_->output();
    EXPECT_TRUE(eventually(
        [&] { return http_request(port_, "GET", "/readyz", "", {}, 1s).status == 200; }, 20s))
        << gateway_->output();
  }
  ~PartitionedCluster() {
    if (gateway_) gateway_->stop(3s);
  }

  RedisCluster& cluster() { return cluster_; }
  int port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  bus::PartitionKeys partition(int k) const { return keys_.partition(k, kS); }
  // The primary serving `key` now.
  int node_of(const std::string& key) { return cluster_.primary_of_slot(slot_of(key)); }

  // Every player's clicks summed over the partitions (round 1, the only round).
  std::map<std::string, long long> stored_clicks() {
    std::map<std::string, long long> out;
    for (int k = 0; k < kS; ++k) {
      std::string key = partition(k).scores(1);
      RedisSync r(node_of(key));
      auto z = r.cmd({"ZRANGE", key, "0", "-1", "WITHSCORES"});
      for (std::size_t i = 0; i + 1 < z.elements.size(); i += 2) {
        EXPECT_EQ(bus::partition_of(z.elements[i].str, kS), k) << z.elements[i].str;
        out[z.elements[i].str] += std::stoll(z.elements[i + 1].str);
      }
    }
    return out;
  }
  std::string log_tail(std::size_t lines = 60) {
    std::string out = gateway_->output();
    std::size_t at = out.size();
    for (std::size_t n = 0; n < lines && at > 0; ++n) at = out.rfind('\n', at - 1);
    return out.substr(at == std::string::npos ? 0 : at);
  }

 private:
  // The schedule (round 1 from now on, ten minutes long) and its copy in every partition, each
  // written on the primary of its slot.
  void write_schedule() {
    std::string epoch;
    {
      RedisSync any(cluster_.ports().front());
      auto t = any.cmd({"TIME"});
      epoch = std::to_string(std::stoll(t.elements[0].str) * 1000 +
                             std::stoll(t.elements[1].str) / 1000 - 10);
    }
    std::vector<std::string> fields{"epoch", epoch, "len",        "600000",
                                    "base",  "1",   "partitions", std::to_string(kS)};
    std::vector<std::string> keys{keys_.schedule()};
    for (int k = 0; k < kS; ++k) keys.push_back(partition(k).schedule());
    for (const auto& key : keys) {
      std::vector<std::string> cmd{"HSET", key};
      cmd.insert(cmd.end(), fields.begin(), fields.end());
      RedisSync r(node_of(key));
      auto reply = r.cmd(cmd);
      EXPECT_FALSE(reply.is_error()) << key << ": " << reply.str;
    }
  }

  RedisCluster cluster_;
  bus::Keys keys_;
  int port_ = 0;
  std::unique_ptr<Process> gateway_;
};

LoadOptions load_options(const std::string& base_url, int players) {
  LoadOptions o;
  o.players = players;
  o.clicks_per_s = 10;
  o.base_url = base_url;
  return o;
}

struct Tally {
  long long acked = 0, stored = 0, rejected = 0, maybe = 0, unresolved = 0;
};

Tally tally(ClickLoad& load, PartitionedCluster& stack) {
  auto stored = stack.stored_clicks();
  Tally t;
  for (auto& p : load.players()) {
    PlayerCounts c = p->counts();
    long long s = stored.count(p->name()) ? stored[p->name()] : 0;
    t.acked += c.acked;
    t.stored += s;
    t.rejected += c.rejected;
    t.maybe += c.maybe;
    t.unresolved += c.unresolved;
    EXPECT_LE(c.acked, s) << p->name() << " lost acknowledged clicks";
    EXPECT_LE(s, c.acked + c.ambiguous()) << p->name() << " has clicks nobody sent";
  }
  return t;
}

long long evalsha_calls(int port) {
  std::string stats = RedisSync(port).cmd({"INFO", "commandstats"}).str;
  auto at = stats.find("cmdstat_evalsha:calls=");
  if (at == std::string::npos) return 0;
  return std::stoll(stats.substr(at + std::string("cmdstat_evalsha:calls=").size()));
}

// S partitions spread over every primary: the click work reaches all three.
TEST(ClusterGatewayPartitions, ClicksReachEveryPrimary) {
  PartitionedCluster stack;
  std::set<int> nodes;
  for (int k = 0; k < kS; ++k) nodes.insert(stack.node_of(stack.partition(k).scores(1)));
  EXPECT_EQ(nodes.size(), 3u) << "the partition tags do not spread over the primaries";
  std::map<int, long long> before;
  for (int p : stack.cluster().primary_ports()) before[p] = evalsha_calls(p);

  ClickLoad load(load_options(stack.base_url(), 24));
  ASSERT_TRUE(eventually([&] { return load.all_connected(); }, 20s));
  load.start();
  std::this_thread::sleep_for(3s);
  load.stop();
  auto t = tally(load, stack);
  std::cout << "[ cluster  ] S=" << kS << ": acked " << t.acked << " stored " << t.stored
            << "; click script calls per primary:";
  for (int p : stack.cluster().primary_ports()) {
    long long calls = evalsha_calls(p) - before[p];
    std::cout << ' ' << p << '=' << calls;
    EXPECT_GT(calls, 0) << "primary " << p << " served no click";
  }
  std::cout << '\n';
  EXPECT_GT(t.acked, 300);
  EXPECT_EQ(t.stored, t.acked);
  EXPECT_EQ(t.maybe + t.unresolved + t.rejected, 0);
  if (HasFailure()) std::cout << stack.log_tail();
}

// One partition's slot moves to another primary key by key while players click. click.lua
// declares every key it touches, so the nodes answer ASK/TRYAGAIN before running it and the
// gateway resends (same batch id) until the slot has settled: every click is acknowledged — none
// gets "service unavailable" — and acknowledged == stored, nothing left behind.
TEST(ClusterGatewayPartitions, ReshardingAPartitionUnderLoadAcknowledgesEveryClick) {
  PartitionedCluster stack;
  ClickLoad load(load_options(stack.base_url(), 30));
  ASSERT_TRUE(eventually([&] { return load.all_connected(); }, 20s));
  // The partition with the most players (so clicks hit it all the time).
  std::map<int, int> players;
  for (auto& p : load.players()) ++players[bus::partition_of(p->name(), kS)];
  int k = 0;
  for (auto [part, n] : players) {
    if (n > players[k]) k = part;
  }
  load.start();
  std::this_thread::sleep_for(2s);
  auto pk = stack.partition(k);
  int slot = slot_of(pk.schedule());
  int from = stack.node_of(pk.schedule());
  int to = 0;
  for (int p : stack.cluster().primary_ports()) {
    if (p != from) to = p;
  }
  long long acked_before = load.totals().acked;
  int moved = 0;
  try {
    // A few keys at a time, with clicks flowing between the steps.
    moved = stack.cluster().move_slot_gradually(slot, from, to, 3, 50ms);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "migration: " << e.what();
  }
  std::this_thread::sleep_for(2s);
  load.stop();
  EXPECT_EQ(stack.node_of(pk.schedule()), to);
  EXPECT_EQ(RedisSync(from).cmd({"CLUSTER", "COUNTKEYSINSLOT", std::to_string(slot)}).integer, 0)
      << "keys of the partition left behind on the old primary";
  auto t = tally(load, stack);
  std::cout << "[ cluster  ] partition " << k << " (" << players[k] << " players) moved " << moved
            << " keys; acked " << t.acked << " (" << (t.acked - acked_before)
            << " since the migration began) stored " << t.stored << " maybe " << t.maybe
            << " unresolved " << t.unresolved << " rejected " << t.rejected << '\n';
  EXPECT_GT(moved, 0);
  EXPECT_GT(t.acked, 0);
  EXPECT_EQ(t.stored, t.acked);
  EXPECT_EQ(t.maybe, 0) << "clicks answered 'service unavailable' during the migration";
  EXPECT_EQ(t.unresolved, 0);
  EXPECT_EQ(t.rejected, 0);
  std::string metrics = http_request(stack.port(), "GET", "/metrics").body;
  EXPECT_NE(metrics.find("clickrace_gateway_redis_node_redirects_total"), std::string::npos);
  if (HasFailure() || std::getenv("CLICKRACE_TEST_LOGS")) std::cout << stack.log_tail(200);
}

}  // namespace
}  // namespace clickrace::test
