// The token secret shared through Redis (CLICKRACE_TOKEN_SECRET unset) after Redis loses its
// data, and the checks on a configured secret. Real gateways, real Redis, real FLUSHALL.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include "gateway_fixture.hpp"

namespace clickrace::test {
namespace {

const std::string kPrefix = "ts:";
const std::string kKey = kPrefix + "token_secret";

// Negotiate, upgrade and handshake with `token`, then one GetRound answered.
std::string play(int port, const std::string& token) {
  HubClient c;
  std::string err = c.connect(port, token);
  if (!err.empty()) return err;
  auto r = c.invoke("GetRound");
  if (!r || !r->contains("result")) return "GetRound not answered";
  return "";
}

TEST(GatewayTokenSecret, SharedSecretIsWarnedAboutAndNeverLogged) {
  RedisServer redis;
  Gateway gw(redis, kPrefix);
  ASSERT_GT(gw.port, 0) << gw.proc->output();
  RedisSync sync(redis.port());
  std::string secret = sync.cmd({"GET", kKey}).str;
  ASSERT_GE(secret.size(), 32u);
  std::string out = gw.proc->output();
  auto warning = out.find(" warn [hub-gateway] CLICKRACE_TOKEN_SECRET is not set");
  EXPECT_NE(warning, std::string::npos) << out;
  EXPECT_EQ(out.find(secret), std::string::npos) << "the secret reached the log";
}

// FLUSHALL under a running gateway: the secret it holds is put back (SET NX) by the first
// gateway to notice, so tokens keep working and a gateway started later shares it.
TEST(GatewayTokenSecret, AVanishedSecretIsRestoredFromMemory) {
  RedisServer redis;
  Gateway gw(redis, kPrefix);
  ASSERT_GT(gw.port, 0) << gw.proc->output();
  RedisSync sync(redis.port());
  std::string secret = sync.cmd({"GET", kKey}).str;
  std::string before = register_and_login(gw.port, "Alice");
  ASSERT_EQ(play(gw.port, before), "");

  sync.cmd({"FLUSHALL"});
  EXPECT_TRUE(eventually(
      [&] {
        return sync.cmd({"GET", kKey}).str == secret;
      },
      20s))
      << "the shared secret was not put back after FLUSHALL";
  // The account is gone with the data: the player registers again, logs in and plays, on this
  // gateway and on one started after the data loss.
  std::string after = register_and_login(gw.port, "Alice");
  ASSERT_FALSE(after.empty());
  EXPECT_EQ(play(gw.port, after), "");
  Gateway late(redis, kPrefix);
  ASSERT_GT(late.port, 0) << late.proc->output();
  EXPECT_EQ(play(late.port, after), "");
  EXPECT_EQ(play(gw.port, register_and_login(late.port, "Bob")), "");
}

// FLUSHALL, then another gateway re-creates the secret with a value of its own before this one
// noticed (here: written by the test, then read by a gateway started after it). A token signed
// with the new secret must not be refused by the old gateway: it re-reads Redis and adopts it.
TEST(GatewayTokenSecret, AChangedSecretIsReReadWhenATokenFailsToVerify) {
  RedisServer redis;
  Gateway old_gw(redis, kPrefix);
  ASSERT_GT(old_gw.port, 0) << old_gw.proc->output();
  RedisSync sync(redis.port());
  ASSERT_EQ(play(old_gw.port, register_and_login(old_gw.port, "Alice")), "");

  sync.cmd({"FLUSHALL"});
  sync.cmd({"SET", kKey, "a-secret-another-gateway-created-0123456789abcdef"});
  Gateway new_gw(redis, kPrefix);
  ASSERT_GT(new_gw.port, 0) << new_gw.proc->output();

  // Logged in on the new gateway, connecting through the old one (a load balancer does that).
  std::string token = register_and_login(new_gw.port, "Carol");
  ASSERT_FALSE(token.empty());
  EXPECT_EQ(play(old_gw.port, token), "") << old_gw.proc->output();
  // And the other way round: the old gateway now signs with the shared secret too.
  std::string from_old = register_and_login(old_gw.port, "Dave");
  ASSERT_FALSE(from_old.empty());
  EXPECT_EQ(play(new_gw.port, from_old), "");
  EXPECT_EQ(play(old_gw.port, from_old), "");
  EXPECT_TRUE(old_gw.proc->running());
  std::string out = old_gw.proc->output();
  EXPECT_NE(out.find(" warn [hub-gateway] the token secret shared through Redis"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find("a-secret-another-gateway-created"), std::string::npos);
}

TEST(GatewayTokenSecret, ATooShortConfiguredSecretIsABadValue) {
  RedisServer redis;
  Process gw("hub-gateway", {bin("hub-gateway")},
             {{"CLICKRACE_REDIS_URL", redis.url()},
              {"CLICKRACE_GATEWAY_PORT", "0"},
              {"CLICKRACE_TOKEN_SECRET", "tooshort-xyzzy"}});
  gw.start();
  auto status = gw.wait_exit(10s);
  ASSERT_TRUE(status) << gw.output();
  ASSERT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 2) << gw.output();
  std::string out = gw.output();
  EXPECT_NE(out.find("CLICKRACE_TOKEN_SECRET"), std::string::npos) << out;
  EXPECT_EQ(out.find("tooshort-xyzzy"), std::string::npos) << "the secret reached the log";
}

}  // namespace
}  // namespace clickrace::test
