#pragma once
#include <asio/steady_timer.hpp>
#include <cstdint>
#include <functional>

#include "context.hpp"

namespace clickrace::scheduler {

// Publishes the Leaderboard event (top 10, total clicks, remaining ms of the running round)
// every opts.leaderboard_ms while this process leads. One publication in flight at a time; a
// failed one is simply skipped (the next comes a moment later).
class LeaderboardPublisher {
 public:
  LeaderboardPublisher(Context& ctx, std::function<bool()> leading);
  void start();
  void stop();

 private:
  void tick(uint64_t gen);
  void publish(uint64_t gen);
  void schedule_next(uint64_t gen);

  Context& ctx_;
  std::function<bool()> leading_;
  asio::steady_timer timer_;
  uint64_t gen_ = 0;
};

}  // namespace clickrace::scheduler
