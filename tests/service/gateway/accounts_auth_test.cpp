// Accounts, sessions, negotiate and the upgrade against a real gateway and a real Redis.
#include <gtest/gtest.h>

#include "clickrace/core/token.hpp"
#include "gateway_fixture.hpp"

namespace clickrace::test {
namespace {

std::string creds(const std::string& name, const std::string& password) {
  return nlohmann::json{{"name", name}, {"password", password}}.dump();
}

class GatewayAuth : public ::testing::Test {
 protected:
  RedisServer redis;
  Gateway gw{redis, "auth:", {{"CLICKRACE_TOKEN_SECRET", kTestSecret}}};
  void SetUp() override { ASSERT_GT(gw.port, 0) << gw.proc->output(); }
};

TEST_F(GatewayAuth, RegisterValidatesAndNamesAreUniqueRegardlessOfCase) {
  auto r = http_request(gw.port, "POST", "/api/accounts", creds("Alice", "password1"));
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(nlohmann::json::parse(r.body), nlohmann::json({{"name", "Alice"}}));
  EXPECT_EQ(http_request(gw.port, "POST", "/api/accounts", creds("Alice", "password1")).status,
            409);
  auto taken = http_request(gw.port, "POST", "/api/accounts", creds("aLICE", "password2"));
  EXPECT_EQ(taken.status, 409);
  EXPECT_TRUE(nlohmann::json::parse(taken.body).contains("error"));
  EXPECT_EQ(http_request(gw.port, "POST", "/api/accounts", creds("ab", "password1")).status, 400);
  EXPECT_EQ(http_request(gw.port, "POST", "/api/accounts", creds("bad name", "password1")).status,
            400);
  EXPECT_EQ(http_request(gw.port, "POST", "/api/accounts", creds("Bob", "short")).status, 400);
  EXPECT_EQ(
      http_request(gw.port, "POST", "/api/accounts", creds("Bob", std::string(129, 'x'))).status,
      400);
  EXPECT_EQ(http_request(gw.port, "POST", "/api/accounts", "{not json").status, 400);
  EXPECT_EQ(http_request(gw.port, "POST", "/api/accounts", R"({"name":5,"password":"x"})").status,
            400);
  // Oversized body: refused by the server's body limit, and the gateway keeps serving.
  auto big = http_request(gw.port, "POST", "/api/accounts", std::string(200000, 'x'));
  EXPECT_TRUE(big.status == 413 || big.status == 400 || big.status == 0) << big.status;
  EXPECT_EQ(http_request(gw.port, "GET", "/healthz").status, 200);
  // The stored account keeps the registered case.
  RedisSync sync(redis.port());
  EXPECT_EQ(sync.cmd({"HGET", "auth:user:alice", "name"}).str, "Alice");
  EXPECT_EQ(sync.cmd({"HGET", "auth:user:alice", "hash"}).str.rfind("$argon2id$", 0), 0u);
}

TEST_F(GatewayAuth, LoginReturnsTokenAndRejectsBadCredentialsAlike) {
  http_request(gw.port, "POST", "/api/accounts", creds("Carol", "password1"));
  auto ok = http_request(gw.port, "POST", "/api/sessions", creds("carol", "password1"));
  ASSERT_EQ(ok.status, 200) << ok.body;
  auto j = nlohmann::json::parse(ok.body);
  EXPECT_EQ(j["name"], "Carol");
  EXPECT_TRUE(j["token"].is_string());
  EXPECT_GT(j["expiresAt"].get<long long>(), 0);
  auto wrong = http_request(gw.port, "POST", "/api/sessions", creds("Carol", "password2"));
  auto unknown = http_request(gw.port, "POST", "/api/sessions", creds("Nobody", "password1"));
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(wrong.body, unknown.body);
  EXPECT_EQ(nlohmann::json::parse(wrong.body)["error"], "invalid name or password");
}

TEST_F(GatewayAuth, NegotiateAndUpgradeRequireAValidToken) {
  std::string token = register_and_login(gw.port, "Dave");
  ASSERT_FALSE(token.empty());
  auto signer = *core::TokenSigner::from_secret(kTestSecret);
  std::string expired = signer.sign({core::TokenKind::login, "Dave", 1000, ""});
  std::string forged = token.substr(0, token.size() - 2) + (token.back() == 'A' ? "BB" : "AA");
  const std::string neg = "/hub/negotiate?negotiateVersion=1";
  EXPECT_EQ(http_request(gw.port, "POST", neg).status, 401);
  for (const auto& bad : {forged, expired, std::string("garbage")}) {
    EXPECT_EQ(http_request(gw.port, "POST", neg, "", {{"Authorization", "Bearer " + bad}}).status,
              401);
    WsClient ws;
    EXPECT_EQ(ws.connect(gw.port, "/hub?access_token=" + bad), 401);
  }
  WsClient none;
  EXPECT_EQ(none.connect(gw.port, "/hub"), 401);

  auto ok = http_request(gw.port, "POST", neg, "", {{"Authorization", "Bearer " + token}});
  ASSERT_EQ(ok.status, 200);
  auto body = nlohmann::json::parse(ok.body);
  EXPECT_EQ(body["negotiateVersion"], 1);
  EXPECT_EQ(body["connectionId"].get<std::string>().size(), 22u);
  EXPECT_EQ(
      body["availableTransports"],
      nlohmann::json::parse(R"([{"transport":"WebSockets","transferFormats":["Text","Binary"]}])"));
  std::string conn_token = body["connectionToken"];
  // The query form (browsers) works for negotiate as well.
  EXPECT_EQ(http_request(gw.port, "POST", neg + "&access_token=" + token).status, 200);

  WsClient unknown_id;
  EXPECT_EQ(unknown_id.connect(gw.port, "/hub?id=nope&access_token=" + token), 404);
  EXPECT_EQ(unknown_id.upgrade_body(), "No Connection with that ID");
  std::string other = register_and_login(gw.port, "Erin");
  WsClient stolen;
  EXPECT_EQ(stolen.connect(gw.port, "/hub?id=" + conn_token + "&access_token=" + other), 404);
  WsClient foreign;
  EXPECT_EQ(
      foreign.connect(gw.port, "/hub?access_token=" + token, {{"Origin", "http://evil.example"}}),
      403);
  WsClient good;
  EXPECT_EQ(good.connect(gw.port, "/hub?id=" + conn_token + "&access_token=" + token,
                         {{"Origin", "http://127.0.0.1:" + std::to_string(gw.port)}}),
            101);
  WsClient again;  // the same connection token while it is active
  EXPECT_EQ(again.connect(gw.port, "/hub?id=" + conn_token, {{"Authorization", "Bearer " + token}}),
            409);
  HubClient skip;
  EXPECT_EQ(skip.connect(gw.port, token, /*skip_negotiation=*/true), "");
  // Tokens never reach the log.
  EXPECT_EQ(gw.proc->output().find(token), std::string::npos);
  EXPECT_EQ(gw.proc->output().find("password1"), std::string::npos);
}

TEST_F(GatewayAuth, HttpBasicsAndRoundsApi) {
  EXPECT_EQ(http_request(gw.port, "GET", "/healthz").status, 200);
  EXPECT_EQ(http_request(gw.port, "GET", "/readyz").status, 200);
  auto metrics = http_request(gw.port, "GET", "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("clickrace_gateway_redis_latency_seconds_bucket"), std::string::npos);
  EXPECT_EQ(http_request(gw.port, "GET", "/").status, 200);
  EXPECT_EQ(http_request(gw.port, "GET", "/../etc/passwd").status, 404);
  auto cur = http_request(gw.port, "GET", "/api/rounds/current");
  ASSERT_EQ(cur.status, 200);
  EXPECT_EQ(nlohmann::json::parse(cur.body)["round"], 0);
  EXPECT_EQ(http_request(gw.port, "GET", "/api/rounds?limit=500").status, 400);
  EXPECT_EQ(http_request(gw.port, "GET", "/api/rounds/7").status, 404);
  RedisSync sync(redis.port());
  std::string result =
      R"({"round":7,"startedAt":1,"endedAt":2,"winners":["A"],"winnerCount":1,"winningClicks":3,"totalClicks":3,"players":1})";
  sync.cmd({"SET", "auth:round:7:result", result});
  sync.cmd({"XADD", "auth:rounds", "*", "round", "7", "result", result});
  auto one = http_request(gw.port, "GET", "/api/rounds/7");
  EXPECT_EQ(one.status, 200);
  EXPECT_EQ(nlohmann::json::parse(one.body), nlohmann::json::parse(result));
  auto list = http_request(gw.port, "GET", "/api/rounds?limit=5");
  EXPECT_EQ(list.status, 200);
  EXPECT_EQ(nlohmann::json::parse(list.body).size(), 1u);
  write_schedule(sync, "auth:");
  auto running = nlohmann::json::parse(http_request(gw.port, "GET", "/api/rounds/current").body);
  EXPECT_EQ(running["round"], 1);
  EXPECT_LT(running["startsAt"].get<long long>(), running["endsAt"].get<long long>());
}

TEST(GatewayCors, PreflightForConfiguredOrigins) {
  RedisServer redis;
  Gateway gw(redis, "cors:", {{"CLICKRACE_ALLOWED_ORIGINS", "https://play.example"}});
  ASSERT_GT(gw.port, 0);
  auto pre = http_request(gw.port, "OPTIONS", "/hub/negotiate?negotiateVersion=1", "",
                          {{"Origin", "https://play.example"},
                           {"Access-Control-Request-Method", "POST"},
                           {"Access-Control-Request-Headers", "authorization,x-requested-with"}});
  EXPECT_EQ(pre.status, 204);
  EXPECT_EQ(pre.headers["access-control-allow-origin"], "https://play.example");
  EXPECT_EQ(pre.headers["access-control-allow-credentials"], "true");
  auto denied = http_request(gw.port, "OPTIONS", "/hub/negotiate", "", {{"Origin", "https://x"}});
  EXPECT_EQ(denied.headers.count("access-control-allow-origin"), 0u);
}

TEST(GatewayLoginLimit, TooManyAttemptsGet429) {
  RedisServer redis;
  Gateway gw(redis, "rl:", {{"CLICKRACE_LOGIN_ATTEMPTS_PER_MIN", "3"}});
  ASSERT_GT(gw.port, 0);
  int limited = 0;
  for (int i = 0; i < 6; ++i) {
    if (http_request(gw.port, "POST", "/api/sessions", creds("Frank", "password1")).status == 429)
      ++limited;
  }
  EXPECT_GE(limited, 2);
}

}  // namespace
}  // namespace clickrace::test
