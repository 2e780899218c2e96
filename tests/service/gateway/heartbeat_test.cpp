// A dead event subscription that no FIN announces (a partition): the gateway's pub/sub
// heartbeat notices it, says 503 on /readyz, re-subscribes and catches up what it missed.
#include <gtest/gtest.h>

#include "gateway_fixture.hpp"
#include "tcp_proxy.hpp"

namespace clickrace::test {
namespace {

TEST(GatewayHeartbeat, SilentlyDeadSubscriptionIsReestablishedAndCaughtUp) {
  RedisServer redis;
  RedisSync sync(redis.port());
  TcpProxy proxy(redis.port());
  Gateway gw(redis, "hb:",
             {{"CLICKRACE_REDIS_URL", "redis://127.0.0.1:" + std::to_string(proxy.port()) + "/0"},
              {"CLICKRACE_HEARTBEAT_MS", "200"},
              {"CLICKRACE_REDIS_TIMEOUT_MS", "300"}});
  ASSERT_GT(gw.port, 0);
  HubClient c;
  ASSERT_EQ(c.connect(gw.port, register_and_login(gw.port, "Watcher")), "");
  ASSERT_TRUE(eventually([&] {
    return sync.cmd({"PUBSUB", "NUMSUB", "hb:events"}).elements[1].integer == 1;
  }));
  ASSERT_TRUE(eventually([&] { return http_request(gw.port, "GET", "/readyz").status == 200; }));

  // Both Redis connections go silent; the command connection is replaced by its own timeout
  // policy, the subscriber only by the heartbeat. A round closes meanwhile.
  proxy.freeze_existing();
  nlohmann::json result = {{"round", 1},       {"startedAt", 1000},
                           {"endedAt", 2000},  {"winners", nlohmann::json::array()},
                           {"winnerCount", 0}, {"winningClicks", 0},
                           {"totalClicks", 0}, {"players", 0}};
  sync.cmd({"XADD", "hb:rounds", "*", "round", "1", "result", result.dump()});
  nlohmann::json env = {{"event", "RoundEnded"}, {"round", 1}, {"data", result}};
  sync.cmd({"PUBLISH", "hb:events", env.dump()});  // reaches only the frozen connection

  EXPECT_TRUE(eventually([&] { return http_request(gw.port, "GET", "/readyz").status == 503; }))
      << "not ready while the subscription is in doubt";
  auto e = c.wait_event("RoundEnded", 15s);
  ASSERT_TRUE(e) << "the missed round was not caught up after re-subscribing";
  EXPECT_EQ((*e)["round"], 1);
  EXPECT_TRUE(
      eventually([&] { return http_request(gw.port, "GET", "/readyz").status == 200; }, 10s));
  std::string metrics = http_request(gw.port, "GET", "/metrics").body;
  EXPECT_EQ(metrics.find("clickrace_gateway_subscription_restarts_total 0"), std::string::npos)
      << "the heartbeat re-subscribed";
  EXPECT_FALSE(c.wait_event("RoundEnded", 500ms)) << "announced once";
  if (HasFailure()) std::cerr << gw.proc->output();
}

}  // namespace
}  // namespace clickrace::test
