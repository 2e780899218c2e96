#include "clickrace/core/log.hpp"

#include <gtest/gtest.h>

namespace clickrace::core {
namespace {

TEST(Log, ParsesLevels) {
  EXPECT_EQ(parse_log_level("debug"), LogLevel::debug);
  EXPECT_EQ(parse_log_level("warning"), LogLevel::warn);
  EXPECT_FALSE(parse_log_level("loud"));
}

TEST(Log, RedactsCredentialQueryParameters) {
  EXPECT_EQ(redact_query("/hub?id=abc&access_token=secret.tok"), "/hub?id=***&access_token=***");
  EXPECT_EQ(redact_query("/hub?x=1&access_token=t&y=2"), "/hub?x=1&access_token=***&y=2");
  EXPECT_EQ(redact_query("/api/rounds"), "/api/rounds");
  EXPECT_EQ(redact_query("/hub?negotiateVersion=1"), "/hub?negotiateVersion=1");
  EXPECT_EQ(redact_query("access_token=zzz"), "access_token=***");
}

TEST(Log, DisabledLevelDoesNotEvaluateTheStream) {
  set_log_level(LogLevel::warn);
  int evaluated = 0;
  auto side_effect = [&] { return ++evaluated; };
  CR_LOG(debug) << side_effect();
  EXPECT_EQ(evaluated, 0);
  set_log_level(LogLevel::info);
}

}  // namespace
}  // namespace clickrace::core
