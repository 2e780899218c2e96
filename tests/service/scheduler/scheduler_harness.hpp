#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "clickrace/bus/events.hpp"
#include "event_listener.hpp"
#include "process.hpp"
#include "redis_server.hpp"

// Helpers for the scheduler's service tests: the real binary, a pub/sub listener on `P events`,
// and readers of the `P rounds` stream.
namespace clickrace::test {

// A unique key prefix per test, so tests could share one Redis.
std::string unique_prefix();

struct SchedulerConfig {
  std::string redis_url;
  std::string prefix;
  std::string id;
  int64_t round_ms = 300;
  int64_t lease_ms = 900;
  int64_t leaderboard_ms = 1000;
  int partitions = 0;  // CLICKRACE_SCORE_PARTITIONS; 0 = the scheduler's default
  // Seed nodes of a Redis Cluster (CLICKRACE_REDIS_CLUSTER); empty = redis_url alone.
  std::string cluster;
  std::vector<std::pair<std::string, std::string>> extra_env;
};

// bin("round-scheduler") with the given settings and an admin port picked by the process.
class SchedulerProcess {
 public:
  explicit SchedulerProcess(const SchedulerConfig& c);
  // Starts and waits for `listening on <port>`; returns false when it did not come up.
  bool start();
  int port() const { return port_; }
  Process& process() { return proc_; }
  // GET path on the admin port: {status, body}; status 0 when no answer.
  std::pair<int, std::string> get(const std::string& path) const;

 private:
  Process proc_;
  int port_ = 0;
};

// The `P rounds` stream, oldest first.
std::vector<bus::RoundResult> read_stream(RedisSync& redis, const std::string& prefix);
// The highest closed round (`P closed`), 0 when none.
int64_t closed_round(RedisSync& redis, const std::string& prefix);
// Until round `at_least` is closed in Redis AND a RoundEnded of it (or later) reached `events`:
// the closed mark is written before the result is published, so a test that reads `events`
// right after the mark alone races the last event. False after `timeout`.
bool wait_closed_and_heard(RedisSync& redis, const std::string& prefix, const EventListener& events,
                           int64_t at_least, std::chrono::milliseconds timeout);

// Checks the invariants of a run: ids strictly consecutive from `first`, every round exactly
// `len` long, each starting where the previous one ended. Adds gtest failures.
void expect_contiguous(const std::vector<bus::RoundResult>& rounds, int64_t len, int64_t first);
// Every id appears at most once.
void expect_unique(const std::vector<bus::RoundResult>& rounds);

}  // namespace clickrace::test
