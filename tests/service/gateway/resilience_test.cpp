// Redis outages under load and graceful shutdown.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <iostream>
#include <thread>

#include "gateway_fixture.hpp"

namespace clickrace::test {
namespace {

TEST(GatewayResilience, RedisRestartUnderLoadLosesNoAcknowledgedClick) {
  RedisServer redis;
  RedisSync setup(redis.port());
  Gateway gw(redis, "res:",
             {{"CLICKRACE_MAX_CLICKS_PER_S", "100000"}, {"CLICKRACE_REDIS_TIMEOUT_MS", "300"}});
  ASSERT_GT(gw.port, 0);
  write_schedule(setup, "res:", 3'600'000);
  constexpr int kClients = 3;
  std::atomic<bool> stop{false};
  std::atomic<long long> acked{0}, errors{0}, ambiguous{0};
  std::vector<std::thread> threads;
  std::vector<std::string> tokens;
  for (int i = 0; i < kClients; ++i)
    tokens.push_back(register_and_login(gw.port, "Load" + std::to_string(i)));
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      while (!stop) {
        HubClient c;
        if (!c.connect(gw.port, tokens[i]).empty()) {
          std::this_thread::sleep_for(50ms);
          continue;
        }
        while (!stop) {
          std::vector<std::string> ids;
          for (int k = 0; k < 10; ++k) ids.push_back(c.invoke_async("Click"));
          bool broken = false;
          for (auto& id : ids) {
            auto r = c.completion(id, 3s);
            if (!r) {
              ++ambiguous;  // no answer: may or may not have counted
              broken = true;
              continue;
            }
            if (r->contains("result")) {
              ++acked;
            } else {
              ++errors;
              ++ambiguous;  // "service unavailable" after a lost connection may have counted
            }
          }
          if (broken) break;
        }
      }
    });
  }
  ASSERT_TRUE(eventually([&] { return acked > 200; }));
  redis.kill();
  EXPECT_TRUE(eventually([&] { return http_request(gw.port, "GET", "/readyz").status == 503; }));
  long long errors_before = errors;
  EXPECT_TRUE(eventually([&] { return errors > errors_before + 10; }))
      << "clicks must fail fast while Redis is down";
  EXPECT_EQ(http_request(gw.port, "GET", "/healthz").status, 200);
  redis.start();
  EXPECT_TRUE(
      eventually([&] { return http_request(gw.port, "GET", "/readyz").status == 200; }, 15s));
  long long after = acked;
  EXPECT_TRUE(eventually([&] { return acked > after + 200; }, 15s)) << "clicks work again";
  stop = true;
  for (auto& t : threads) t.join();
  RedisSync check(redis.port());
  auto total = check.cmd({"GET", "res:round:1:total"});
  long long stored = std::stoll(total.str);
  std::cerr << "acked=" << acked << " errors=" << errors << " ambiguous=" << ambiguous
            << " stored=" << stored << "\n";
  EXPECT_GE(stored, acked.load()) << "an acknowledged click was lost";
  EXPECT_LE(stored, acked.load() + ambiguous.load());
}

TEST(GatewayShutdown, SigtermSendsCloseWithReconnectAndExitsZero) {
  RedisServer redis;
  RedisSync setup(redis.port());
  Gateway gw(redis, "down:", {{"CLICKRACE_MAX_CLICKS_PER_S", "100000"}});
  ASSERT_GT(gw.port, 0);
  write_schedule(setup, "down:");
  std::string token = register_and_login(gw.port, "Leaver");
  HubClient a, b;
  ASSERT_EQ(a.connect(gw.port, token), "");
  ASSERT_EQ(b.connect(gw.port, token), "");
  // Clicks sent right before the signal are flushed and answered first.
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) ids.push_back(a.invoke_async("Click"));
  ASSERT_TRUE(a.completion(ids.back()));
  gw.proc->signal(SIGTERM);
  for (HubClient* c : {&a, &b}) {
    std::optional<nlohmann::json> close;
    while (auto m = c->next(5s)) {
      if (m->value("type", 0) == 7) {
        close = m;
        break;
      }
    }
    ASSERT_TRUE(close) << "no Close message";
    EXPECT_EQ(*close, nlohmann::json::parse(R"({"type":7,"allowReconnect":true})"));
    EXPECT_TRUE(c->ws().wait_closed());
    EXPECT_EQ(c->ws().close_code().value_or(0), 1000);
  }
  auto status = gw.proc->wait_exit(10s);
  ASSERT_TRUE(status);
  EXPECT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 0);
  EXPECT_EQ(setup.cmd({"ZSCORE", "down:round:1:scores", "Leaver"}).str, "20");
}

TEST(GatewayKeepAlive, PingsIdleClientsAndDropsSilentOnes) {
  RedisServer redis;
  Gateway gw(redis,
             "ka:", {{"CLICKRACE_KEEPALIVE_MS", "200"}, {"CLICKRACE_CLIENT_TIMEOUT_MS", "800"}});
  ASSERT_GT(gw.port, 0);
  HubClient c;
  ASSERT_EQ(c.connect(gw.port, register_and_login(gw.port, "Quiet")), "");
  auto ping = c.next(2s);
  ASSERT_TRUE(ping);
  EXPECT_EQ(*ping, nlohmann::json::parse(R"({"type":6})"));
  // Silent (we never answer): dropped with an error Close.
  std::optional<nlohmann::json> close;
  while (auto m = c.next(3s)) {
    if (m->value("type", 0) == 7) {
      close = m;
      break;
    }
  }
  ASSERT_TRUE(close);
  EXPECT_TRUE(c.ws().wait_closed());
}

}  // namespace
}  // namespace clickrace::test
