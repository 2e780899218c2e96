#include "options.hpp"

#include <gtest/gtest.h>

#include <map>

namespace clickrace::gateway {
namespace {

core::OptionSet::Outcome parse(Options& o, std::map<std::string, std::string> env) {
  core::OptionSet set("hub-gateway", "test");
  register_options(set, o);
  const char* argv[] = {"hub-gateway"};
  return set.parse(1, argv, [&](const std::string& k) -> std::optional<std::string> {
    auto it = env.find(k);
    if (it == env.end()) return std::nullopt;
    return it->second;
  });
}

TEST(GatewayOptions, DefaultsMatchTheDesign) {
  Options o;
  ASSERT_FALSE(parse(o, {}).error);
  EXPECT_EQ(o.port, 8080);
  EXPECT_EQ(o.max_clicks_per_s, 20);
  EXPECT_EQ(o.token_ttl_s, 86400);
  EXPECT_EQ(o.max_message_bytes, 32 * 1024);
}

// A resend must be answered while click.lua still remembers the batch id (60 s): the retry
// window and the Redis timeout are capped so that their sum stays below it.
TEST(GatewayOptions, RetryWindowPlusRedisTimeoutCannotOutliveTheBatchMemory) {
  Options ok;
  EXPECT_FALSE(parse(ok, {{"CLICKRACE_REDIS_TIMEOUT_MS", std::to_string(kMaxRedisTimeoutMs)},
                          {"CLICKRACE_CLICK_RETRY_MS", std::to_string(kMaxClickRetryMs)}})
                   .error);
  Options slow;
  EXPECT_TRUE(parse(slow, {{"CLICKRACE_REDIS_TIMEOUT_MS", "30000"}}).error);
  Options long_retry;
  EXPECT_TRUE(parse(long_retry, {{"CLICKRACE_CLICK_RETRY_MS", "45000"}}).error);
}

// A bad value exits 2 (parse_or_exit): a too-short secret is one, and is never echoed.
TEST(GatewayOptions, ATooShortTokenSecretIsABadValue) {
  Options short_secret;
  auto out = parse(short_secret, {{"CLICKRACE_TOKEN_SECRET", "only-31-bytes-of-secret-0123456"}});
  ASSERT_TRUE(out.error);
  EXPECT_NE(out.error->find("CLICKRACE_TOKEN_SECRET"), std::string::npos) << *out.error;
  EXPECT_NE(out.error->find("at least 32 bytes"), std::string::npos) << *out.error;
  EXPECT_EQ(out.error->find("only-31"), std::string::npos) << "the secret was echoed";
  Options ok;
  EXPECT_FALSE(parse(ok, {{"CLICKRACE_TOKEN_SECRET", std::string(32, 's')}}).error);
  EXPECT_EQ(ok.token_secret, std::string(32, 's'));
  Options shared;
  EXPECT_FALSE(parse(shared, {{"CLICKRACE_TOKEN_SECRET", ""}}).error);
}

TEST(GatewayOptions, LoginLimitDefaults) {
  Options o;
  ASSERT_FALSE(parse(o, {}).error);
  EXPECT_EQ(o.login_attempts_per_min, 30);
  EXPECT_EQ(o.login_failures_per_min, 10);
  EXPECT_FALSE(parse(o, {{"CLICKRACE_LOGIN_FAILURES_PER_MIN", "3"}}).error);
  EXPECT_EQ(o.login_failures_per_min, 3);
  EXPECT_TRUE(parse(o, {{"CLICKRACE_LOGIN_FAILURES_PER_MIN", "0"}}).error);
}

}  // namespace
}  // namespace clickrace::gateway
