#pragma once
#include <chrono>
#include <cstdint>
#include <functional>

namespace clickrace::redis {

// Plain counters, updated and read on the io_context thread (no atomics needed). Cheap enough for
// the hot path; a service exports them as it likes.
struct Metrics {
  std::uint64_t commands = 0;         // command() calls
  std::uint64_t replies = 0;          // replies delivered (including error replies)
  std::uint64_t error_replies = 0;    // replies of type error (-ERR, -NOSCRIPT, ...)
  std::uint64_t failures = 0;         // Result errors except timeouts (not connected, lost, closed)
  std::uint64_t timeouts = 0;         // commands that timed out
  std::uint64_t late_replies = 0;     // replies discarded because their command had timed out
  std::uint64_t connects = 0;         // successful (re)connections, handshake included
  std::uint64_t disconnects = 0;      // connections lost or dropped (not counting close())
  std::uint64_t unhealthy_drops = 0;  // connections dropped by the hung-server policy
  std::uint64_t messages = 0;         // Subscriber: pub/sub messages delivered
};

// Called with the round trip of every answered command (not timed-out ones), e.g. to feed a
// latency histogram. Keep it cheap: it runs on the event loop for every reply.
using RoundTripHook = std::function<void(std::chrono::microseconds)>;

}  // namespace clickrace::redis
