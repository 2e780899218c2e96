#include <gtest/gtest.h>

#include "redis_server.hpp"

namespace clickrace::test {
namespace {

// The fixture itself: a real server, killed and restarted with its AOF data intact.
TEST(RedisFixture, SurvivesKillAndRestartWithAof) {
  RedisServer redis;
  RedisSync(redis.port()).cmd({"SET", "k", "v"});
  redis.kill();
  EXPECT_FALSE(RedisSync(redis.port()).ok());
  redis.start();
  EXPECT_EQ(RedisSync(redis.port()).cmd({"GET", "k"}).str, "v");
}

}  // namespace
}  // namespace clickrace::test
