#pragma once
#include <cstdint>
#include <mutex>
#include <string>

#include "lease_state.hpp"

namespace clickrace::scheduler {

// What the admin server reports, published by the event loop and read by the admin thread.
struct StatusSnapshot {
  Role role = Role::follower;
  std::string id;
  std::string lease_holder;       // "" when unknown or nobody holds it
  int64_t current_round = 0;      // 0 until the schedule is known
  int64_t last_closed_round = 0;  // 0 until known
  int64_t round_ms = 0;           // length in the schedule (the configured one until known)
  uint64_t term = 0;              // this process's leader term (0: not leading)
  int partitions = 1;             // score partitions of the schedule (docs/bus.md "Partitions")
  // Local monotonic ms of the last successful Redis reply (0: never); /readyz compares it with
  // the lease length.
  int64_t redis_ok_at = 0;
};

// A mutex around one small struct: the loop writes a few times a second, scrapes read it.
class StatusBoard {
 public:
  template <typename F>
  void update(F&& f) {
    std::lock_guard<std::mutex> lock(mu_);
    f(snap_);
  }
  StatusSnapshot get() const {
    std::lock_guard<std::mutex> lock(mu_);
    return snap_;
  }

 private:
  mutable std::mutex mu_;
  StatusSnapshot snap_;
};

// JSON body of /status: {role, id, leaseHolder, currentRound, lastClosedRound, roundMs}.
std::string status_json(const StatusSnapshot& s);

// /readyz: Redis answered within `stale_after_ms` (the lease), so we either lead or are a standby
// able to take over.
bool is_ready(const StatusSnapshot& s, int64_t mono_now, int64_t stale_after_ms);

}  // namespace clickrace::scheduler
