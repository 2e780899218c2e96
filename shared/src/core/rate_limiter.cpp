#include "clickrace/core/rate_limiter.hpp"

#include <algorithm>

namespace clickrace::core {

TokenBucket::TokenBucket(double rate_per_s, double burst, int64_t now_ms)
    : rate_per_ms_(std::max(0.0, rate_per_s) / 1000.0),
      burst_(std::max(0.0, burst)),
      tokens_(burst_),
      last_ms_(now_ms) {}

double TokenBucket::refilled(int64_t now_ms) const {
  if (now_ms <= last_ms_) return tokens_;
  // The elapsed time is converted to double before multiplying: a long idle period cannot
  // overflow, and the result is capped at the burst.
  double elapsed = static_cast<double>(now_ms) - static_cast<double>(last_ms_);
  return std::min(burst_, tokens_ + elapsed * rate_per_ms_);
}

bool TokenBucket::try_take(int64_t now_ms, double n) {
  tokens_ = refilled(now_ms);
  last_ms_ = std::max(last_ms_, now_ms);
  if (tokens_ < n) return false;
  tokens_ -= n;
  return true;
}

double TokenBucket::available(int64_t now_ms) const { return refilled(now_ms); }

KeyedRateLimiter::KeyedRateLimiter(double rate_per_s, double burst, std::size_t max_keys)
    : rate_per_s_(rate_per_s), burst_(burst), max_keys_(std::max<std::size_t>(1, max_keys)) {}

bool KeyedRateLimiter::try_take(std::string_view key, int64_t now_ms) {
  std::string k(key);
  auto it = buckets_.find(k);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_keys_) sweep(now_ms);
    if (buckets_.size() >= max_keys_) return false;
    it = buckets_.emplace(std::move(k), TokenBucket(rate_per_s_, burst_, now_ms)).first;
  }
  return it->second.try_take(now_ms);
}

void KeyedRateLimiter::sweep(int64_t now_ms) {
  if (last_sweep_ms_ != INT64_MIN && now_ms - last_sweep_ms_ < 1000) return;
  last_sweep_ms_ = now_ms;
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    if (it->second.available(now_ms) >= burst_) {
      it = buckets_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace clickrace::core
