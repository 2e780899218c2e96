#pragma once
#include <asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <optional>

#include "clickrace/redis/backoff.hpp"
#include "clickrace/redis/script.hpp"
#include "context.hpp"

namespace clickrace::scheduler {

// Closes rounds while this process leads: always `closed + 1` next (none skipped), at the
// round's absolute end (no drift), oldest first after downtime, retrying with backoff on Redis
// errors. close_round.lua fences on the lease and is idempotent, so a retry or a second leader
// never announces a round twice.
class RoundCloser {
 public:
  // `leading` says whether we may act now; `not_leader` is called when the script says we lost
  // the lease; `closed` after each round known to be closed (by us or before).
  RoundCloser(Context& ctx, std::function<bool()> leading, std::function<void()> not_leader,
              std::function<void(int64_t round)> closed);

  // Starts a leadership term: reads `P closed`, then closes rounds as they end. Needs
  // ctx.schedule and ctx.offset.
  void start();
  // Ends the term: nothing more is sent; replies of the old term are ignored.
  void stop();
  bool running() const { return running_; }
  // The next round to close (meaningful while running and positioned).
  std::optional<int64_t> next_round() const { return next_; }

 private:
  void read_closed(uint64_t gen);
  void arm(uint64_t gen);
  void close(uint64_t gen);
  void retry(uint64_t gen, void (RoundCloser::*step)(uint64_t));
  void wait_then(uint64_t gen, int64_t ms, void (RoundCloser::*step)(uint64_t));

  Context& ctx_;
  std::function<bool()> leading_;
  std::function<void()> not_leader_;
  std::function<void(int64_t)> closed_;
  redis::Script script_;
  asio::steady_timer timer_;
  redis::Backoff backoff_;
  bool running_ = false;
  uint64_t gen_ = 0;  // bumped by start()/stop(): callbacks of an older term do nothing
  std::optional<int64_t> next_;
};

}  // namespace clickrace::scheduler
