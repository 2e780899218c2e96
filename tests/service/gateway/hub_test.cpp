// The hub over real WebSockets: handshake errors, the malformed-frame matrix, clicks landing in
// Redis exactly, GetRound, and round events on two gateways with stream catch-up.
#include <gtest/gtest.h>

#include <thread>

#include "gateway_fixture.hpp"

namespace clickrace::test {
namespace {

class GatewayHub : public ::testing::Test {
 protected:
  RedisServer redis;
  RedisSync sync{redis.port()};
  Gateway gw{redis,
             "hub:",
             {{"CLICKRACE_MAX_CLICKS_PER_S", "100000"}, {"CLICKRACE_HANDSHAKE_TIMEOUT_MS", "400"}}};
  std::string token;
  void SetUp() override {
    ASSERT_GT(gw.port, 0) << gw.proc->output();
    token = register_and_login(gw.port, "Player1");
    ASSERT_FALSE(token.empty());
  }
  // An upgraded socket that has not done the handshake.
  void open_raw(WsClient& ws) {
    ASSERT_EQ(ws.connect(gw.port, "/hub", {{"Authorization", "Bearer " + token}}), 101);
  }
  std::string next_text(WsClient& ws) {
    auto f = ws.recv(3s);
    return f ? f->payload : std::string("<none>");
  }
  // A healthy client still gets served.
  void expect_serving() {
    HubClient c;
    ASSERT_EQ(c.connect(gw.port, token), "");
    auto r = c.invoke("GetRound");
    ASSERT_TRUE(r);
    EXPECT_TRUE((*r).contains("result")) << r->dump();
  }
};

TEST_F(GatewayHub, HandshakeErrorsUseDotNetTexts) {
  WsClient a;
  open_raw(a);
  a.send_text(R"({"protocol":"xml","version":1})"
              "\x1e");
  EXPECT_EQ(next_text(a), "{\"error\":\"The protocol 'xml' is not supported.\"}\x1e");
  EXPECT_TRUE(a.wait_closed());

  WsClient b;
  open_raw(b);
  b.send_text(R"({"protocol":"json","version":9})"
              "\x1e");
  EXPECT_EQ(next_text(b),
            "{\"error\":\"The server does not support version 9 of the 'json' protocol.\"}\x1e");

  WsClient c;
  open_raw(c);
  c.send_text("garbage\x1e");
  EXPECT_EQ(next_text(c).rfind("{\"error\":", 0), 0u);
  EXPECT_TRUE(c.wait_closed());

  WsClient d;  // never sends the handshake: the (shortened) deadline cancels it
  open_raw(d);
  EXPECT_EQ(next_text(d), "{\"error\":\"Handshake was canceled.\"}\x1e");
  EXPECT_TRUE(d.wait_closed());
  expect_serving();
}

TEST_F(GatewayHub, MalformedFrameMatrix) {
  auto open_hub = [&](HubClient& c) { ASSERT_EQ(c.connect(gw.port, token), ""); };
  {  // binary frames carry the same records (as .NET reads them)
    HubClient c;
    open_hub(c);
    c.ws().send_binary(R"({"type":1,"invocationId":"b","target":"GetRound","arguments":[]})"
                       "\x1e");
    auto r = c.completion("b");
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->contains("result"));
  }
  {  // no separator yet: nothing happens until the record completes
    HubClient c;
    open_hub(c);
    c.ws().send_text(R"({"type":1,"invocationId":"s","target":"GetRound",)");
    EXPECT_FALSE(c.completion("s", 300ms));
    c.ws().send_text("\"arguments\":[]}\x1e");
    EXPECT_TRUE(c.completion("s"));
  }
  {  // truncated JSON: Close with an error, then the socket closes
    HubClient c;
    open_hub(c);
    c.send_record(R"({"type":1,"invocationId":"t","target":"Click")");
    auto m = c.next();
    ASSERT_TRUE(m);
    EXPECT_EQ((*m)["type"], 7);
    EXPECT_EQ((*m)["error"].get<std::string>().rfind("Connection closed with an error.", 0), 0u);
    EXPECT_TRUE(c.ws().wait_closed());
  }
  {  // wrong types, unknown method, wrong arguments, stream invocation
    HubClient c;
    open_hub(c);
    auto unknown = c.invoke("Nope");
    ASSERT_TRUE(unknown);
    EXPECT_EQ((*unknown)["error"], "Unknown hub method 'Nope'");
    auto args = c.invoke("Click", nlohmann::json::array({1}));
    ASSERT_TRUE(args);
    EXPECT_EQ((*args)["error"], "Failed to invoke 'Click' due to an error on the server.");
    c.send_record(R"({"type":4,"invocationId":"st","target":"GetRound","arguments":[]})");
    auto st = c.completion("st");
    ASSERT_TRUE(st);
    EXPECT_EQ((*st)["error"],
              "The client attempted to invoke the non-streaming 'GetRound' method with a "
              "streaming invocation.");
    c.send("Nope");  // a send with an unknown method: no answer at all
    c.send_record(R"({"type":6})");
    EXPECT_FALSE(c.next(300ms));
    c.send_record(R"({"type":"1","target":"Click","arguments":[]})");  // type as a string
    auto bad = c.next();
    ASSERT_TRUE(bad);
    EXPECT_EQ((*bad)["type"], 7);
  }
  {  // oversized message: closed (1009)
    HubClient c;
    open_hub(c);
    c.ws().send_text(std::string(40 * 1024, 'x'));
    EXPECT_TRUE(c.ws().wait_closed());
  }
  {  // a record split over frames that exceeds the limit in total
    HubClient c;
    open_hub(c);
    for (int i = 0; i < 3; ++i) c.ws().send_text(std::string(20 * 1024, 'x'));
    EXPECT_TRUE(c.ws().wait_closed());
  }
  {  // a flood of invocations in one message: every one answered, in order
    HubClient c;
    open_hub(c);
    std::string flood;
    for (int i = 0; i < 500; ++i) {
      flood += R"({"type":1,"invocationId":"f)" + std::to_string(i) +
               R"(","target":"Nope","arguments":[]})" + "\x1e";
    }
    c.ws().send_text(flood);
    for (int i = 0; i < 500; ++i) ASSERT_TRUE(c.completion("f" + std::to_string(i))) << i;
  }
  {  // the client's Close ends the connection
    HubClient c;
    open_hub(c);
    c.send_record(R"({"type":7})");
    EXPECT_TRUE(c.ws().wait_closed());
  }
  {  // raw garbage bytes on the socket (not a WebSocket frame)
    WsClient w;
    open_raw(w);
    w.send_raw(std::string("\xff\xff\xff\xff\x00\x01garbage", 14));
    EXPECT_TRUE(w.wait_closed());
  }
  expect_serving();
}

// websocketpp reads 512 bytes at a time (memory per connection): messages up to the 32 KB limit
// still arrive whole, in one frame or in fragments.
TEST_F(GatewayHub, MessagesUpToTheLimitWorkWithTheSmallReadBuffer) {
  HubClient c;
  ASSERT_EQ(c.connect(gw.port, token), "");
  std::string head = R"({"type":1,"invocationId":"big","target":"GetRound","arguments":[])";
  std::string record = head + std::string(32 * 1024 - head.size() - 2, ' ') + "}\x1e";
  ASSERT_EQ(record.size(), 32u * 1024);
  c.ws().send_text(record);
  auto big = c.completion("big");
  ASSERT_TRUE(big);
  EXPECT_TRUE(big->contains("result")) << big->dump();

  std::string frag = R"({"type":1,"invocationId":"frag","target":"GetRound","arguments":[])";
  frag += std::string(20000, ' ') + "}\x1e";
  std::size_t third = frag.size() / 3;
  c.ws().send_frame(1, frag.substr(0, third), false);
  c.ws().send_frame(0, frag.substr(third, third), false);
  c.ws().send_frame(0, frag.substr(2 * third), true);
  auto fragmented = c.completion("frag");
  ASSERT_TRUE(fragmented);
  EXPECT_TRUE(fragmented->contains("result")) << fragmented->dump();
}

TEST_F(GatewayHub, ClickBeforeAnyScheduleIsAnError) {
  HubClient c;
  ASSERT_EQ(c.connect(gw.port, token), "");
  auto r = c.invoke("Click");
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["error"], "no round is running yet");
}

TEST_F(GatewayHub, ClicksLandInRedisExactly) {
  write_schedule(sync, "hub:");
  constexpr int kClients = 4, kClicks = 60, kSends = 10;
  std::vector<std::thread> threads;
  std::vector<std::string> failures(kClients);
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      std::string name = "Clicker" + std::to_string(i);
      std::string t = register_and_login(gw.port, name);
      HubClient c;
      if (auto err = c.connect(gw.port, t); !err.empty()) {
        failures[i] = err;
        return;
      }
      std::vector<std::string> ids;
      for (int k = 0; k < kClicks; ++k) ids.push_back(c.invoke_async("click"));
      long long last = 0;
      for (auto& id : ids) {
        auto r = c.completion(id);
        if (!r || !r->contains("result")) {
          failures[i] = "no result for " + id + ": " + (r ? r->dump() : "timeout");
          return;
        }
        long long total = (*r)["result"]["clicks"];
        if (total != last + 1) failures[i] = "totals not increasing by one";
        if ((*r)["result"]["round"] != 1) failures[i] = "wrong round";
        last = total;
      }
      for (int k = 0; k < kSends; ++k) c.send("Click");
      // The sends are counted too (no reply): wait for them via GetRound.
      for (int tries = 0; tries < 100; ++tries) {
        auto g = c.invoke("GetRound");
        if (g && (*g)["result"]["myClicks"] == kClicks + kSends) return;
        std::this_thread::sleep_for(20ms);
      }
      failures[i] = "sends not counted";
    });
  }
  for (auto& t : threads) t.join();
  for (auto& f : failures) EXPECT_EQ(f, "");
  auto scores = sync.cmd({"ZRANGE", "hub:round:1:scores", "0", "-1", "WITHSCORES"});
  long long sum = 0;
  for (std::size_t i = 1; i < scores.elements.size(); i += 2)
    sum += std::stoll(scores.elements[i].str);
  EXPECT_EQ(sum, kClients * (kClicks + kSends));
  EXPECT_EQ(sync.cmd({"GET", "hub:round:1:total"}).str,
            std::to_string(kClients * (kClicks + kSends)));
  auto metrics = http_request(gw.port, "GET", "/metrics").body;
  EXPECT_NE(metrics.find("clickrace_gateway_click_batches_total"), std::string::npos);
  // A fresh Redis: the scripts were loaded in the connect handshake, so no EVALSHA met NOSCRIPT
  // (its EVAL retry could let a later batch overtake an earlier one: totals out of order).
  EXPECT_EQ(sync.cmd({"INFO", "errorstats"}).str.find("NOSCRIPT"), std::string::npos);
}

TEST(GatewayRateLimit, ClicksAboveTheLimitAreRefused) {
  RedisServer redis;
  RedisSync sync(redis.port());
  Gateway gw(redis, "rate:", {{"CLICKRACE_MAX_CLICKS_PER_S", "5"}});
  ASSERT_GT(gw.port, 0);
  write_schedule(sync, "rate:");
  HubClient c;
  ASSERT_EQ(c.connect(gw.port, register_and_login(gw.port, "Speedy")), "");
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) ids.push_back(c.invoke_async("Click"));
  int ok = 0, limited = 0;
  for (auto& id : ids) {
    auto r = c.completion(id);
    ASSERT_TRUE(r);
    if (r->contains("result")) ++ok;
    if (r->value("error", "").find("rate limit") != std::string::npos) ++limited;
  }
  EXPECT_GE(ok, 5);
  EXPECT_GE(limited, 10);
  EXPECT_EQ(ok + limited, 20);
  auto score = sync.cmd({"ZSCORE", "rate:round:1:scores", "Speedy"});
  EXPECT_EQ(std::stoll(score.str), ok);
}

TEST(GatewayEvents, TwoGatewaysDeliverRoundEndedOnceAndCatchUpAfterResubscribe) {
  RedisServer redis;
  RedisSync sync(redis.port());
  Gateway g1(redis, "ev:"), g2(redis, "ev:");
  ASSERT_GT(g1.port, 0);
  ASSERT_GT(g2.port, 0);
  // Both gateways share the token secret through Redis: a token from one works on the other.
  std::string token = register_and_login(g1.port, "Watcher");
  HubClient c1, c2;
  ASSERT_EQ(c1.connect(g1.port, token), "");
  ASSERT_EQ(c2.connect(g2.port, token), "");

  auto result = [](int round) {
    return nlohmann::json{{"round", round},
                          {"startedAt", 1000 * round},
                          {"endedAt", 1000 * (round + 1)},
                          {"winners", {"Watcher"}},
                          {"winnerCount", 1},
                          {"winningClicks", 5},
                          {"totalClicks", 5},
                          {"players", 1}};
  };
  auto publish = [&](int round) {
    nlohmann::json env = {{"event", "RoundEnded"}, {"round", round}, {"data", result(round)}};
    sync.cmd(
        {"XADD", "ev:rounds", "*", "round", std::to_string(round), "result", result(round).dump()});
    return sync.cmd({"PUBLISH", "ev:events", env.dump()}).integer;
  };
  ASSERT_TRUE(eventually([&] {
    return sync.cmd({"PUBSUB", "NUMSUB", "ev:events"}).elements[1].integer == 2;
  }));
  publish(5);
  for (HubClient* c : {&c1, &c2}) {
    auto e = c->wait_event("RoundEnded");
    ASSERT_TRUE(e);
    EXPECT_EQ(*e, result(5));
  }
  // A duplicate publication is not announced twice.
  nlohmann::json dup = {{"event", "RoundEnded"}, {"round", 5}, {"data", result(5)}};
  sync.cmd({"PUBLISH", "ev:events", dup.dump()});
  // Leaderboard events pass through as they are.
  nlohmann::json lb = {
      {"event", "Leaderboard"},
      {"round", 6},
      {"data",
       {{"round", 6}, {"remainingMs", 100}, {"totalClicks", 0}, {"top", nlohmann::json::array()}}}};
  sync.cmd({"PUBLISH", "ev:events", lb.dump()});
  for (HubClient* c : {&c1, &c2}) {
    ASSERT_TRUE(c->wait_event("Leaderboard"));
    for (auto& e : c->events()) EXPECT_NE(e.value("target", ""), "RoundEnded");
  }
  // Round 6 closes while the gateways' subscriptions are down: stream only, no publish.
  sync.cmd({"CLIENT", "KILL", "TYPE", "pubsub"});
  sync.cmd({"XADD", "ev:rounds", "*", "round", "6", "result", result(6).dump()});
  for (HubClient* c : {&c1, &c2}) {
    auto e = c->wait_event("RoundEnded", 10s);
    ASSERT_TRUE(e) << "missed round not caught up";
    EXPECT_EQ((*e)["round"], 6);
  }
  // And after that, a late pub/sub copy of round 6 is dropped.
  ASSERT_TRUE(eventually([&] {
    return sync.cmd({"PUBSUB", "NUMSUB", "ev:events"}).elements[1].integer == 2;
  }));
  nlohmann::json late = {{"event", "RoundEnded"}, {"round", 6}, {"data", result(6)}};
  sync.cmd({"PUBLISH", "ev:events", late.dump()});
  EXPECT_FALSE(c1.wait_event("RoundEnded", 500ms));
}

TEST(GatewayEvents, GetRoundShape) {
  RedisServer redis;
  RedisSync sync(redis.port());
  Gateway gw(redis, "gr:");
  ASSERT_GT(gw.port, 0);
  write_schedule(sync, "gr:");
  HubClient c;
  ASSERT_EQ(c.connect(gw.port, register_and_login(gw.port, "Gina")), "");
  ASSERT_TRUE(c.invoke("Click"));
  auto r = c.invoke("GetRound");
  ASSERT_TRUE(r);
  auto res = (*r)["result"];
  for (const char* k : {"round", "startsAt", "endsAt", "serverTime", "myClicks", "top"}) {
    EXPECT_TRUE(res.contains(k)) << k;
  }
  EXPECT_EQ(res["myClicks"], 1);
  EXPECT_EQ(res["top"], nlohmann::json::parse(R"([{"name":"Gina","clicks":1}])"));
}

}  // namespace
}  // namespace clickrace::test
