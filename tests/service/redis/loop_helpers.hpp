#pragma once
#include <gtest/gtest.h>

#include <asio/io_context.hpp>
#include <chrono>

#include "clickrace/redis/options.hpp"
#include "redis_server.hpp"

// Shared by the Redis-layer service tests: drive an io_context on the test thread, bounded.
namespace clickrace::redis {

using namespace std::chrono_literals;

// Runs the loop until `pred` holds or `limit` passes; never waits unboundedly.
template <typename Pred>
bool run_until(asio::io_context& io, Pred pred, std::chrono::milliseconds limit = 10s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    io.restart();
    io.run_for(5ms);
  }
  return true;
}

// Options for `server` with short backoff and connect timeouts, so reconnect tests are quick.
inline Options fast_options(const test::RedisServer& server) {
  Options base;
  base.backoff_initial = 20ms;
  base.backoff_max = 200ms;
  base.connect_timeout = 500ms;
  auto o = parse_url(server.url(), base);
  EXPECT_TRUE(o);
  return *o;
}

}  // namespace clickrace::redis
