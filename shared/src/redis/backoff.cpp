#include "clickrace/redis/backoff.hpp"

#include <algorithm>

namespace clickrace::redis {

Backoff::Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max, double jitter)
    : initial_(std::max(initial, std::chrono::milliseconds(1))),
      max_(std::max(max, initial_)),
      jitter_(std::clamp(jitter, 0.0, 1.0)),
      current_(initial_) {}

std::chrono::milliseconds Backoff::next(double unit_random) {
  auto base = current_;
  current_ = std::min(max_, current_ * 2);
  ++attempts_;
  double spread = 1.0 - jitter_ + 2.0 * jitter_ * std::clamp(unit_random, 0.0, 1.0);
  auto ms = static_cast<long long>(static_cast<double>(base.count()) * spread);
  return std::chrono::milliseconds(std::max(1LL, ms));
}

void Backoff::reset() {
  current_ = initial_;
  attempts_ = 0;
}

}  // namespace clickrace::redis
