#include "scheduler_harness.hpp"

#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <set>

namespace clickrace::test {

std::string unique_prefix() {
  static std::atomic<int> n{0};
  return "t" + std::to_string(::getpid()) + "-" + std::to_string(n.fetch_add(1)) + ":";
}

namespace {

std::map<std::string, std::string> scheduler_env(const SchedulerConfig& c) {
  std::map<std::string, std::string> env{
      {"CLICKRACE_REDIS_URL", c.redis_url},
      {"CLICKRACE_KEY_PREFIX", c.prefix},
      {"CLICKRACE_SCHEDULER_PORT", "0"},
      {"CLICKRACE_ROUND_MS", std::to_string(c.round_ms)},
      {"CLICKRACE_LEASE_MS", std::to_string(c.lease_ms)},
      {"CLICKRACE_LEADERBOARD_MS", std::to_string(c.leaderboard_ms)},
      {"CLICKRACE_SCHEDULER_ID", c.id},
      {"CLICKRACE_LOG_LEVEL", "info"}};
  if (c.partitions > 0) env.emplace("CLICKRACE_SCORE_PARTITIONS", std::to_string(c.partitions));
  if (!c.cluster.empty()) env.emplace("CLICKRACE_REDIS_CLUSTER", c.cluster);
  for (const auto& e : c.extra_env) env[e.first] = e.second;
  return env;
}

}  // namespace

SchedulerProcess::SchedulerProcess(const SchedulerConfig& c)
    : proc_(c.id.empty() ? "round-scheduler" : c.id, {bin("round-scheduler")}, scheduler_env(c)) {}

bool SchedulerProcess::start() {
  proc_.start();
  port_ = proc_.wait_listening();
  return port_ > 0;
}

std::pair<int, std::string> SchedulerProcess::get(const std::string& path) const {
  httplib::Client http("127.0.0.1", port_);
  http.set_connection_timeout(2, 0);
  http.set_read_timeout(2, 0);
  auto res = http.Get(path.c_str());
  if (!res) return {0, ""};
  return {res->status, res->body};
}

std::vector<bus::RoundResult> read_stream(RedisSync& redis, const std::string& prefix) {
  std::vector<bus::RoundResult> out;
  Reply r = redis.cmd({"XRANGE", prefix + "rounds", "-", "+"});
  for (const Reply& entry : r.elements) {
    if (entry.elements.size() != 2) continue;
    const auto& fields = entry.elements[1].elements;
    for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
      if (fields[i].str != "result") continue;
      auto res = bus::parse_round_result(fields[i + 1].str);
      EXPECT_TRUE(res) << fields[i + 1].str;
      if (res) out.push_back(*res);
    }
  }
  return out;
}

int64_t closed_round(RedisSync& redis, const std::string& prefix) {
  Reply r = redis.cmd({"GET", prefix + "closed"});
  return r.is_nil() || r.str.empty() ? 0 : std::stoll(r.str);
}

bool wait_closed_and_heard(RedisSync& redis, const std::string& prefix, const EventListener& events,
                           int64_t at_least, std::chrono::milliseconds timeout) {
  return eventually(
      [&] {
        if (closed_round(redis, prefix) < at_least) return false;
        for (const auto& e : events.ended()) {
          if (e.round >= at_least) return true;
        }
        return false;
      },
      timeout);
}

void expect_contiguous(const std::vector<bus::RoundResult>& rounds, int64_t len, int64_t first) {
  ASSERT_FALSE(rounds.empty());
  EXPECT_EQ(rounds.front().round, first);
  for (std::size_t i = 0; i < rounds.size(); ++i) {
    EXPECT_EQ(rounds[i].ended_at - rounds[i].started_at, len) << "round " << rounds[i].round;
    if (i == 0) continue;
    EXPECT_EQ(rounds[i].round, rounds[i - 1].round + 1) << "after round " << rounds[i - 1].round;
    EXPECT_EQ(rounds[i].started_at, rounds[i - 1].ended_at) << "round " << rounds[i].round;
  }
}

void expect_unique(const std::vector<bus::RoundResult>& rounds) {
  std::set<int64_t> seen;
  for (const auto& r : rounds)
    EXPECT_TRUE(seen.insert(r.round).second) << "round " << r.round << " announced twice";
}

}  // namespace clickrace::test
