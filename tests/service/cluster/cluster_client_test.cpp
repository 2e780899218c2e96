#include <gtest/gtest.h>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <iostream>
#include <optional>

#include "../redis/loop_helpers.hpp"
#include "clickrace/redis/cluster_client.hpp"
#include "clickrace/redis/subscriber.hpp"
#include "redis_cluster.hpp"

// The cluster client against a real 3-primary, 3-replica Redis Cluster on loopback.
namespace clickrace::redis {
namespace {

using namespace std::chrono_literals;
using cluster::key_slot;
using test::RedisCluster;
using test::RedisSync;

ClusterOptions options_for(const std::string& seeds) {
  ClusterOptions o;
  o.seeds = *cluster::parse_seeds(seeds);
  o.node.backoff_initial = 20ms;
  o.node.backoff_max = 200ms;
  o.node.connect_timeout = 500ms;
  o.refresh_interval = 1s;
  return o;
}

// Polls `pred` (which may run the loop itself) for up to `limit`.
template <typename Pred>
bool eventually_on(asio::io_context& io, Pred pred, std::chrono::milliseconds limit = 20s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    run_until(
        io, [] { return false; }, 200ms);
  }
  return true;
}

class ClusterClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    client.emplace(io, options_for(cluster.seeds()));
    client->start();
    ASSERT_TRUE(run_until(
        io, [&] { return client->ready(); }, 20s))
        << client->unready_reason() << '\n'
        << cluster.diagnostics();
  }

  // Runs one call to completion on the loop.
  Result<Reply> run(std::vector<std::string> args, CallOptions call = {}) {
    std::optional<Result<Reply>> out;
    client->command(
        std::move(args), [&](Result<Reply> r) { out.emplace(std::move(r)); }, call);
    auto limit = std::chrono::duration_cast<std::chrono::milliseconds>(call.timeout) + 10s;
    EXPECT_TRUE(run_until(
        io, [&] { return out.has_value(); }, limit));
    if (!out) return make_error("test: no answer");
    return std::move(*out);
  }

  // The value of `key` read directly from the node that owns its slot.
  std::string stored(const std::string& key) {
    RedisSync c(cluster.primary_of_slot(key_slot(key)));
    return c.cmd({"GET", key}).str;
  }

  RedisCluster cluster;
  asio::io_context io;
  std::optional<ClusterClient> client;
};

TEST_F(ClusterClientTest, SlotMathMatchesTheServer) {
  RedisSync c(cluster.ports().front());
  for (const std::string& key :
       std::vector<std::string>{"foo", "{user1}.a", "round:{p7}:scores", "x{}y",
                                "clickrace:schedule", std::string("bin\0key", 7)}) {
    EXPECT_EQ(c.cmd({"CLUSTER", "KEYSLOT", key}).integer, key_slot(key)) << key;
  }
}

TEST_F(ClusterClientTest, CommandsReachEveryPrimary) {
  EXPECT_EQ(client->slot_map().primaries().size(), 3u);
  constexpr int kKeys = 300;
  int answered = 0;
  for (int i = 0; i < kKeys; ++i) {
    std::string key = "key:" + std::to_string(i);
    client->command({"SET", key, "v" + std::to_string(i)}, [&](Result<Reply> r) {
      EXPECT_TRUE(r.ok() && r->is_status()) << (r.ok() ? r->debug_string() : r.error().message);
      ++answered;
    });
  }
  ASSERT_TRUE(run_until(io, [&] { return answered == kKeys; }));
  for (int i = 0; i < kKeys; ++i) {
    std::string key = "key:" + std::to_string(i);
    EXPECT_EQ(stored(key), "v" + std::to_string(i)) << key;
  }
  // Every primary got its share; nothing needed a redirection.
  int primaries = 0;
  for (const auto& n : client->nodes()) {
    if (!n.primary) continue;
    ++primaries;
    EXPECT_TRUE(n.connected);
    EXPECT_GT(n.counters.calls, 50u) << n.address.str();
    EXPECT_EQ(n.counters.redirects, 0u);
  }
  EXPECT_EQ(primaries, 3);
  EXPECT_EQ(client->metrics().moved, 0u);
}

TEST_F(ClusterClientTest, ScriptsRunOnTheirKeysSlot) {
  Script script("redis.call('SET', KEYS[1], ARGV[1]); return redis.call('INCR', KEYS[2])");
  std::optional<Result<Reply>> out;
  client->eval(script, {"{p3}:a", "{p3}:n"}, {"hello"},
               [&](Result<Reply> r) { out.emplace(std::move(r)); });
  ASSERT_TRUE(run_until(io, [&] { return out.has_value(); }));
  ASSERT_TRUE(out->ok()) << out->error().message;
  EXPECT_EQ((*out)->integer(), 1) << (*out)->debug_string();
  EXPECT_EQ(stored("{p3}:a"), "hello");
  // Keys in different slots: refused before anything is sent.
  out.reset();
  client->eval(script, {"a", "b"}, {"x"}, [&](Result<Reply> r) { out.emplace(std::move(r)); });
  ASSERT_TRUE(run_until(io, [&] { return out.has_value(); }));
  ASSERT_TRUE(out->ok());
  EXPECT_TRUE((*out)->is_error_code("CROSSSLOT")) << (*out)->debug_string();
}

TEST_F(ClusterClientTest, FollowsMovedAfterASlotMigration) {
  const std::string key = "foo";
  int slot = key_slot(key);
  ASSERT_TRUE(run({"SET", key, "before"}).ok());
  int from = cluster.primary_of_slot(slot);
  int to = 0;
  for (int p : cluster.primary_ports()) {
    if (p != from) to = p;
  }
  cluster.move_slot(slot, from, to);
  EXPECT_EQ(cluster.primary_of_slot(slot, to), to);

  auto r = run({"GET", key});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->str(), "before");
  EXPECT_GE(client->metrics().moved, 1u);
  ASSERT_NE(client->slot_map().primary(slot), nullptr);
  EXPECT_EQ(client->slot_map().primary(slot)->port, to);
  // The map was patched: the next command goes straight to the new owner.
  auto moved = client->metrics().moved;
  ASSERT_TRUE(run({"SET", key, "after"}).ok());
  EXPECT_EQ(client->metrics().moved, moved);
  RedisSync c(to);
  EXPECT_EQ(c.cmd({"GET", key}).str, "after");
}

TEST_F(ClusterClientTest, FollowsAskDuringAMigration) {
  const std::string tag = "{mig}";
  int slot = key_slot(tag);
  ASSERT_TRUE(run({"SET", tag + "a", "1"}).ok());
  int from = cluster.primary_of_slot(slot);
  int to = cluster.primary_ports().front() == from ? cluster.primary_ports().back()
                                                   : cluster.primary_ports().front();
  cluster.migrate_begin(slot, from, to);
  ASSERT_EQ(cluster.migrate_keys(slot, from, to), 1);  // {mig}a now lives on the target

  // A migrated key and a new key: the source answers ASK, the client follows with ASKING.
  auto r = run({"GET", tag + "a"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->str(), "1") << r->debug_string();
  ASSERT_TRUE(run({"SET", tag + "b", "2"}).ok());
  Script incr("return redis.call('INCRBY', KEYS[1], ARGV[1])");
  std::optional<Result<Reply>> out;
  client->eval(incr, {tag + "n"}, {"5"}, [&](Result<Reply> r) { out.emplace(std::move(r)); });
  ASSERT_TRUE(run_until(io, [&] { return out.has_value(); }));
  ASSERT_TRUE(out->ok());
  EXPECT_EQ((*out)->integer(), 5) << (*out)->debug_string();
  EXPECT_GE(client->metrics().asks, 3u);
  EXPECT_EQ(client->metrics().moved, 0u);
  // ASK does not change the map: the slot still belongs to the source until the end.
  EXPECT_EQ(client->slot_map().primary(slot)->port, from);
  RedisSync target(to);
  target.cmd({"ASKING"});
  EXPECT_EQ(target.cmd({"GET", tag + "b"}).str, "2");

  cluster.migrate_end(slot, from, to);
  r = run({"GET", tag + "b"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->str(), "2");
  EXPECT_EQ(client->slot_map().primary(slot)->port, to);
}

TEST_F(ClusterClientTest, RetriesTryAgainUntilTheMigrationEnds) {
  const std::string tag = "{try}";
  int slot = key_slot(tag);
  ASSERT_TRUE(run({"SET", tag + "a", "A"}).ok());
  ASSERT_TRUE(run({"SET", tag + "b", "B"}).ok());
  int from = cluster.primary_of_slot(slot);
  int to = cluster.primary_ports().front() == from ? cluster.primary_ports().back()
                                                   : cluster.primary_ports().front();
  cluster.migrate_begin(slot, from, to);
  ASSERT_EQ(cluster.migrate_keys(slot, from, to, 1), 1);  // one of the two keys moved

  // MGET over a slot split between two nodes gets TRYAGAIN; it is retried (not delivered)
  // until the migration completes a moment later.
  asio::steady_timer finish(io);
  finish.expires_after(500ms);
  finish.async_wait([&](const asio::error_code&) {
    cluster.migrate_keys(slot, from, to);
    cluster.migrate_end(slot, from, to);
  });
  CallOptions call;
  call.timeout = 10s;
  auto r = run({"MGET", tag + "a", tag + "b"}, call);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_TRUE(r->is_array()) << r->debug_string();
  EXPECT_EQ((*r)[0].str(), "A");
  EXPECT_EQ((*r)[1].str(), "B");
  EXPECT_GT(client->metrics().retries, 0u);
}

TEST_F(ClusterClientTest, TryAgainPastTheDeadlineIsDelivered) {
  const std::string tag = "{late}";
  int slot = key_slot(tag);
  ASSERT_TRUE(run({"SET", tag + "a", "A"}).ok());
  ASSERT_TRUE(run({"SET", tag + "b", "B"}).ok());
  int from = cluster.primary_of_slot(slot);
  int to = cluster.primary_ports().front() == from ? cluster.primary_ports().back()
                                                   : cluster.primary_ports().front();
  cluster.migrate_begin(slot, from, to);
  ASSERT_EQ(cluster.migrate_keys(slot, from, to, 1), 1);
  CallOptions call;
  call.timeout = 300ms;
  auto start = std::chrono::steady_clock::now();
  auto r = run({"MGET", tag + "a", tag + "b"}, call);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->is_error_code("TRYAGAIN")) << r->debug_string();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST_F(ClusterClientTest, FollowsAFailover) {
  const std::string key = "foo";
  int slot = key_slot(key);
  ASSERT_TRUE(run({"SET", key, "v0"}).ok());
  int primary = cluster.primary_of_slot(slot);
  int replica = cluster.replica_of(primary);
  ASSERT_NE(replica, 0);
  // WAIT: v0 is on the replica before the primary dies.
  RedisSync(primary).cmd({"WAIT", "1", "2000"});

  cluster.kill(primary);
  auto killed = std::chrono::steady_clock::now();
  EXPECT_TRUE(run_until(
      io, [&] { return !client->ready(); }, 10s));
  EXPECT_FALSE(client->unready_reason().empty());
  // An idempotent command with a long deadline rides out the failover.
  CallOptions call;
  call.timeout = 30s;
  call.idempotent = true;
  auto r = run({"GET", key}, call);
  auto took = std::chrono::steady_clock::now() - killed;
  ASSERT_TRUE(r.ok()) << r.error().message << '\n' << cluster.diagnostics();
  EXPECT_EQ(r->str(), "v0");
  std::cout << "[ cluster  ] GET answered "
            << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
            << " ms after kill -9 of its primary\n";
  EXPECT_TRUE(run_until(
      io, [&] { return client->ready(); }, 20s))
      << client->unready_reason();
  ASSERT_NE(client->slot_map().primary(slot), nullptr);
  EXPECT_EQ(client->slot_map().primary(slot)->port, replica);
  EXPECT_GE(client->metrics().failovers, 1u);
  bool counted = false;
  for (const auto& n : client->nodes()) {
    if (n.address.port == replica) counted = n.counters.failovers >= 1 && n.primary;
  }
  EXPECT_TRUE(counted);
  ASSERT_TRUE(run({"SET", key, "v1"}).ok());
  EXPECT_EQ(RedisSync(replica).cmd({"GET", key}).str, "v1");
}

TEST_F(ClusterClientTest, NotReadyWhileSlotsAreUnserved) {
  // A primary and its replica gone: a third of the slots has nobody.
  int primary = cluster.primary_of_slot(key_slot("foo"));
  int replica = cluster.replica_of(primary);
  cluster.kill(replica);
  cluster.kill(primary);
  EXPECT_TRUE(run_until(
      io, [&] { return !client->ready(); }, 10s));
  EXPECT_NE(client->unready_reason(), "");
  // A command to a dead slot fails once its deadline passes, with the last outcome.
  CallOptions call;
  call.timeout = 500ms;
  auto start = std::chrono::steady_clock::now();
  auto r = run({"GET", "foo"}, call);
  EXPECT_FALSE(r.ok() && !r->is_error()) << r->debug_string();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  // Once the survivors mark the node failed, they report the cluster down.
  EXPECT_TRUE(run_until(
      io, [&] { return client->unready_reason() == "cluster state is not ok"; }, 20s))
      << client->unready_reason();
  EXPECT_FALSE(client->ready());
}

TEST_F(ClusterClientTest, SubscriberMovesToAnotherNodeWhenItsNodeDies) {
  Options base = options_for(cluster.seeds()).node;
  Subscriber sub(io, base);
  sub.set_address_source([&] {
    auto a = client->next_pubsub_node();
    return std::make_pair(a.host, a.port);
  });
  std::vector<std::string> got;
  int subscribed = 0;
  sub.on_message([&](const std::string&, const std::string& m) { got.push_back(m); });
  sub.on_subscribed([&] { ++subscribed; });
  sub.subscribe("events");
  sub.start();
  ASSERT_TRUE(run_until(io, [&] { return subscribed == 1; }));
  CallOptions call;
  call.timeout = 30s;
  ASSERT_TRUE(run({"PUBLISH", "events", "m1"}, call).ok());
  ASSERT_TRUE(run_until(io, [&] { return got.size() == 1; }));

  // The node holding the subscription dies; the subscriber moves on and subscribes again.
  int on = 0;
  for (int port : cluster.ports()) {
    auto r = RedisSync(port).cmd({"PUBSUB", "NUMSUB", "events"});
    if (r.elements.size() == 2 && r.elements[1].integer == 1) on = port;
  }
  ASSERT_NE(on, 0);
  cluster.kill(on);
  ASSERT_TRUE(run_until(
      io, [&] { return subscribed == 2; }, 20s));
  // A publish may have to wait for a failover (if the dead node was a primary).
  ASSERT_TRUE(run({"PUBLISH", "events", "m2"}, call).ok());
  ASSERT_TRUE(run_until(io, [&] { return got.size() == 2; }));
  EXPECT_EQ(got[1], "m2");
}

TEST_F(ClusterClientTest, WaitForAReplicaBeforeTheAnswer) {
  CallOptions call;
  call.wait_replicas = 1;
  call.wait_timeout = 2000ms;
  call.timeout = 5s;
  auto r = run({"SET", "durable", "1"}, call);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->is_status()) << r->debug_string();
  int primary = cluster.primary_of_slot(key_slot("durable"));
  int replica = cluster.replica_of(primary);
  // Answered only once the replica has it.
  RedisSync rs(replica);
  rs.cmd({"READONLY"});
  EXPECT_EQ(rs.cmd({"GET", "durable"}).str, "1");
  // A script too (EVALSHA then WAIT, pipelined).
  Script script("return redis.call('INCRBY', KEYS[1], ARGV[1])");
  std::optional<Result<Reply>> out;
  script.call(
      *client, {"durable:n"}, {"3"}, [&](Result<Reply> r) { out.emplace(std::move(r)); }, call);
  ASSERT_TRUE(run_until(io, [&] { return out.has_value(); }));
  ASSERT_TRUE(out->ok()) << out->error().message;
  EXPECT_EQ((*out)->integer(), 3);

  // Its replica stopped: the write runs on the primary, but the answer says "not replicated".
  cluster.kill(replica);
  call.wait_timeout = 300ms;
  auto start = std::chrono::steady_clock::now();
  r = run({"SET", "durable", "2"}, call);
  ASSERT_FALSE(r.ok()) << r->debug_string();
  EXPECT_EQ(r.error().message, kErrNotReplicated);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_EQ(RedisSync(primary).cmd({"GET", "durable"}).str, "2");  // it ran, unacknowledged
  // Once the map shows the primary without a replica, calls are refused before they run.
  std::optional<Result<Reply>> refused;
  int attempt = 0;
  EXPECT_TRUE(eventually_on(io, [&] {
    client->refresh();
    refused.emplace(run({"SET", "durable", "v" + std::to_string(++attempt)}, call));
    return !refused->ok() && refused->error().message == kErrTooFewReplicas;
  })) << (refused && !refused->ok() ? refused->error().message : "");
  EXPECT_NE(RedisSync(primary).cmd({"GET", "durable"}).str, "v" + std::to_string(attempt));
}

TEST(ClusterClientSingleNode, ServesEverySlotFromOneRedis) {
  test::RedisServer server;
  asio::io_context io;
  ClusterOptions o = options_for("127.0.0.1:" + std::to_string(server.port()));
  o.single_node = true;
  ClusterClient client(io, o);
  Script script("return redis.call('INCRBY', KEYS[1], ARGV[1])");
  client.preload_script(script.source());
  client.start();
  ASSERT_TRUE(run_until(io, [&] { return client.ready(); }));
  int answered = 0;
  for (int i = 0; i < 100; ++i) {
    std::string key = "k" + std::to_string(i);
    client.eval(script, {key}, {"2"}, [&](Result<Reply> r) {
      EXPECT_TRUE(r.ok() && r->integer() == 2);
      ++answered;
    });
  }
  ASSERT_TRUE(run_until(io, [&] { return answered == 100; }));
  // One Redis has no slots: keys of different slots in one script are fine there.
  std::optional<Result<Reply>> multi;
  Script two("redis.call('SET', KEYS[1], '1'); return redis.call('SET', KEYS[2], '2')");
  client.eval(two, {"a", "b"}, {}, [&](Result<Reply> r) { multi.emplace(std::move(r)); });
  ASSERT_TRUE(run_until(io, [&] { return multi.has_value(); }));
  ASSERT_TRUE(multi->ok());
  EXPECT_TRUE((*multi)->is_status()) << (*multi)->debug_string();
  EXPECT_EQ(RedisSync(server.port()).cmd({"GET", "k42"}).str, "2");
  EXPECT_EQ(client.metrics().refreshes, 0u);  // no CLUSTER command on a plain Redis
  // Its readiness follows the one connection.
  server.kill();
  EXPECT_TRUE(run_until(io, [&] { return !client.ready(); }));
  server.start();
  EXPECT_TRUE(run_until(io, [&] { return client.ready(); }));
}

// Two writes pipelined on one primary: the first one's answer starts a WAIT; the second's
// answer arrives while that WAIT is in flight and waits for the next one. The connection then
// drops: the second write ran, so it must come back as "durability unknown" (resend by id), never
// as "not connected" — which a click batcher reads as "never sent" and fails clicks Redis holds.
TEST_F(ClusterClientTest, AWriteWaitingBehindAWaitWhenTheConnectionDropsIsNotReportedUnsent) {
  CallOptions call;
  call.wait_replicas = 1;
  call.wait_timeout = 3000ms;
  call.timeout = 5s;
  const std::string k1 = "{rv}a", k2 = "{rv}b";
  int primary = cluster.primary_of_slot(key_slot(k1));
  int replica = cluster.replica_of(primary);
  ASSERT_GT(replica, 0);
  cluster.pause(replica);  // WAIT 1 now blocks for its timeout
  std::optional<Result<Reply>> r1, r2;
  client->command(
      {"SET", k1, "1"}, [&](Result<Reply> r) { r1.emplace(std::move(r)); }, call);
  client->command(
      {"SET", k2, "1"}, [&](Result<Reply> r) { r2.emplace(std::move(r)); }, call);
  run_until(
      io, [] { return false; }, 300ms);
  {
    RedisSync admin(primary);
    admin.cmd({"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"});
  }
  ASSERT_TRUE(run_until(
      io, [&] { return r1.has_value() && r2.has_value(); }, 10s));
  cluster.resume(replica);
  EXPECT_EQ(RedisSync(primary).cmd({"GET", k2}).str, "1") << "the second write ran";
  ASSERT_FALSE(r2->ok());
  const std::string& m = r2->error().message;
  EXPECT_TRUE(m == kErrNotReplicated || m == kErrConnectionLost || m == kErrTimeout) << m;
}

}  // namespace
}  // namespace clickrace::redis
