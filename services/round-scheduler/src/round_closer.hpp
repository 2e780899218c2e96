#pragma once
#include <asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <optional>

#include "clickrace/core/winners.hpp"
#include "clickrace/redis/backoff.hpp"
#include "clickrace/redis/script.hpp"
#include "close_plan.hpp"
#include "context.hpp"
#include "partition_sealer.hpp"

namespace clickrace::scheduler {

// Closes rounds while this process leads: always `closed + 1` next (none skipped), at the
// round's absolute end (no drift), oldest first after downtime, retrying with backoff on Redis
// errors. What to close and how long to wait is ClosePlanner's (close_plan.hpp); this class only
// sends and arms timers (steady clock).
//
// Closing round r (docs/bus.md "Partitions"): seal every partition (PartitionSealer: seal.lua,
// fenced by our term, idempotent) -> merge the summaries (core::merge_summaries: exact winners,
// ties across partitions) -> close_round.lua writes the result once (fenced by the lease) ->
// with replicas asked for (CLICKRACE_REDIS_WAIT_REPLICAS on a cluster) a WAIT on the same
// connection confirms it is on them, and only then close_round.lua announces it (stream, closed
// mark, RoundEnded). A WAIT that comes back short leaves the result written but unannounced: the
// write is sent again (it keeps the stored result) until a WAIT confirms it. A leader that dies
// at any step leaves sealed summaries and maybe a written result; the next one seals again (same
// summaries), finds the result and announces it — once (close_round.lua's announced mark).
class RoundCloser {
 public:
  struct Hooks {
    std::function<bool()> leading;            // whether we may act now
    std::function<void()> not_leader;         // the script says we lost the lease
    std::function<void(int64_t)> closed;      // the highest round known closed (0: none yet)
    std::function<void()> reread;             // Redis's schedule looks changed or gone: read it
    std::function<void()> write_copies;       // a partition has no copy of the schedule
    std::function<void(int64_t)> raise_term;  // a partition saw this newer term
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
  void on_sealed(uint64_t gen, int64_t round, SealOutcome out);
  void write(uint64_t gen);
  void announce(uint64_t gen);
  void send_close_round(uint64_t gen, const std::string& op);
  void on_close_round(uint64_t gen, int64_t round, const std::string& op, Result<redis::Reply> r);
  void done(uint64_t gen, int64_t round);
  void retry(uint64_t gen, void (RoundCloser::*step)(uint64_t));
  void wait_then(uint64_t gen, int64_t ms, void (RoundCloser::*step)(uint64_t));

  Context& ctx_;
  Hooks hooks_;
  redis::Script script_;
  PartitionSealer sealer_;
  std::optional<core::RoundOutcome> merged_;  // plan_.next()'s result, once sealed and merged
  int64_t unreplicated_round_ = 0;            // the round a short WAIT was last logged for
  asio::steady_timer timer_;
  redis::Backoff backoff_;
  bool running_ = false;
  uint64_t gen_ = 0;  // bumped by start()/stop(): callbacks of an older term do nothing
  ClosePlanner plan_;
};

}  // namespace clickrace::scheduler
