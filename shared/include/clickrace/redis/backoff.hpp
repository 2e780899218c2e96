#pragma once
#include <chrono>

namespace clickrace::redis {

// Exponential reconnect backoff: initial, 2x initial, ... capped at max, each spread by +-jitter
// (a fraction) so that many services restarting together do not reconnect in lockstep.
// Pure: the caller supplies the random number, so the sequence is testable.
class Backoff {
 public:
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max, double jitter);
  // The delay before the next attempt; `unit_random` is uniform in [0, 1).
  std::chrono::milliseconds next(double unit_random);
  // After a successful connection: the next failure starts again at `initial`.
  void reset();
  int attempts() const { return attempts_; }

 private:
  std::chrono::milliseconds initial_;
  std::chrono::milliseconds max_;
  double jitter_;
  std::chrono::milliseconds current_;
  int attempts_ = 0;
};

}  // namespace clickrace::redis
