#include <gtest/gtest.h>

#include "clickrace/redis/cluster_map.hpp"
#include "clickrace/redis/cluster_redirect.hpp"
#include "clickrace/redis/cluster_slots.hpp"
#include "clickrace/redis/errors.hpp"

namespace clickrace::redis::cluster {
namespace {

// Expected slots were read from a real redis-server 7.0 (CLUSTER KEYSLOT).
TEST(ClusterSlots, Crc16CheckValue) {
  EXPECT_EQ(crc16("123456789"), 0x31C3);  // the cluster spec's reference value
  EXPECT_EQ(crc16(""), 0);
}

TEST(ClusterSlots, KnownKeySlots) {
  EXPECT_EQ(key_slot("foo"), 12182);
  EXPECT_EQ(key_slot("bar"), 5061);
  EXPECT_EQ(key_slot("hello"), 866);
  EXPECT_EQ(key_slot("somekey"), 11058);
  EXPECT_EQ(key_slot("123456789"), 12739);
  EXPECT_EQ(key_slot(""), 0);
}

TEST(ClusterSlots, HashTags) {
  EXPECT_EQ(key_slot("{user1000}.following"), 3443);
  EXPECT_EQ(key_slot("{user1000}.following"), key_slot("user1000"));
  EXPECT_EQ(hash_tag("{user1000}.followers"), "user1000");
  // An empty tag does not count: the whole key is hashed.
  EXPECT_EQ(hash_tag("foo{}{bar}"), "foo{}{bar}");
  EXPECT_EQ(key_slot("foo{}{bar}"), 8363);
  EXPECT_EQ(key_slot("{}"), 15257);
  // The tag ends at the first '}' after the first '{'.
  EXPECT_EQ(hash_tag("foo{{bar}}zap"), "{bar");
  EXPECT_EQ(key_slot("foo{{bar}}zap"), 4015);
  EXPECT_EQ(hash_tag("foo{bar}{zap}"), "bar");
  EXPECT_EQ(key_slot("foo{bar}{zap}"), 5061);
  // No closing brace: the whole key.
  EXPECT_EQ(hash_tag("a{b"), "a{b");
  EXPECT_EQ(key_slot("a{b"), 13340);
}

TEST(ClusterSlots, ParseSeeds) {
  auto s = parse_seeds(" 10.0.0.1:7000, redis-b:7001 ,[::1]:7002");
  ASSERT_TRUE(s) << s.error().message;
  ASSERT_EQ(s->size(), 3u);
  EXPECT_EQ((*s)[0], (NodeAddress{"10.0.0.1", 7000}));
  EXPECT_EQ((*s)[1], (NodeAddress{"redis-b", 7001}));
  EXPECT_EQ((*s)[2], (NodeAddress{"::1", 7002}));
  EXPECT_EQ((*s)[2].str(), "[::1]:7002");
  EXPECT_FALSE(parse_seeds(""));
  EXPECT_FALSE(parse_seeds(" , "));
  EXPECT_FALSE(parse_seeds("host"));
  EXPECT_FALSE(parse_seeds("host:"));
  EXPECT_FALSE(parse_seeds("host:0"));
  EXPECT_FALSE(parse_seeds("host:70000"));
  EXPECT_FALSE(parse_seeds("host:12x"));
  EXPECT_FALSE(parse_seeds(":7000"));
}

TEST(ClusterSlots, RoutingKey) {
  using V = std::vector<std::string>;
  EXPECT_EQ(routing_key(V{"GET", "k"}), "k");
  EXPECT_EQ(routing_key(V{"zincrby", "z", "1", "m"}), "z");
  EXPECT_EQ(routing_key(V{"EVALSHA", "abc", "2", "k1", "k2", "arg"}), "k1");
  EXPECT_EQ(routing_key(V{"eval", "return 1", "0", "arg"}), std::nullopt);
  EXPECT_EQ(routing_key(V{"PING"}), std::nullopt);
  EXPECT_EQ(routing_key(V{"WAIT", "1", "100"}), std::nullopt);
  EXPECT_EQ(routing_key(V{"CLUSTER", "SLOTS"}), std::nullopt);
}

// --- the slot map ---

Reply node(const char* host, long long port, const char* id) {
  return Reply::array({host ? Reply::string(host) : Reply{}, Reply::integer(port),
                       Reply::string(id), Reply::array({})});
}

Reply range(long long first, long long last, std::vector<Reply> nodes) {
  std::vector<Reply> e{Reply::integer(first), Reply::integer(last)};
  for (auto& n : nodes) e.push_back(std::move(n));
  return Reply::array(std::move(e));
}

// Three primaries 7000-7002 with replicas 7003-7005, as `redis-cli --cluster create` lays out.
Reply three_shards() {
  return Reply::array({
      range(0, 5460, {node("127.0.0.1", 7000, "a"), node("127.0.0.1", 7004, "e")}),
      range(5461, 10922, {node("127.0.0.1", 7001, "b"), node("127.0.0.1", 7005, "f")}),
      range(10923, 16383, {node("127.0.0.1", 7002, "c"), node("127.0.0.1", 7003, "d")}),
  });
}

const NodeAddress kAsked{"127.0.0.1", 7000};

TEST(SlotMap, ParsesClusterSlots) {
  auto m = SlotMap::from_cluster_slots(three_shards(), kAsked);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_TRUE(m->complete());
  EXPECT_EQ(m->unassigned_slots(), 0);
  EXPECT_EQ(m->primary(0)->port, 7000);
  EXPECT_EQ(m->primary(5460)->port, 7000);
  EXPECT_EQ(m->primary(5461)->port, 7001);
  EXPECT_EQ(m->primary(key_slot("foo"))->port, 7002);  // 12182
  EXPECT_EQ(m->primary(16383)->port, 7002);
  EXPECT_EQ(m->primary(-1), nullptr);
  EXPECT_EQ(m->primary(16384), nullptr);
  auto p = m->primaries();
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0].port, 7000);
  EXPECT_EQ(p[2].port, 7002);
  ASSERT_EQ(m->shards().size(), 3u);
  ASSERT_EQ(m->shards()[0].replicas.size(), 1u);
  EXPECT_EQ(m->shards()[0].replicas[0].port, 7004);
}

TEST(SlotMap, UnknownEndpointUsesTheAskedHost) {
  NodeAddress asked{"10.1.2.3", 7000};
  auto m = SlotMap::from_cluster_slots(
      Reply::array({range(0, 99, {node(nullptr, 7000, "a")}),
                    range(100, 199, {node("", 7001, "b")}), range(200, 299, {node("?", 7002, "c")}),
                    range(300, 16383, {node("redis-d", 7003, "d")})}),
      asked);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(*m->primary(0), (NodeAddress{"10.1.2.3", 7000}));
  EXPECT_EQ(*m->primary(150), (NodeAddress{"10.1.2.3", 7001}));
  EXPECT_EQ(*m->primary(250), (NodeAddress{"10.1.2.3", 7002}));
  EXPECT_EQ(*m->primary(300), (NodeAddress{"redis-d", 7003}));
}

TEST(SlotMap, PartialCoverageIsNotComplete) {
  auto m = SlotMap::from_cluster_slots(
      Reply::array({range(0, 5460, {node("127.0.0.1", 7000, "a")}),
                    range(10923, 16383, {node("127.0.0.1", 7002, "c")})}),
      kAsked);
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->complete());
  EXPECT_FALSE(m->empty());
  EXPECT_EQ(m->unassigned_slots(), 10922 - 5461 + 1);
  EXPECT_EQ(m->primary(6000), nullptr);
  auto empty = SlotMap::from_cluster_slots(Reply::array({}), kAsked);
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
}

TEST(SlotMap, RejectsMalformedReplies) {
  auto bad = [](Reply r) { return !SlotMap::from_cluster_slots(r, kAsked).ok(); };
  EXPECT_TRUE(bad(Reply::error("ERR This instance has cluster support disabled")));
  EXPECT_TRUE(bad(Reply::array({Reply::integer(1)})));
  EXPECT_TRUE(bad(Reply::array({range(10, 5, {node("h", 1, "a")})})));
  EXPECT_TRUE(bad(Reply::array({range(0, 16384, {node("h", 1, "a")})})));
  EXPECT_TRUE(bad(Reply::array({range(-1, 5, {node("h", 1, "a")})})));
  EXPECT_TRUE(bad(Reply::array({range(0, 5, {node("h", 0, "a")})})));
  EXPECT_TRUE(bad(Reply::array({range(0, 5, {Reply::array({Reply::string("h")})})})));
  EXPECT_TRUE(bad(Reply::array({range(0, 5, {Reply::string("h:1")})})));
}

TEST(SlotMap, ReplicaCount) {
  auto m = SlotMap::from_cluster_slots(
      Reply::array({range(0, 100, {node("h", 1, "a"), node("h", 2, "b"), node("h", 3, "c")}),
                    range(101, 16383, {node("h", 4, "d")})}),
      kAsked);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->replica_count(0), 2);
  EXPECT_EQ(m->replica_count(200), 0);
  m->set_primary(50, NodeAddress{"h", 9});  // after a MOVED: not known
  EXPECT_EQ(m->replica_count(50), -1);
  EXPECT_EQ(SlotMap().replica_count(0), -1);
}

TEST(SlotMap, MovedPatchesOneSlot) {
  auto m = SlotMap::from_cluster_slots(three_shards(), kAsked);
  ASSERT_TRUE(m);
  NodeAddress newcomer{"127.0.0.1", 7010};
  m->set_primary(100, newcomer);
  EXPECT_EQ(*m->primary(100), newcomer);
  EXPECT_EQ(m->primary(99)->port, 7000);
  EXPECT_EQ(m->primary(101)->port, 7000);
  EXPECT_EQ(m->primaries().size(), 4u);
  // Moving a primary's last slot away removes it from the primaries.
  m->set_primary(100, NodeAddress{"127.0.0.1", 7000});
  EXPECT_EQ(m->primaries().size(), 3u);
  m->set_primary(16384, newcomer);  // out of range: ignored
  EXPECT_EQ(m->primaries().size(), 3u);
}

TEST(SlotMap, SeesAPromotedReplicaAsAFailover) {
  auto before = SlotMap::from_cluster_slots(three_shards(), kAsked);
  // 7001 died; its replica 7005 now serves 5461-10922 (7001 is gone from the reply).
  auto after = SlotMap::from_cluster_slots(
      Reply::array({
          range(0, 5460, {node("127.0.0.1", 7000, "a"), node("127.0.0.1", 7004, "e")}),
          range(5461, 10922, {node("127.0.0.1", 7005, "f")}),
          range(10923, 16383, {node("127.0.0.1", 7002, "c"), node("127.0.0.1", 7003, "d")}),
      }),
      kAsked);
  ASSERT_TRUE(before && after);
  auto promoted = before->promotions_in(*after);
  ASSERT_EQ(promoted.size(), 1u);
  EXPECT_EQ(promoted[0].port, 7005);
  EXPECT_TRUE(after->promotions_in(*after).empty());
  EXPECT_TRUE(before->promotions_in(*before).empty());
}

TEST(SlotMap, AReshardIsNotAFailover) {
  auto before = SlotMap::from_cluster_slots(three_shards(), kAsked);
  // Slots 0-99 moved from 7000 to 7001 (a primary, not 7000's replica).
  auto after = SlotMap::from_cluster_slots(
      Reply::array({
          range(0, 99, {node("127.0.0.1", 7001, "b"), node("127.0.0.1", 7005, "f")}),
          range(100, 5460, {node("127.0.0.1", 7000, "a"), node("127.0.0.1", 7004, "e")}),
          range(5461, 10922, {node("127.0.0.1", 7001, "b"), node("127.0.0.1", 7005, "f")}),
          range(10923, 16383, {node("127.0.0.1", 7002, "c"), node("127.0.0.1", 7003, "d")}),
      }),
      kAsked);
  ASSERT_TRUE(before && after);
  EXPECT_TRUE(before->promotions_in(*after).empty());
  EXPECT_EQ(after->primary(50)->port, 7001);
}

TEST(SlotMap, SingleNodeServesEverySlot) {
  auto m = SlotMap::single_node(NodeAddress{"localhost", 6379});
  EXPECT_TRUE(m.complete());
  EXPECT_EQ(m.primary(0)->port, 6379);
  EXPECT_EQ(m.primary(16383)->port, 6379);
  EXPECT_EQ(m.primaries().size(), 1u);
}

// --- redirections and retry decisions ---

const NodeAddress kFrom{"10.0.0.9", 7000};

TEST(Redirect, ParsesMovedAndAsk) {
  auto moved = parse_redirect(Reply::error("MOVED 3999 127.0.0.1:6381"), kFrom);
  ASSERT_TRUE(moved);
  EXPECT_FALSE(moved->ask);
  EXPECT_EQ(moved->slot, 3999);
  EXPECT_EQ(moved->to, (NodeAddress{"127.0.0.1", 6381}));
  auto ask = parse_redirect(Reply::error("ASK 0 redis-b:7001"), kFrom);
  ASSERT_TRUE(ask);
  EXPECT_TRUE(ask->ask);
  EXPECT_EQ(ask->slot, 0);
  EXPECT_EQ(ask->to, (NodeAddress{"redis-b", 7001}));
  // Redis 7 unknown endpoint: same host as the node that answered.
  auto unknown = parse_redirect(Reply::error("MOVED 16383 :6380"), kFrom);
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->to, (NodeAddress{"10.0.0.9", 6380}));
  auto v6 = parse_redirect(Reply::error("MOVED 1 ::1:7002"), kFrom);
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->to, (NodeAddress{"::1", 7002}));
}

TEST(Redirect, IgnoresEverythingElse) {
  EXPECT_FALSE(parse_redirect(Reply::status("MOVED 1 h:1"), kFrom));
  EXPECT_FALSE(parse_redirect(Reply::string("MOVED 1 h:1"), kFrom));
  EXPECT_FALSE(parse_redirect(Reply::error("ERR MOVED 1 h:1"), kFrom));
  EXPECT_FALSE(parse_redirect(Reply::error("MOVEDX 1 h:1"), kFrom));
  EXPECT_FALSE(parse_redirect(Reply::error("MOVED 3999"), kFrom));
  EXPECT_FALSE(parse_redirect(Reply::error("MOVED abc h:1"), kFrom));
  EXPECT_FALSE(parse_redirect(Reply::error("MOVED 16384 h:1"), kFrom));
  EXPECT_FALSE(parse_redirect(Reply::error("MOVED -1 h:1"), kFrom));
  EXPECT_FALSE(parse_redirect(Reply::error("ASK 1 h"), kFrom));
  EXPECT_FALSE(parse_redirect(Reply::error("ASK 1 h:99999"), kFrom));
}

Decision decide_reply(Reply r, bool idempotent = false) {
  return decide(Result<Reply>(std::move(r)), kFrom, idempotent);
}
Decision decide_error(std::string_view e, bool idempotent = false) {
  return decide(Result<Reply>(make_error(std::string(e))), kFrom, idempotent);
}

TEST(Decide, RepliesAreDelivered) {
  for (auto r : {Reply::status("OK"), Reply::integer(3), Reply{}, Reply::error("ERR wrong"),
                 Reply::error("NOROUND no round is running yet"), Reply::error("NOSCRIPT x"),
                 Reply::error("CROSSSLOT Keys in request don't hash to the same slot")}) {
    auto d = decide_reply(r);
    EXPECT_EQ(d.next, Next::deliver) << r.debug_string();
    EXPECT_FALSE(d.refresh) << r.debug_string();
  }
}

TEST(Decide, Redirections) {
  auto moved = decide_reply(Reply::error("MOVED 5 127.0.0.1:7001"));
  EXPECT_EQ(moved.next, Next::moved);
  EXPECT_TRUE(moved.refresh);
  ASSERT_TRUE(moved.redirect);
  EXPECT_EQ(moved.redirect->to.port, 7001);
  auto ask = decide_reply(Reply::error("ASK 5 127.0.0.1:7001"));
  EXPECT_EQ(ask.next, Next::ask);
  EXPECT_FALSE(ask.refresh);  // the slot still belongs to the node that answered
  // A malformed redirection is delivered, not followed.
  EXPECT_EQ(decide_reply(Reply::error("MOVED x")).next, Next::deliver);
}

TEST(Decide, ClusterStatesAreRetried) {
  auto tryagain = decide_reply(Reply::error("TRYAGAIN Multiple keys request during rehashing"));
  EXPECT_EQ(tryagain.next, Next::retry);
  EXPECT_FALSE(tryagain.refresh);
  EXPECT_EQ(decide_reply(Reply::error("LOADING Redis is loading")).next, Next::retry);
  for (const char* e : {"CLUSTERDOWN The cluster is down", "CLUSTERDOWN Hash slot not served",
                        "READONLY You can't write against a read only replica.",
                        "MASTERDOWN Link with MASTER is down"}) {
    auto d = decide_reply(Reply::error(e));
    EXPECT_EQ(d.next, Next::retry) << e;
    EXPECT_TRUE(d.refresh) << e;
  }
}

TEST(Decide, TransportFailures) {
  auto nc = decide_error(kErrNotConnected);
  EXPECT_EQ(nc.next, Next::retry);  // nothing was sent
  EXPECT_TRUE(nc.refresh);
  for (auto e : {kErrConnectionLost, kErrTimeout}) {
    auto once = decide_error(e, false);  // may have run: the caller decides
    EXPECT_EQ(once.next, Next::deliver) << e;
    EXPECT_TRUE(once.refresh) << e;
    EXPECT_EQ(decide_error(e, true).next, Next::retry) << e;
  }
  EXPECT_EQ(decide_error(kErrClosed, true).next, Next::deliver);
  EXPECT_EQ(decide_error(kErrOverloaded, true).next, Next::deliver);
}

}  // namespace
}  // namespace clickrace::redis::cluster
