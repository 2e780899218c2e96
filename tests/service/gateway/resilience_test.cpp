// Redis outages under load (exact accounting across them) and graceful shutdown.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <iostream>
#include <set>
#include <thread>

#include "gateway_fixture.hpp"

namespace clickrace::test {
namespace {

// The value of an unlabelled counter in a Prometheus text page (-1 when absent).
long long metric(const std::string& page, const std::string& name) {
  auto at = page.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::stoll(page.substr(at + name.size() + 2));
}

// Redis killed -9 and restarted under load: click batches in flight at the kill are resent with
// the same id once Redis is back (click.lua applies an id once), so every click that got a result
// is stored exactly once and every click that got "service unavailable" is not stored at all.
TEST(GatewayResilience, RedisRestartUnderLoadStoresExactlyTheAcknowledgedClicks) {
  RedisServer redis;
  RedisSync setup(redis.port());
  Gateway gw(redis, "res:",
             {{"CLICKRACE_MAX_CLICKS_PER_S", "100000"},
              {"CLICKRACE_REDIS_TIMEOUT_MS", "300"},
              {"CLICKRACE_CLICK_RETRY_MS", "20000"}});
  ASSERT_GT(gw.port, 0);
  write_schedule(setup, "res:", 3'600'000);
  constexpr int kClients = 3;
  std::atomic<bool> stop{false};
  std::atomic<long long> acked_total{0}, errors{0};
  std::vector<long long> acked(kClients, 0);
  std::vector<std::string> failures(kClients);
  std::vector<std::thread> threads;
  std::vector<std::string> tokens;
  for (int i = 0; i < kClients; ++i)
    tokens.push_back(register_and_login(gw.port, "Load" + std::to_string(i)));
  HubClient probe;
  ASSERT_EQ(probe.connect(gw.port, register_and_login(gw.port, "Probe")), "");
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      HubClient c;
      if (auto err = c.connect(gw.port, tokens[i]); !err.empty()) {
        failures[i] = "connect: " + err;
        return;
      }
      while (!stop) {
        std::vector<std::string> ids;
        for (int k = 0; k < 10; ++k) ids.push_back(c.invoke_async("Click"));
        for (auto& id : ids) {
          // Every click is answered: at the latest when its batch resolves after the restart.
          auto r = c.completion(id, 30s);
          if (!r) {
            failures[i] = "no answer for " + id;
            return;
          }
          if (r->contains("result")) {
            ++acked[i];
            ++acked_total;
          } else if (r->value("error", "") == "service unavailable") {
            ++errors;
          } else {
            failures[i] = "unexpected answer " + r->dump();
            return;
          }
        }
      }
    });
  }
  ASSERT_TRUE(eventually([&] { return acked_total > 200; }));
  // Frozen for a moment first, so batches are surely in flight (unanswered) at the kill.
  redis.pause();
  std::this_thread::sleep_for(50ms);
  redis.kill();
  EXPECT_TRUE(eventually([&] { return http_request(gw.port, "GET", "/readyz").status == 503; }));
  // The loaded clients wait for their in-flight clicks (resolved after the restart); a new click
  // meanwhile fails fast: it is never sent.
  auto started = std::chrono::steady_clock::now();
  auto refused = probe.invoke("Click");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->value("error", ""), "service unavailable") << refused->dump();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1s) << "must fail fast";
  EXPECT_EQ(http_request(gw.port, "GET", "/healthz").status, 200);
  std::this_thread::sleep_for(1s);  // an outage of a second or so
  redis.start();
  EXPECT_TRUE(
      eventually([&] { return http_request(gw.port, "GET", "/readyz").status == 200; }, 15s));
  long long after = acked_total;
  EXPECT_TRUE(eventually([&] { return acked_total > after + 200; }, 15s)) << "clicks work again";
  stop = true;
  for (auto& t : threads) t.join();
  for (auto& f : failures) EXPECT_EQ(f, "");

  RedisSync check(redis.port());
  long long stored_total = std::stoll(check.cmd({"GET", "res:round:1:total"}).str);
  for (int i = 0; i < kClients; ++i) {
    auto score = check.cmd({"ZSCORE", "res:round:1:scores", "Load" + std::to_string(i)});
    EXPECT_EQ(std::stoll(score.str), acked[i]) << "player Load" << i;
  }
  EXPECT_EQ(stored_total, acked_total.load());
  std::string metrics = http_request(gw.port, "GET", "/metrics").body;
  std::cerr << "acked=" << acked_total << " errors=" << errors << " stored=" << stored_total
            << " resent=" << metric(metrics, "clickrace_gateway_click_batches_resent_total")
            << "\n";
  EXPECT_GE(metric(metrics, "clickrace_gateway_click_batches_resent_total"), 1);
  EXPECT_EQ(metric(metrics, "clickrace_gateway_click_batches_given_up_total"), 0);
}

// One gateway with a short Redis timeout, a long round, and one connected player.
struct OnePlayer {
  OnePlayer(const std::string& key_prefix, const std::string& retry_ms)
      : prefix(key_prefix),
        gw(redis, prefix,
           {{"CLICKRACE_MAX_CLICKS_PER_S", "100000"},
            {"CLICKRACE_REDIS_TIMEOUT_MS", "200"},
            {"CLICKRACE_CLICK_RETRY_MS", retry_ms}}) {}

  // Registers and connects `name`; with `click_once`, the player's first click is counted.
  void join(const std::string& name, bool click_once) {
    ASSERT_GT(gw.port, 0);
    write_schedule(setup, prefix, 3'600'000);
    ASSERT_EQ(client.connect(gw.port, register_and_login(gw.port, name)), "");
    if (!click_once) return;
    auto first = client.invoke("Click");
    ASSERT_TRUE(first && first->contains("result"));
  }
  std::string stored(const std::string& key) { return setup.cmd({"GET", prefix + key}).str; }
  std::string score(const std::string& name) {
    return setup.cmd({"ZSCORE", prefix + "round:1:scores", name}).str;
  }
  long long gateway_metric(const std::string& name) {
    return metric(http_request(gw.port, "GET", "/metrics").body, name);
  }

  RedisServer redis;
  RedisSync setup{redis.port()};
  std::string prefix;
  Gateway gw;
  HubClient client;
};

// A frozen Redis (SIGSTOP): the batch times out, the connection is dropped as hung, and Redis
// later runs the stale copy from the dead connection's buffer AND receives the resend on the new
// one. The batch id makes that count once, and the caller gets the first run's totals.
TEST(GatewayResilience, BatchResentAfterAFrozenRedisCountsOnce) {
  OnePlayer p("frz:", "30000");
  ASSERT_NO_FATAL_FAILURE(p.join("Frozen", true));

  p.redis.pause();
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(p.client.invoke_async("Click"));
  // Past the timeout and the hung-server drop, with reconnect attempts failing.
  std::this_thread::sleep_for(1500ms);
  p.redis.resume();
  long long last = 1;
  for (auto& id : ids) {
    auto r = p.client.completion(id, 20s);
    ASSERT_TRUE(r) << "no answer for " << id;
    ASSERT_TRUE(r->contains("result")) << r->dump();
    EXPECT_EQ((*r)["result"]["clicks"], last + 1);
    last = (*r)["result"]["clicks"];
  }
  EXPECT_EQ(p.score("Frozen"), "6");
  EXPECT_EQ(p.stored("round:1:total"), "6");
  EXPECT_GE(p.gateway_metric("clickrace_gateway_click_batches_resent_total"), 1);
}

// An error reply to a RESEND (here OOM) says nothing about the earlier send, which may have run:
// the batch stays unresolved and is resent until Redis accepts it, instead of failing its caller.
TEST(GatewayResilience, ErrorReplyToAResendKeepsTheBatchUnresolved) {
  OnePlayer p("oom:", "20000");
  ASSERT_NO_FATAL_FAILURE(p.join("Hungry", true));

  // Every write is refused with OOM, and writes wait 600 ms: the click's first send times out
  // (ambiguous), and it and its resend then meet OOM.
  ASSERT_EQ(p.setup.cmd({"CONFIG", "SET", "maxmemory", "1"}).str, "OK");
  ASSERT_EQ(p.setup.cmd({"CLIENT", "PAUSE", "600", "WRITE"}).str, "OK");
  std::string id = p.client.invoke_async("Click");
  std::this_thread::sleep_for(1500ms);
  ASSERT_EQ(p.setup.cmd({"CONFIG", "SET", "maxmemory", "0"}).str, "OK");

  auto r = p.client.completion(id, 10s);
  ASSERT_TRUE(r) << "no answer";
  ASSERT_TRUE(r->contains("result")) << r->dump();
  EXPECT_EQ((*r)["result"]["clicks"], 2);
  EXPECT_EQ(p.score("Hungry"), "2");
  EXPECT_GE(p.gateway_metric("clickrace_gateway_click_batches_resent_total"), 2);
}

// Beyond CLICKRACE_CLICK_RETRY_MS the callers are told "service unavailable".
TEST(GatewayResilience, UnresolvedBatchFailsAfterTheRetryWindow) {
  OnePlayer p("gup:", "800");
  ASSERT_NO_FATAL_FAILURE(p.join("Patient", false));
  p.redis.pause();
  std::string id = p.client.invoke_async("Click");
  auto r = p.client.completion(id, 10s);
  p.redis.resume();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->value("error", ""), "service unavailable") << r->dump();
  EXPECT_EQ(p.gateway_metric("clickrace_gateway_click_batches_given_up_total"), 1);
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

// SIGTERM under click load: clicks keep arriving during the shutdown. Each is either answered
// with its result (its batch was formed before the shutdown and drained before the Close) or
// with "server shutting down"; Redis holds exactly the acknowledged clicks.
TEST(GatewayShutdown, SigtermUnderClickLoadAnswersEveryCountedClick) {
  RedisServer redis;
  RedisSync setup(redis.port());
  Gateway gw(redis, "sdl:", {{"CLICKRACE_MAX_CLICKS_PER_S", "1000000"}});
  ASSERT_GT(gw.port, 0);
  write_schedule(setup, "sdl:", 3'600'000);
  constexpr int kClients = 4;
  constexpr int kWindow = 20;  // invocations outstanding per client
  std::vector<std::string> tokens;
  for (int i = 0; i < kClients; ++i) {
    tokens.push_back(register_and_login(gw.port, "Quit" + std::to_string(i)));
  }
  std::atomic<long long> acked_total{0}, refused{0}, unanswered{0};
  std::vector<long long> acked(kClients, 0);
  std::vector<std::string> failures(kClients);
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      HubClient c;
      if (auto err = c.connect(gw.port, tokens[i]); !err.empty()) {
        failures[i] = "connect: " + err;
        return;
      }
      std::set<std::string> open;
      bool closed = false;
      while (!closed) {
        while (open.size() < kWindow) open.insert(c.invoke_async("Click"));
        auto m = c.next(10s);
        if (!m) {
          failures[i] = "connection ended without a Close";
          return;
        }
        int type = m->value("type", 0);
        if (type == 7) {
          closed = true;
        } else if (type == 3) {
          open.erase(m->value("invocationId", ""));
          if (m->contains("result")) {
            ++acked[i];
            ++acked_total;
          } else if (m->value("error", "") == "server shutting down") {
            ++refused;
          } else {
            failures[i] = "unexpected answer " + m->dump();
            return;
          }
        }
      }
      // Sent while the Close was on its way (the server reads nothing after it): never counted.
      unanswered += static_cast<long long>(open.size());
    });
  }
  ASSERT_TRUE(eventually([&] { return acked_total > 2000; }));
  gw.proc->signal(SIGTERM);
  for (auto& t : threads) t.join();
  for (auto& f : failures) EXPECT_EQ(f, "");
  auto status = gw.proc->wait_exit(10s);
  ASSERT_TRUE(status);
  EXPECT_EQ(WEXITSTATUS(*status), 0);
  EXPECT_GT(refused, 0) << "clicks kept arriving during the shutdown";
  EXPECT_LE(unanswered, kClients * kWindow);
  long long stored_total = std::stoll(setup.cmd({"GET", "sdl:round:1:total"}).str);
  for (int i = 0; i < kClients; ++i) {
    auto score = setup.cmd({"ZSCORE", "sdl:round:1:scores", "Quit" + std::to_string(i)});
    EXPECT_EQ(std::stoll(score.str), acked[i]) << "player Quit" << i;
  }
  EXPECT_EQ(stored_total, acked_total.load());
  std::cerr << "acked=" << acked_total << " refused=" << refused << " unanswered=" << unanswered
            << "\n";
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

// A gateway stopped past its clients' timeout (SIGSTOP) reads, once resumed, what those clients
// sent meanwhile and have given up on: it closes them without executing it, so no click is
// stored that nobody was told about.
TEST(GatewayKeepAlive, WhatADeadConnectionBufferedIsNotExecuted) {
  RedisServer redis;
  RedisSync setup(redis.port());
  Gateway gw(redis, "stale:",
             {{"CLICKRACE_CLIENT_TIMEOUT_MS", "800"}, {"CLICKRACE_MAX_CLICKS_PER_S", "1000"}});
  ASSERT_GT(gw.port, 0);
  write_schedule(setup, "stale:", 3'600'000);
  HubClient c;
  ASSERT_EQ(c.connect(gw.port, register_and_login(gw.port, "Stale")), "");
  auto first = c.invoke("Click");
  ASSERT_TRUE(first && first->contains("result"));

  gw.proc->signal(SIGSTOP);
  std::this_thread::sleep_for(1200ms);  // past the client timeout, while the gateway is stopped
  for (int i = 0; i < 20; ++i) c.send("Click");
  std::this_thread::sleep_for(100ms);
  gw.proc->signal(SIGCONT);

  std::optional<nlohmann::json> close;
  while (auto m = c.next(3s)) {
    if (m->value("type", 0) == 7) {
      close = m;
      break;
    }
  }
  ASSERT_TRUE(close) << "the stale connection was not closed";
  EXPECT_EQ(close->value("allowReconnect", false), true);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(setup.cmd({"ZSCORE", "stale:round:1:scores", "Stale"}).str, "1");
}

}  // namespace
}  // namespace clickrace::test
