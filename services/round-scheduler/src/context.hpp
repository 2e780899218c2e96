#pragma once
#include <asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <optional>

#include "clickrace/bus/keys.hpp"
#include "clickrace/core/round_math.hpp"
#include "clickrace/redis/cluster_client.hpp"
#include "metrics.hpp"
#include "options.hpp"
#include "round_plan.hpp"
#include "status.hpp"

namespace clickrace::scheduler {

// Local monotonic milliseconds: timers and the lease run on this clock, so a wall-clock jump
// never moves a deadline. Redis time is reached through ClockOffset.
inline int64_t mono_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// What the parts of the event loop share. Lives on (and is only touched from) the loop thread.
struct Context {
  asio::io_context& io;
  redis::ClusterClient& redis;
  const Options& opts;
  Metrics& metrics;
  StatusBoard& status;
  bus::Keys keys;
  ClockOffset offset;
  std::optional<core::Schedule> schedule;  // the latest one read from Redis
  // The schedule's score partitions S (from the schedule hash; fixed for its life).
  int partitions = 1;
  // Our leader term (lease.lua; 0 while not leading): fences seal.lua and schedule_copy.lua.
  int64_t term = 0;

  int64_t redis_now() const { return offset.redis_now(mono_now_ms()); }
};

}  // namespace clickrace::scheduler
