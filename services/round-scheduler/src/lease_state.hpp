#pragma once
#include <cstdint>

namespace clickrace::scheduler {

enum class Role { follower, leader };

// What a step of the state machine changed.
enum class Transition { none, became_leader, lost_leadership };

// The leadership state machine, pure: every time is an argument (local monotonic ms).
//
// A lease confirmed by an acquire that was SENT at time s is trusted until s + lease_ms: Redis set
// its expiry after s, so the real lease outlives our belief and two schedulers never both think
// they lead (up to clock-rate differences, covered by the fencing in close_round.lua). A leader
// whose renewals fail (errors, Redis down, lost to another) stops acting exactly at that instant,
// whether or not anything is answered.
class LeaseState {
 public:
  explicit LeaseState(int64_t lease_ms) : lease_ms_(lease_ms) {}

  // The answer to an acquire sent at `sent_at`: whether we hold the lease afterwards.
  Transition on_acquire(bool held, int64_t sent_at, int64_t now);
  // A renewal that failed (timeout, disconnect, error reply): only time can take the role away.
  Transition on_error(int64_t now) { return tick(now); }
  // close_round.lua answered NOTLEADER: the lease is gone, whatever we believed.
  Transition on_not_leader(int64_t now);
  // We released the lease (shutdown).
  Transition on_released(int64_t now) { return on_not_leader(now); }
  // Time passes: a leader whose last confirmation has expired steps down.
  Transition tick(int64_t now);

  // True while we may act as leader at `now` (holds even if tick() was not called yet).
  bool leading(int64_t now) const { return role_ == Role::leader && now < valid_until_; }
  Role role() const { return role_; }
  // The instant our belief in the lease runs out (meaningful while leader).
  int64_t valid_until() const { return valid_until_; }
  // Leadership terms started (each follower -> leader step); used to drop stale callbacks.
  uint64_t term() const { return term_; }
  // Role changes in either direction.
  uint64_t changes() const { return changes_; }
  int64_t lease_ms() const { return lease_ms_; }

  // How often to renew while leading and to poll while following.
  int64_t renew_interval() const { return lease_ms_ / 3; }
  int64_t poll_interval() const { return lease_ms_ / 6 > 0 ? lease_ms_ / 6 : 1; }

 private:
  Transition set_role(Role role);

  int64_t lease_ms_;
  Role role_ = Role::follower;
  int64_t valid_until_ = 0;
  uint64_t term_ = 0;
  uint64_t changes_ = 0;
};

}  // namespace clickrace::scheduler
