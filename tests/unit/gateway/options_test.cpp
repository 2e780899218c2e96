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

}  // namespace
}  // namespace clickrace::gateway
