#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "clickrace/core/rate_limiter.hpp"

// Login and registration limits (DESIGN.md §5) that cannot be turned against a player:
// - every attempt counts against its client (client_limit_key: an IPv4 address, an IPv6 /64),
//   whatever name it tries, so one client can neither guess many passwords nor fill memory;
// - failed logins count per (name, client), never per name alone: an attacker failing for
//   "alice" uses up only its own attempts at "alice", and Alice logs in from anywhere else;
// - a name becomes part of a key only once it is a valid account name (3–24 characters, §1.2),
//   so a key is always small, whatever a request carries;
// - memory is bounded by time (KeyedRateLimiter forgets a bucket once it has refilled) and by
//   a count cap.
// Pure: time comes in as monotonic milliseconds, so it is tested without a clock.
namespace clickrace::gateway {

struct LoginLimits {
  int attempts_per_min = 30;       // per client: logins and registrations, any names
  int failures_per_min = 10;       // per (name, client): failed logins
  std::size_t max_keys = 100'000;  // per kind of key; beyond it new keys are refused
};

class LoginLimiter {
 public:
  explicit LoginLimiter(const LoginLimits& limits);

  // A registration (`name` empty) or login attempt from `client`. True: go ahead; false: answer
  // 429. A login whose name is not a valid account name counts against the client only (it is
  // answered like a wrong password without any lookup).
  bool admit(std::string_view client, std::string_view name, std::int64_t now_ms);
  // The admitted login did not fail (it succeeded, or the service could not answer): it does not
  // count as a failure of (name, client).
  void not_failed(std::string_view client, std::string_view name, std::int64_t now_ms);

  // Keys held (clients + name/client pairs), for /metrics.
  std::size_t keys() const { return clients_.size() + failures_.size(); }

 private:
  core::KeyedRateLimiter clients_;
  core::KeyedRateLimiter failures_;
};

}  // namespace clickrace::gateway
