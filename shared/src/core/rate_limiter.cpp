#include "clickrace/core/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

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

void TokenBucket::give_back(int64_t now_ms, double n) {
  tokens_ = std::min(burst_, refilled(now_ms) + std::max(0.0, n));
  last_ms_ = std::max(last_ms_, now_ms);
}

double TokenBucket::available(int64_t now_ms) const { return refilled(now_ms); }

namespace {

// How long an empty bucket takes to refill: after that a bucket is as good as new. No refill
// (rate 0) never forgets; the period is at least a second so the sweeps stay rare.
int64_t refill_window_ms(double rate_per_s, double burst) {
  constexpr double kNever = 1e15;  // ~31,000 years
  if (rate_per_s <= 0) return static_cast<int64_t>(kNever);
  double ms = std::ceil(std::max(0.0, burst) / rate_per_s * 1000.0);
  return static_cast<int64_t>(std::clamp(ms, 1000.0, kNever));
}

}  // namespace

KeyedRateLimiter::KeyedRateLimiter(double rate_per_s, double burst, std::size_t max_keys)
    : rate_per_s_(rate_per_s),
      burst_(burst),
      max_keys_(std::max<std::size_t>(1, max_keys)),
      window_ms_(refill_window_ms(rate_per_s, burst)) {}

bool KeyedRateLimiter::try_take(std::string_view key, int64_t now_ms) {
  // Time-bounded memory: once per window, whatever the traffic, refilled buckets go.
  if (last_expiry_ms_ == INT64_MIN || now_ms - last_expiry_ms_ >= window_ms_) {
    last_expiry_ms_ = now_ms;
    last_sweep_ms_ = INT64_MIN;  // run now, even if a size sweep ran a moment ago
    sweep(now_ms);
  }
  std::string k(key);
  auto it = buckets_.find(k);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_keys_) sweep(now_ms);
    if (buckets_.size() >= max_keys_) return false;
    it = buckets_.emplace(std::move(k), TokenBucket(rate_per_s_, burst_, now_ms)).first;
  }
  return it->second.try_take(now_ms);
}

void KeyedRateLimiter::give_back(std::string_view key, int64_t now_ms) {
  auto it = buckets_.find(std::string(key));
  if (it != buckets_.end()) it->second.give_back(now_ms);
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
