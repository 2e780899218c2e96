#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

// Token-bucket rate limiting with time passed in (ms), so it is tested with a fake clock.
// Not thread-safe: each limiter belongs to one thread (the event loop).
namespace clickrace::core {

// Starts full. Refills `rate_per_s` tokens per second up to `burst`. A few arithmetic operations
// per call: cheap enough for every click of every connection.
class TokenBucket {
 public:
  TokenBucket(double rate_per_s, double burst, int64_t now_ms);

  // Takes `n` tokens if available. A clock that goes backwards refills nothing.
  bool try_take(int64_t now_ms, double n = 1.0);
  // Returns `n` tokens taken earlier (never above the burst).
  void give_back(int64_t now_ms, double n = 1.0);
  double available(int64_t now_ms) const;

 private:
  double refilled(int64_t now_ms) const;
  double rate_per_ms_;
  double burst_;
  double tokens_;
  int64_t last_ms_;
};

// One bucket per key (e.g. login attempts per client address), at most `max_keys` of them.
// Buckets that have refilled completely are dropped (a full bucket is the same as a new one, so
// nothing is forgotten): by a sweep once per window (the time an empty bucket takes to refill),
// so a key is held at most two windows after its last use, however many keys there are; and,
// when the map is full, by a sweep at most once a second. If none can be dropped a new key is
// refused (fail closed). Time must come from a monotonic clock: a wall clock stepped forward
// would forget limits early, one stepped back would hold them too long.
class KeyedRateLimiter {
 public:
  KeyedRateLimiter(double rate_per_s, double burst, std::size_t max_keys = 100000);
  bool try_take(std::string_view key, int64_t now_ms);
  // Returns a token taken by try_take (the attempt turned out not to count). A key no longer
  // held is full already: nothing to do.
  void give_back(std::string_view key, int64_t now_ms);
  std::size_t size() const { return buckets_.size(); }
  // Time for an empty bucket to refill, in ms (the expiry sweep's period).
  int64_t window_ms() const { return window_ms_; }

 private:
  void sweep(int64_t now_ms);
  double rate_per_s_;
  double burst_;
  std::size_t max_keys_;
  int64_t window_ms_;
  int64_t last_sweep_ms_ = INT64_MIN;
  int64_t last_expiry_ms_ = INT64_MIN;
  std::unordered_map<std::string, TokenBucket> buckets_;
};

}  // namespace clickrace::core
