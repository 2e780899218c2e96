#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "clickrace/core/partition_merge.hpp"
#include "clickrace/redis/script.hpp"
#include "context.hpp"

namespace clickrace::scheduler {

// What sealing every partition of a round came to (the worst answer wins, in this order:
// failed, not_leader, no_copy, early; `sealed` only when every partition gave its summary).
struct SealOutcome {
  // failed: a transport error or an unexpected reply (retry); not_leader: a partition saw the
  // newer term `term` (raise ours or step down); no_copy: a partition has no copy of the
  // schedule (write the copies, or with S = 1: the schedule itself is gone); early: the round
  // runs on in some partition for up to ms_left.
  enum class Kind { sealed, early, not_leader, no_copy, failed };
  Kind kind = Kind::sealed;
  std::vector<core::PartitionSummary> summaries;  // sealed: one per partition, in order
  int64_t ms_left = 0;
  int64_t term = 0;
  std::string error;
};

// Seals round r in all S partitions (seal.lua with the leader's term), pipelined: the S calls go
// out at once, routed each to its partition's primary. Summaries already received for the
// round are kept, so a retry (after EARLY in one partition, a lost answer) asks only the rest —
// asking again would be harmless too (a sealed partition answers its stored summary).
class PartitionSealer {
 public:
  explicit PartitionSealer(Context& ctx);
  using Callback = std::function<void(SealOutcome)>;

  // `done` runs once, on the loop, unless forget() is called first.
  void seal(int64_t round, int partitions, Callback done);
  // Drops what was received and any answer still in flight (a new plan, a new term).
  void forget();

 private:
  struct Batch;
  void finish(const std::shared_ptr<Batch>& b);

  Context& ctx_;
  redis::Script script_;
  uint64_t gen_ = 0;
  int64_t round_ = 0;  // the round `kept_` belongs to
  int partitions_ = 0;
  std::vector<std::optional<core::PartitionSummary>> kept_;
};

}  // namespace clickrace::scheduler
