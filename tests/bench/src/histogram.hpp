#pragma once
#include <array>
#include <cstdint>

// A log-linear histogram in the spirit of HdrHistogram: 32 sub-buckets per power of two, so any
// reported quantile is within ~3 % of the true value. Fixed size, no allocation: one per worker
// thread on the hot path, merged at the end.
namespace clickrace::bench {

class Histogram {
 public:
  void record(std::uint64_t value);
  void merge(const Histogram& other);
  // Value at quantile q in [0, 1] (0 when empty); the midpoint of its bucket.
  std::uint64_t quantile(double q) const;
  std::uint64_t count() const { return count_; }
  std::uint64_t max() const { return max_; }
  double mean() const { return count_ ? static_cast<double>(sum_) / count_ : 0.0; }

  static std::size_t index_of(std::uint64_t value);
  static std::uint64_t lower_bound(std::size_t index);

 private:
  static constexpr std::size_t kBuckets = 64 + 58 * 32;  // values up to 2^63
  std::array<std::uint64_t, kBuckets> buckets_{};
  std::uint64_t count_ = 0;
  std::uint64_t sum_ = 0;
  std::uint64_t max_ = 0;
};

}  // namespace clickrace::bench
