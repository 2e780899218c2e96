#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

// Gateway metrics in Prometheus text format. Plain integers: every update happens on the
// event-loop thread, so no atomics on the hot path.
namespace clickrace::gateway {

// A cumulative histogram with fixed upper bounds (le), as Prometheus expects.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double value);
  // Appends the _bucket/_sum/_count lines of `name`.
  void render(std::string& out, const std::string& name, const std::string& help) const;
  std::uint64_t count() const { return count_; }

 private:
  std::vector<double> bounds_;
  std::vector<std::uint64_t> buckets_;  // per bound, non-cumulative; cumulated when rendered
  double sum_ = 0;
  std::uint64_t count_ = 0;
};

struct Metrics {
  Metrics();

  std::int64_t connections = 0;            // gauge: open WebSocket connections
  std::uint64_t connections_total = 0;     // upgrades accepted
  std::uint64_t connections_rejected = 0;  // upgrades refused (auth, origin, limit)
  // Per-account cap: our connections closed for a newer one, and others' evicted by ours.
  std::uint64_t connections_evicted = 0;
  std::uint64_t connections_evicted_elsewhere = 0;
  std::uint64_t handshakes_ok = 0;
  std::uint64_t handshakes_failed = 0;
  std::uint64_t clicks_accepted = 0;
  std::uint64_t clicks_rejected = 0;  // rate limit, no round, Redis down, overload
  std::uint64_t click_batches = 0;
  std::uint64_t click_batches_resent = 0;     // resends of batches whose answer was lost
  std::uint64_t click_batches_given_up = 0;   // unresolved after the retry window
  std::uint64_t click_stale_rounds = 0;       // STALEROUND answers (resent with the round named)
  std::uint64_t click_batches_regrouped = 0;  // PARTITIONS answers (regrouped, fresh ids)
  std::uint64_t events_received = 0;          // envelopes from pub/sub or catch-up
  std::uint64_t events_broadcast = 0;         // frames handed to connections
  std::uint64_t events_dropped = 0;           // duplicates and malformed envelopes
  std::uint64_t subscription_restarts = 0;    // silent subscriptions dropped by the heartbeat
  std::uint64_t slow_clients_dropped = 0;
  std::uint64_t clients_timed_out = 0;
  std::uint64_t protocol_errors = 0;  // malformed records / frames
  // Stateful reconnect: connections resumed, and those given up (window passed, buffer over the
  // limit, or a reconnect to a connection not held here: the client then starts a new one).
  std::uint64_t reconnects_resumed = 0;
  std::uint64_t reconnects_expired = 0;
  std::uint64_t reconnects_overflowed = 0;
  std::uint64_t reconnects_refused = 0;
  std::uint64_t http_requests = 0;
  std::uint64_t logins_ok = 0;
  std::uint64_t logins_failed = 0;
  std::uint64_t registrations = 0;
  std::uint64_t rate_limited_logins = 0;
  std::int64_t login_limiter_keys = 0;  // gauge: clients and (name, client) pairs remembered
  Histogram click_batch_size;           // clicks per click.lua call
  Histogram redis_latency_seconds;      // command round trips

  // Extra gauges supplied at render time (redis state etc.).
  std::string render(bool redis_connected, bool subscribed) const;
};

}  // namespace clickrace::gateway
