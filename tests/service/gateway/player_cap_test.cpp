// The per-account connection cap as the gateway applies it: eviction answers every click already
// sent to Redis before the Close (acknowledged == stored), and a connection Redis forgot
// (FLUSHALL) is registered again rather than closed.
#include <gtest/gtest.h>

#include <thread>

#include "gateway_fixture.hpp"

namespace clickrace::test {
namespace {

TEST(PlayerCap, AnEvictedConnectionGetsEveryCountedClickAnsweredBeforeItsClose) {
  RedisServer redis;
  RedisSync sync(redis.port());
  Gateway gw(redis, "cap:",
             {{"CLICKRACE_TOKEN_SECRET", kTestSecret},
              {"CLICKRACE_MAX_CONNECTIONS_PER_PLAYER", "1"},
              {"CLICKRACE_MAX_CLICKS_PER_S", "100000"}});
  ASSERT_GT(gw.port, 0) << gw.proc->output();
  write_schedule(sync, "cap:");
  std::string token = register_and_login(gw.port, "Evicted");
  HubClient a;
  ASSERT_EQ(a.connect(gw.port, token), "");

  // A clicks without pause while B (the same account) connects and evicts it.
  std::vector<std::string> ids;
  std::thread clicker([&] {
    for (int i = 0; i < 3000 && !a.ws().closed(); ++i) {
      ids.push_back(a.invoke_async("Click"));
      if (i % 50 == 49) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  HubClient b;
  ASSERT_EQ(b.connect(gw.port, token), "");
  clicker.join();

  long long acknowledged = 0, refused = 0;
  bool close_seen = false;
  for (const auto& id : ids) {
    auto r = a.completion(id, std::chrono::milliseconds(2000));
    if (!r) break;  // nothing more before the Close
    if (r->contains("result")) ++acknowledged;
    if (r->contains("error")) ++refused;
  }
  for (const auto& e : a.events()) {
    if (e.value("type", 0) == 7) {
      close_seen = true;
      EXPECT_NE(e.value("error", "").find("newer connection elsewhere (at most 1 at once)"),
                std::string::npos)
          << e.dump();
      EXPECT_FALSE(e.value("allowReconnect", false));
    }
  }
  EXPECT_TRUE(close_seen);
  auto stored = sync.cmd({"ZSCORE", "cap:round:1:scores", "Evicted"});
  long long in_redis = stored.is_nil() ? 0 : std::stoll(stored.str);
  std::printf("[cap] A sent %zu clicks: %lld acknowledged, %lld refused, %lld stored\n", ids.size(),
              acknowledged, refused, in_redis);
  EXPECT_GT(acknowledged, 0);
  EXPECT_EQ(in_redis, acknowledged) << "every stored click was acknowledged before the Close";
  auto r = b.invoke("Click");
  ASSERT_TRUE(r && r->contains("result")) << (r ? r->dump() : "timeout");
}

TEST(PlayerCap, AConnectionRedisForgotIsRegisteredAgainNotClosed) {
  RedisServer redis;
  RedisSync sync(redis.port());
  Gateway gw(redis, "capf:",
             {{"CLICKRACE_TOKEN_SECRET", kTestSecret},
              {"CLICKRACE_MAX_CONNECTIONS_PER_PLAYER", "2"},
              {"CLICKRACE_PLAYER_SESSION_STALE_MS", "600"}});
  ASSERT_GT(gw.port, 0) << gw.proc->output();
  std::string token = register_and_login(gw.port, "Forgotten");
  HubClient a;
  ASSERT_EQ(a.connect(gw.port, token), "");
  ASSERT_TRUE(eventually([&] {
    return sync.cmd({"ZCARD", "capf:player:Forgotten:conns"}).integer == 1;
  }));
  sync.cmd({"FLUSHALL"});
  HubClient b;  // a second tab: the registry holds only B now
  ASSERT_EQ(b.connect(gw.port, token), "");
  // A's next confirmations (every 200 ms) register it again instead of closing it.
  EXPECT_TRUE(eventually([&] {
    return sync.cmd({"ZCARD", "capf:player:Forgotten:conns"}).integer == 2;
  }));
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  auto r = a.invoke("GetRound");
  EXPECT_TRUE(r && r->contains("result")) << "A was closed: " << (r ? r->dump() : "timeout");
  for (const auto& e : a.events()) EXPECT_NE(e.value("type", 0), 7) << e.dump();
}

}  // namespace
}  // namespace clickrace::test
