#pragma once
#include <asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <optional>

#include "clickrace/redis/backoff.hpp"
#include "clickrace/redis/script.hpp"
#include "close_plan.hpp"
#include "context.hpp"

namespace clickrace::scheduler {

// Closes rounds while this process leads: always `closed + 1` next (none skipped), at the
// round's absolute end (no drift), oldest first after downtime, retrying with backoff on Redis
// errors. close_round.lua fences on the lease and is idempotent, so a retry or a second leader
// never announces a round twice. What to close and how long to wait is ClosePlanner's
// (close_plan.hpp); this class only sends and arms timers (steady clock).
class RoundCloser {
 public:
  struct Hooks {
    std::function<bool()> leading;        // whether we may act now
    std::function<void()> not_leader;     // the script says we lost the lease
    std::function<void(int64_t)> closed;  // the highest round known closed (0: none yet)
    std::function<void()> reread;         // Redis's schedule looks changed or gone: read it
  };
  RoundCloser(Context& ctx, Hooks hooks);

  // Starts (or restarts) a leadership term: reads `P closed`, then closes rounds as they end.
  // Needs ctx.schedule and ctx.offset.
  void start();
  // Ends the term: nothing more is sent; replies of the old term are ignored.
  void stop();
  bool running() const { return running_; }
  // A fresh snapshot of the schedule (already in ctx.schedule) and the closed mark: when the
  // plan no longer holds (data loss, a length change), re-reads the mark and plans again.
  void on_snapshot(const core::Schedule& schedule, std::optional<int64_t> closed);
  // The next round to close (while running and positioned).
  std::optional<int64_t> next_round() const {
    return plan_.positioned() ? std::optional<int64_t>(plan_.next()) : std::nullopt;
  }

 private:
  void read_closed(uint64_t gen);
  void arm(uint64_t gen);
  void close(uint64_t gen);
  void retry(uint64_t gen, void (RoundCloser::*step)(uint64_t));
  void wait_then(uint64_t gen, int64_t ms, void (RoundCloser::*step)(uint64_t));

  Context& ctx_;
  Hooks hooks_;
  redis::Script script_;
  asio::steady_timer timer_;
  redis::Backoff backoff_;
  bool running_ = false;
  uint64_t gen_ = 0;  // bumped by start()/stop(): callbacks of an older term do nothing
  ClosePlanner plan_;
};

}  // namespace clickrace::scheduler
