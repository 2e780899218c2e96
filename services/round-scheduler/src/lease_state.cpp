#include "lease_state.hpp"

#include <algorithm>

namespace clickrace::scheduler {

Transition LeaseState::set_role(Role role) {
  if (role == role_) return Transition::none;
  role_ = role;
  ++changes_;
  if (role == Role::leader) {
    ++term_;
    return Transition::became_leader;
  }
  return Transition::lost_leadership;
}

Transition LeaseState::on_acquire(bool held, int64_t sent_at, int64_t now) {
  if (!held) {
    valid_until_ = 0;
    return set_role(Role::follower);
  }
  // Replies arrive in order on one connection, but never let an older answer shorten the lease.
  valid_until_ = std::max(valid_until_, sent_at + lease_ms_);
  if (now >= valid_until_) return set_role(Role::follower);  // confirmed too late to be of use
  return set_role(Role::leader);
}

Transition LeaseState::on_not_leader(int64_t now) {
  valid_until_ = 0;
  return set_role(Role::follower);
}

Transition LeaseState::tick(int64_t now) {
  if (role_ == Role::leader && now >= valid_until_) return set_role(Role::follower);
  return Transition::none;
}

}  // namespace clickrace::scheduler
