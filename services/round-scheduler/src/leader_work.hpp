#pragma once
#include <cstdint>
#include <optional>

namespace clickrace::scheduler {

// When the leader's work runs — a schedule refresh that, once answered, starts the RoundCloser;
// then the closes. Pure: the Scheduler feeds it what LeaseState says, so each interleaving is
// unit-tested.
//
// Our belief in the lease can lapse and come back WITHOUT a role change: a renewal sent before
// the lapse and answered after it extends the lease (LeaseState::on_acquire), and that answer may
// be handled before the expiry timer that would demote us. So a step that finds us not leading
// must leave nothing stuck — no became_leader follows to restart it. A start whose answer is
// dropped is no longer in flight (the next confirmation starts again), and a due close looks
// again shortly (close_wait). A real loss is a role change, which stops everything.
class LeaderWork {
 public:
  enum class Action { none, start, refresh };

  // We became the leader in `term`: start (any start of an older term is forgotten).
  Action on_became_leader(uint64_t term);
  // We stopped leading: nothing is starting any more.
  void on_lost_leadership() { starting_.reset(); }
  // A renewal confirmed the lease while leading: refresh the schedule while the closer runs;
  // start when it does not and no start is in flight (an earlier one failed or was dropped).
  Action on_confirmed(uint64_t term, bool closer_running);
  // The start sent in `term` was answered; `usable`: it succeeded and we still lead in that
  // term. Returns whether to start the closer. Either way that start is no longer in flight; an
  // answer of an older term changes nothing.
  bool on_start_answer(uint64_t term, bool usable);

  bool starting() const { return starting_.has_value(); }

 private:
  std::optional<uint64_t> starting_;  // the term of the start in flight
};

// A close whose deadline has come: nullopt = send it now. Otherwise we do not lead at this
// instant and look again after the returned ms (short against the lease, never 0), since a late
// renewal can end the lapse without a role change.
std::optional<int64_t> close_wait(bool leading, int64_t lease_ms);

}  // namespace clickrace::scheduler
