#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <thread>

#include "scheduler_harness.hpp"

namespace clickrace::test {
namespace {

using namespace std::chrono_literals;

class Scheduler : public ::testing::Test {
 protected:
  SchedulerConfig config(const std::string& id, int64_t round_ms = 300) {
    SchedulerConfig c;
    c.redis_url = redis_.url();
    c.prefix = prefix_;
    c.id = id;
    c.round_ms = round_ms;
    return c;
  }
  std::unique_ptr<SchedulerProcess> start(const SchedulerConfig& c) {
    auto p = std::make_unique<SchedulerProcess>(c);
    EXPECT_TRUE(p->start()) << p->process().output();
    return p;
  }
  bool wait_closed(int64_t at_least, std::chrono::milliseconds timeout = 10s) {
    return wait_closed_and_heard(sync_, prefix_, events_, at_least, timeout);
  }
  std::string holder() {
    Reply r = sync_.cmd({"GET", prefix_ + "scheduler:leader"});
    return r.is_nil() ? "" : r.str;
  }

  RedisServer redis_;
  RedisSync sync_{redis_.port()};
  std::string prefix_ = unique_prefix();
  EventListener events_{redis_.port(), prefix_ + "events"};
};

TEST_F(Scheduler, AnnouncesRoundsInOrderWithFixedBoundaries) {
  ASSERT_TRUE(events_.ok());
  auto a = start(config("a"));
  ASSERT_TRUE(wait_closed(4));
  ASSERT_TRUE(eventually([&] { return events_.ended().size() >= 4; }));
  auto ended = events_.ended();
  expect_contiguous(ended, 300, 1);
  expect_unique(ended);
  // The schedule's epoch is round 1's start; the stream holds the same results as pub/sub.
  Reply epoch = sync_.cmd({"HGET", prefix_ + "schedule", "epoch"});
  EXPECT_EQ(ended.front().started_at, std::stoll(epoch.str));
  auto stream = read_stream(sync_, prefix_);
  ASSERT_GE(stream.size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(stream[i], ended[i]);
  // RoundStarted for round 1 (by the first leader) and then for each next round.
  bool started1 = false;
  for (const auto& e : events_.events()) {
    if (e.event == "RoundStarted" && e.round == 1) {
      started1 = true;
      EXPECT_EQ(e.data["startsAt"], ended.front().started_at);
      EXPECT_EQ(e.data["endsAt"], ended.front().ended_at);
    }
  }
  EXPECT_TRUE(started1);
  // SIGTERM: exit 0 and the lease is released at once.
  EXPECT_EQ(holder(), "a");
  int status = a->process().stop();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_EQ(holder(), "");
}

TEST_F(Scheduler, KillingTheLeaderHandsOverWithinOneLeaseWithoutGapsOrDuplicates) {
  auto a = start(config("a"));
  ASSERT_TRUE(eventually([&] { return holder() == "a"; }));
  auto b = start(config("b"));
  ASSERT_TRUE(wait_closed(3));
  EXPECT_EQ(holder(), "a");  // the standby does not steal a live lease
  // Kill mid-round.
  int64_t c = closed_round(sync_, prefix_);
  ASSERT_TRUE(wait_closed(c + 1));
  std::this_thread::sleep_for(150ms);
  auto killed_at = std::chrono::steady_clock::now();
  a->process().kill();
  ASSERT_TRUE(eventually([&] { return holder() == "b"; }, 5s));
  auto takeover = std::chrono::steady_clock::now() - killed_at;
  // The key expires at most one lease (900 ms) after the kill and the standby polls every 150 ms;
  // the bound leaves slack for a loaded machine while still failing a standby that waits longer.
  EXPECT_LT(takeover, 1800ms)
      << std::chrono::duration_cast<std::chrono::milliseconds>(takeover).count();
  int64_t after = closed_round(sync_, prefix_);
  ASSERT_TRUE(wait_closed(after + 3));
  b->process().stop();
  auto ended = events_.ended();
  expect_contiguous(ended, 300, 1);
  expect_unique(ended);
  expect_contiguous(read_stream(sync_, prefix_), 300, 1);
}

TEST_F(Scheduler, MissedRoundsAreClosedInOrderOnceAfterDowntime) {
  auto a = start(config("a"));
  ASSERT_TRUE(wait_closed(2));
  a->process().stop();
  int64_t last = closed_round(sync_, prefix_);
  ASSERT_TRUE(wait_closed(last));  // its last result has reached the listener too
  auto before = events_.ended().size();
  // Nobody schedules for three full rounds (and a bit).
  std::this_thread::sleep_for(3 * 300ms + 200ms);
  EXPECT_EQ(events_.ended().size(), before);
  auto b = start(config("b"));
  ASSERT_TRUE(wait_closed(last + 5));
  b->process().stop();
  auto ended = events_.ended();
  expect_contiguous(ended, 300, 1);
  expect_unique(ended);
  // The missed rounds came out oldest first, right after the restart.
  ASSERT_GE(ended.size(), before + 3);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(ended[before + i].round, last + 1 + int64_t(i));
}

TEST_F(Scheduler, RestartingAndTwoSchedulersNeverDuplicate) {
  auto a = start(config("a"));
  auto b = start(config("b"));
  ASSERT_TRUE(wait_closed(2));
  for (int i = 0; i < 3; ++i) {
    // Restart whichever leads; the other takes over or it wins the lease back.
    auto& leader = holder() == "a" ? a : b;
    std::string id = holder();
    leader->process().stop();
    leader = start(config(id));
    ASSERT_TRUE(wait_closed(closed_round(sync_, prefix_) + 2));
  }
  a->process().stop();
  b->process().stop();
  auto ended = events_.ended();
  expect_contiguous(ended, 300, 1);
  expect_unique(ended);
  expect_contiguous(read_stream(sync_, prefix_), 300, 1);
}

TEST_F(Scheduler, TwoHundredShortRoundsDoNotDrift) {
  auto a = start(config("a", 100));
  ASSERT_TRUE(wait_closed(200, 25s));
  a->process().stop();
  auto stream = read_stream(sync_, prefix_);
  ASSERT_GE(stream.size(), 200u);
  expect_contiguous(stream, 100, 1);
  Reply epoch = sync_.cmd({"HGET", prefix_ + "schedule", "epoch"});
  EXPECT_EQ(stream[199].ended_at, std::stoll(epoch.str) + 200 * 100);
  expect_unique(events_.ended());
}

// Clicks go into a round that has not started yet, so the test does not race its close.
TEST_F(Scheduler, ResultsCarryWinnersTiesAndTotals) {
  auto a = start(config("a", 400));
  ASSERT_TRUE(wait_closed(1));
  int64_t r = closed_round(sync_, prefix_) + 3;
  std::string scores = prefix_ + "round:" + std::to_string(r) + ":scores";
  sync_.cmd({"ZINCRBY", scores, "5", "bob"});
  sync_.cmd({"ZINCRBY", scores, "5", "alice"});
  sync_.cmd({"ZINCRBY", scores, "3", "carol"});
  sync_.cmd({"INCRBY", prefix_ + "round:" + std::to_string(r) + ":total", "13"});
  ASSERT_TRUE(wait_closed(r + 1, 5s));
  const bus::RoundResult* got = nullptr;
  const bus::RoundResult* empty = nullptr;
  auto ended = events_.ended();
  for (const auto& e : ended) {
    if (e.round == r) got = &e;
    if (e.round == r + 1) empty = &e;
  }
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(got->winners, (std::vector<std::string>{"alice", "bob"}));
  EXPECT_EQ(got->winner_count, 2);
  EXPECT_EQ(got->winning_clicks, 5);
  EXPECT_EQ(got->total_clicks, 13);
  EXPECT_EQ(got->players, 3);
  ASSERT_NE(empty, nullptr);
  EXPECT_TRUE(empty->winners.empty());
  EXPECT_EQ(empty->winning_clicks, 0);
  // The raw JSON says "winners":[] (not {}).
  for (const auto& e : events_.events()) {
    if (e.event == "RoundEnded" && e.round == r + 1) {
      EXPECT_TRUE(e.data["winners"].is_array());
    }
  }
}

TEST_F(Scheduler, PublishesTheLeaderboardOfTheRunningRound) {
  auto c = config("a", 3000);
  c.leaderboard_ms = 100;
  auto a = start(c);
  ASSERT_TRUE(eventually([&] { return holder() == "a"; }));
  ASSERT_TRUE(eventually([&] {
    return !sync_.cmd({"HGET", prefix_ + "schedule", "epoch"}).is_nil();
  }));
  // Round 1 runs for 3 s: click into it.
  sync_.cmd({"ZINCRBY", prefix_ + "round:1:scores", "4", "dave"});
  sync_.cmd({"ZINCRBY", prefix_ + "round:1:scores", "9", "erin"});
  sync_.cmd({"INCRBY", prefix_ + "round:1:total", "13"});
  bool seen = eventually(
      [&] {
        for (const auto& e : events_.events()) {
          if (e.event != "Leaderboard" || e.round != 1) continue;
          auto lb = bus::parse_leaderboard(e.data.dump());
          if (!lb || lb->total_clicks != 13) continue;
          EXPECT_EQ(lb->top, (std::vector<bus::TopEntry>{{"erin", 9}, {"dave", 4}}));
          EXPECT_GT(lb->remaining_ms, 0);
          EXPECT_LE(lb->remaining_ms, 3000);
          return true;
        }
        return false;
      },
      3s);
  EXPECT_TRUE(seen);
}

// A Leaderboard just before the deadline would be broadcast to every player right when
// RoundEnded must be: none is published in a round's last fifth (250 ms at most).
TEST_F(Scheduler, NoLeaderboardInTheLastMomentsOfARound) {
  auto c = config("a", 1000);
  c.leaderboard_ms = 50;
  auto a = start(c);
  ASSERT_TRUE(wait_closed(3));
  int seen = 0;
  int64_t least = 1000;
  for (const auto& e : events_.events()) {
    if (e.event != "Leaderboard") continue;
    auto lb = bus::parse_leaderboard(e.data.dump());
    ASSERT_TRUE(lb) << e.data.dump();
    ++seen;
    least = std::min(least, lb->remaining_ms);
  }
  EXPECT_GT(seen, 20);    // ~16 per round at 50 ms
  EXPECT_GE(least, 200);  // 1000 ms / 5
  EXPECT_LT(least, 500);  // and on into the round's second half
}

TEST_F(Scheduler, AdminEndpointsAndRedisOutage) {
  auto a = start(config("a"));
  ASSERT_TRUE(wait_closed(2));
  EXPECT_EQ(a->get("/healthz").first, 200);
  EXPECT_EQ(a->get("/readyz").first, 200);
  auto [code, body] = a->get("/status");
  ASSERT_EQ(code, 200);
  auto status = nlohmann::json::parse(body);
  EXPECT_EQ(status["role"], "leader");
  EXPECT_EQ(status["id"], "a");
  EXPECT_EQ(status["leaseHolder"], "a");
  EXPECT_EQ(status["roundMs"], 300);
  EXPECT_GE(status["currentRound"].get<int64_t>(), 3);
  EXPECT_GE(status["lastClosedRound"].get<int64_t>(), 2);
  auto metrics = a->get("/metrics").second;
  EXPECT_NE(metrics.find("clickrace_scheduler_is_leader 1"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("clickrace_scheduler_close_lag_ms_count"), std::string::npos);
  EXPECT_EQ(metrics.find("clickrace_scheduler_rounds_closed_total 0\n"), std::string::npos);

  // Redis goes away for a few rounds: not ready, not leading; then everything resumes with
  // every round announced once (AOF keeps the state).
  redis_.kill();
  EXPECT_TRUE(eventually([&] { return a->get("/readyz").first == 503; }, 5s));
  EXPECT_TRUE(eventually(
      [&] { return a->get("/metrics").second.find("is_leader 0") != std::string::npos; }, 5s));
  redis_.start();
  EventListener after(redis_.port(), prefix_ + "events");
  RedisSync sync2(redis_.port());
  int64_t c = closed_round(sync2, prefix_);
  EXPECT_TRUE(eventually([&] { return closed_round(sync2, prefix_) >= c + 3; }, 10s));
  EXPECT_EQ(a->get("/readyz").first, 200);
  a->process().stop();
  auto stream = read_stream(sync2, prefix_);
  expect_contiguous(stream, 300, 1);
  expect_unique(stream);
  expect_unique(after.ended());
}

}  // namespace
}  // namespace clickrace::test
