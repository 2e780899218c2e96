#include "histogram.hpp"

#include <algorithm>
#include <cmath>

namespace clickrace::bench {

// Values below 64 have their own bucket; above, bucket = e*32 + (v >> e) with e = msb - 5,
// so each power of two [2^k, 2^(k+1)) splits into 32 equal buckets.
std::size_t Histogram::index_of(std::uint64_t v) {
  if (v < 64) return static_cast<std::size_t>(v);
  const int msb = 63 - __builtin_clzll(v);
  const int e = msb - 5;
  return static_cast<std::size_t>(e) * 32 + static_cast<std::size_t>(v >> e);
}

std::uint64_t Histogram::lower_bound(std::size_t index) {
  if (index < 64) return index;
  const std::size_t e = index / 32 - 1;
  const std::uint64_t m = index % 32 + 32;
  return m << e;
}

void Histogram::record(std::uint64_t value) {
  std::size_t i = std::min(index_of(value), kBuckets - 1);
  ++buckets_[i];
  ++count_;
  sum_ += value;
  max_ = std::max(max_, value);
}

void Histogram::merge(const Histogram& other) {
  for (std::size_t i = 0; i < kBuckets; ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  max_ = std::max(max_, other.max_);
}

std::uint64_t Histogram::quantile(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  const auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_)));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    seen += buckets_[i];
    if (seen >= std::max<std::uint64_t>(rank, 1)) {
      const std::uint64_t lo = lower_bound(i);
      const std::uint64_t hi = i + 1 < kBuckets ? lower_bound(i + 1) : lo;
      return std::min(max_, lo + (hi - lo) / 2);
    }
  }
  return max_;
}

}  // namespace clickrace::bench
