#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "clickrace/core/round_math.hpp"
#include "clickrace/redis/script.hpp"
#include "context.hpp"

namespace clickrace::scheduler {

// Writes every partition's copy of the schedule (schedule_copy.lua, fenced by the leader's term)
// when there are several partitions; with one, the copy IS the schedule and nothing is written.
// One round of writes at a time: a write asked for meanwhile runs when it ends, with the newest
// schedule, so copies never go back to an older one.
class ScheduleCopier {
 public:
  struct Outcome {
    bool ok = true;                     // every copy written
    std::optional<int64_t> newer_term;  // a partition saw this newer term (NOTLEADER)
  };
  using Callback = std::function<void(Outcome)>;

  explicit ScheduleCopier(Context& ctx);
  // Writes `schedule` with `partitions` into all partitions; `done` (optional) runs once the
  // round of writes that carries this schedule has been answered.
  void write(const core::Schedule& schedule, int partitions, Callback done = nullptr);
  // Stops: answers in flight are dropped, queued callbacks are not called.
  void stop();

 private:
  struct Job {
    core::Schedule schedule;
    int partitions = 1;
    std::vector<Callback> done;
  };
  void send(Job job);

  Context& ctx_;
  redis::Script script_;
  uint64_t gen_ = 0;
  bool busy_ = false;
  std::optional<Job> queued_;
};

}  // namespace clickrace::scheduler
