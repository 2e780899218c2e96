#include <gtest/gtest.h>
#include <signal.h>

#include <thread>

#include "scheduler_harness.hpp"

namespace clickrace::test {
namespace {

using namespace std::chrono_literals;

struct Env {
  RedisServer redis;
  RedisSync sync{redis.port()};
  std::string prefix = unique_prefix();
  EventListener events{redis.port(), prefix + "events"};
  SchedulerConfig config(const std::string& id, int64_t round_ms = 300) {
    SchedulerConfig c;
    c.redis_url = redis.url();
    c.prefix = prefix;
    c.id = id;
    c.round_ms = round_ms;
    return c;
  }
  std::string holder() {
    Reply r = sync.cmd({"GET", prefix + "scheduler:leader"});
    return r.is_nil() ? "" : r.str;
  }
  bool wait_closed(int64_t n, std::chrono::milliseconds t = 10s) {
    return eventually([&] { return closed_round(sync, prefix) >= n; }, t);
  }
};

// A frozen leader (SIGSTOP: a long GC pause, a stalled VM) loses the lease; when it wakes up its
// own clock tells it the lease ran out, and the fencing in close_round.lua stops any close in
// flight: nothing is announced twice, nothing is skipped.
TEST(SchedulerFailover, AFrozenLeaderWakesUpAsAFollower) {
  Env env;
  SchedulerProcess a(env.config("a")), b(env.config("b"));
  ASSERT_TRUE(a.start());
  ASSERT_TRUE(eventually([&] { return env.holder() == "a"; }));
  ASSERT_TRUE(b.start());
  ASSERT_TRUE(env.wait_closed(2));
  a.process().signal(SIGSTOP);
  ASSERT_TRUE(eventually([&] { return env.holder() == "b"; }, 5s));
  int64_t c = closed_round(env.sync, env.prefix);
  ASSERT_TRUE(env.wait_closed(c + 2));
  a.process().signal(SIGCONT);
  // a resumes as a follower and stays one while b holds the lease.
  ASSERT_TRUE(eventually([&] { return a.get("/status").first == 200; }, 5s));
  c = closed_round(env.sync, env.prefix);
  ASSERT_TRUE(env.wait_closed(c + 3));
  auto status = nlohmann::json::parse(a.get("/status").second);
  EXPECT_EQ(status["role"], "follower");
  EXPECT_EQ(status["leaseHolder"], "b");
  EXPECT_EQ(env.holder(), "b");
  a.process().stop();
  b.process().stop();
  auto ended = env.events.ended();
  expect_contiguous(ended, 300, 1);
  expect_unique(ended);
}

// A new CLICKRACE_ROUND_MS applies from the next boundary: rounds stay contiguous, the round
// running at the change keeps its old length.
TEST(SchedulerSchedule, ALengthChangeAppliesFromTheNextBoundary) {
  Env env;
  {
    SchedulerProcess a(env.config("a", 300));
    ASSERT_TRUE(a.start());
    ASSERT_TRUE(env.wait_closed(2));
    a.process().stop();
  }
  int64_t before = closed_round(env.sync, env.prefix);
  SchedulerProcess b(env.config("b", 200));
  ASSERT_TRUE(b.start());
  ASSERT_TRUE(env.wait_closed(before + 6));
  b.process().stop();
  auto stream = read_stream(env.sync, env.prefix);
  expect_unique(stream);
  ASSERT_GE(stream.size(), static_cast<std::size_t>(before + 6));
  bool changed = false;
  for (std::size_t i = 0; i < stream.size(); ++i) {
    EXPECT_EQ(stream[i].round, static_cast<int64_t>(i) + 1);
    if (i > 0) {
      EXPECT_EQ(stream[i].started_at, stream[i - 1].ended_at);
    }
    int64_t len = stream[i].ended_at - stream[i].started_at;
    if (len == 200) changed = true;
    // Never a partial round: 300 until the switch, 200 after it.
    EXPECT_EQ(len, changed ? 200 : 300) << "round " << stream[i].round;
  }
  EXPECT_TRUE(changed);
}

// A length change left pending by a leader with another CLICKRACE_ROUND_MS is cancelled when the
// next leader runs the current length again before the boundary: no round runs at the abandoned
// length, and the scheduler plans from the schedule without it.
TEST(SchedulerSchedule, AnAbandonedLengthChangeIsCancelledBeforeItsBoundary) {
  Env env;
  {
    SchedulerProcess a(env.config("a", 300));
    ASSERT_TRUE(a.start());
    ASSERT_TRUE(env.wait_closed(2));
    a.process().stop();
  }
  // The change a 900 ms leader would have planned, at a boundary far enough ahead (about 3 s)
  // for the next leader to come up first even on a loaded machine.
  std::string key = env.prefix + "schedule";
  int64_t epoch = std::stoll(env.sync.cmd({"HGET", key, "epoch"}).str);
  Reply t = env.sync.cmd({"TIME"});
  int64_t now = std::stoll(t.elements.at(0).str) * 1000 + std::stoll(t.elements.at(1).str) / 1000;
  int64_t next_base = 1 + (now - epoch) / 300 + 10;
  env.sync.cmd({"HSET", key, "next_epoch", std::to_string(epoch + (next_base - 1) * 300),
                "next_len", "900", "next_base", std::to_string(next_base)});

  SchedulerProcess b(env.config("b", 300));
  ASSERT_TRUE(b.start());
  ASSERT_TRUE(eventually(
      [&] {
        return env.sync.cmd({"HEXISTS", key, "next_epoch"}).integer == 0;
      },
      2s));
  ASSERT_TRUE(env.wait_closed(next_base + 2));
  b.process().stop();
  auto stream = read_stream(env.sync, env.prefix);
  expect_contiguous(stream, 300, 1);  // 300 ms across the abandoned boundary too
  expect_unique(stream);
  EXPECT_EQ(env.sync.cmd({"HEXISTS", key, "prev_epoch"}).integer, 0);  // nothing was promoted
  EXPECT_EQ(env.sync.cmd({"HGET", key, "len"}).str, "300");
}

}  // namespace
}  // namespace clickrace::test
