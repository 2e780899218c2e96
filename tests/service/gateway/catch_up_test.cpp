// Exactly-once, in-order RoundEnded across re-subscriptions (DESIGN §2 invariants 3 and 4):
// the catch-up race of a Redis restart, catch-ups longer than a page, and Redis data loss.
#include <gtest/gtest.h>

#include "gateway_fixture.hpp"

namespace clickrace::test {
namespace {

nlohmann::json result(long long round, long long started_at) {
  return nlohmann::json{{"round", round},
                        {"startedAt", started_at},
                        {"endedAt", started_at + 1},
                        {"winners", nlohmann::json::array()},
                        {"winnerCount", 0},
                        {"winningClicks", 0},
                        {"totalClicks", 0},
                        {"players", 0}};
}

class GatewayCatchUp : public ::testing::Test {
 protected:
  RedisServer redis;
  RedisSync sync{redis.port()};
  Gateway gw{redis, "cu:"};
  HubClient client;

  void SetUp() override {
    ASSERT_GT(gw.port, 0);
    ASSERT_EQ(client.connect(gw.port, register_and_login(gw.port, "Watcher")), "");
    wait_subscribed();
  }
  void wait_subscribed() {
    ASSERT_TRUE(eventually([&] {
      return sync.cmd({"PUBSUB", "NUMSUB", "cu:events"}).elements[1].integer == 1;
    }));
  }
  // As close_round.lua: the stream entry first, then the publication.
  void add(const std::string& stream, long long round, long long started_at) {
    sync.cmd({"XADD", stream, "*", "round", std::to_string(round), "result",
              result(round, started_at).dump()});
  }
  void publish(long long round, long long started_at) {
    nlohmann::json env = {
        {"event", "RoundEnded"}, {"round", round}, {"data", result(round, started_at)}};
    sync.cmd({"PUBLISH", "cu:events", env.dump()});
  }
  // The RoundEnded rounds the client receives until none comes for `quiet`.
  std::vector<long long> received(std::size_t expected) {
    std::vector<long long> out;
    while (out.size() < expected) {
      auto e = client.wait_event("RoundEnded", 10s);
      if (!e) break;
      out.push_back((*e)["round"].get<long long>());
    }
    if (!client.wait_event("RoundEnded", 300ms)) return out;
    out.push_back(-1);  // one too many
    return out;
  }
  static std::vector<long long> range(long long from, long long to) {
    std::vector<long long> v;
    for (long long r = from; r <= to; ++r) v.push_back(r);
    return v;
  }
};

// The fault suite's race, made deterministic: the subscriber is back while the stream cannot be
// read yet (here: the catch-up's XREVRANGE fails with WRONGTYPE, as a reconnecting command
// connection fails it), and a newer RoundEnded arrives live while older missed ones are only in
// the stream — more than one XREVRANGE page of them. Every round is announced once, in order.
TEST_F(GatewayCatchUp, LiveResultDuringAPendingCatchUpDoesNotHideMissedRounds) {
  for (long long r = 1; r <= 3; ++r) {
    add("cu:rounds", r, r * 1000);
    publish(r, r * 1000);
  }
  EXPECT_EQ(received(3), range(1, 3));

  sync.cmd({"RENAME", "cu:rounds", "cu:rounds-aside"});
  sync.cmd({"SET", "cu:rounds", "not a stream"});  // every catch-up read fails until restored
  sync.cmd({"CLIENT", "KILL", "TYPE", "pubsub"});
  for (long long r = 4; r <= 153; ++r) add("cu:rounds-aside", r, r * 1000);  // missed
  wait_subscribed();
  publish(153, 153'000);  // live, while the catch-up still fails
  EXPECT_FALSE(client.wait_event("RoundEnded", 600ms)) << "announced before the catch-up";
  sync.cmd({"DEL", "cu:rounds"});
  sync.cmd({"RENAME", "cu:rounds-aside", "cu:rounds"});
  EXPECT_EQ(received(150), range(4, 153));

  // Afterwards live results are announced at once; late copies are dropped.
  publish(153, 153'000);
  add("cu:rounds", 154, 154'000);
  publish(154, 154'000);
  EXPECT_EQ(received(1), range(154, 154));
}

// Redis lost its data (FLUSHALL here; a restart without AOF alike): round ids start at 1 again
// while the gateway's mark is high. The new rounds are announced, not dropped.
TEST_F(GatewayCatchUp, RoundsAfterRedisDataLossAreAnnounced) {
  for (long long r = 1; r <= 20; ++r) add("cu:rounds", r, r * 1000);
  publish(20, 20'000);
  EXPECT_EQ(received(1), range(20, 20));
  sync.cmd({"FLUSHALL"});
  add("cu:rounds", 1, 500'000);
  publish(1, 500'000);
  add("cu:rounds", 2, 501'000);
  publish(2, 501'000);
  EXPECT_EQ(received(2), range(1, 2));
  // The same after a re-subscription: the stream (now behind the mark) is read back from 1.
  sync.cmd({"FLUSHALL"});
  sync.cmd({"CLIENT", "KILL", "TYPE", "pubsub"});
  add("cu:rounds", 1, 900'000);
  add("cu:rounds", 2, 901'000);
  EXPECT_EQ(received(2), range(1, 2));
  wait_subscribed();
  add("cu:rounds", 3, 902'000);
  publish(3, 902'000);
  EXPECT_EQ(received(1), range(3, 3));
}

}  // namespace
}  // namespace clickrace::test
