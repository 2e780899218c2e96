// click.lua's token buckets live in one hash per round (Pk round:<id>:rate): these tests attack
// that layout with a real redis-server. The contract stays the one of a single bucket per player:
// accepted clicks over any t seconds <= rate·t + rate, across round boundaries, short rounds,
// Redis clock steps back, many players in one call and calls of several gateways at once.
// A "step" of the clock is played by rewriting the schedule: the script cannot tell a schedule
// whose rounds moved from a clock that moved.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>

#include "bus_fixture.hpp"

namespace clickrace::test {
namespace {

constexpr int64_t kLong = 1'000'000;  // no boundary passes mid-test

class ClickRateRounds : public BusTest {
 protected:
  // One call as the gateway sends it, resent on STALEROUND until it settles (short rounds may
  // move on between the answer and the resend). Returns {round, {total, granted} per pair}.
  std::pair<int64_t, std::vector<std::pair<int64_t, int64_t>>> call(
      const std::string& batch, int rate, const std::vector<std::string>& pairs) {
    auto pk = keys_.partition(0, 1);
    int64_t r = 0;
    Reply reply;
    for (int i = 0; i < 10; ++i) {
      reply = click_on(pk, batch, rate, 1, r, pairs);
      if (!reply.is_error() || reply.str.rfind("STALEROUND ", 0) != 0) break;
      r = std::stoll(reply.str.substr(11));
    }
    EXPECT_EQ(reply.type, REDIS_REPLY_ARRAY) << reply.str;
    std::vector<std::pair<int64_t, int64_t>> out;
    for (size_t i = 1; i + 1 < reply.elements.size(); i += 2) {
      out.emplace_back(reply.elements[i].integer, reply.elements[i + 1].integer);
    }
    return {reply.elements.empty() ? -1 : reply.elements[0].integer, out};
  }
  int64_t granted(const std::string& batch, int rate, const std::vector<std::string>& pairs) {
    auto r = call(batch, rate, pairs);
    return r.second.empty() ? -1 : r.second[0].second;
  }
  // The schedule with round `id` running since 10 ms ago (rounds of `len`).
  void run_round(int64_t id, int64_t len = kLong) {
    write_schedule(redis_now() - (id - 1) * len - 10, len);
  }
  // The bound of DESIGN invariant 6 for clicks accepted between Redis times t0 and t1.
  static int64_t bound(int rate, int64_t t0, int64_t t1) { return rate + rate * (t1 - t0) / 1000; }
};

// A player who empties its bucket at the end of round 1 gets no new burst at the start of
// round 2: the bucket carries over from round 1's hash instead of starting full.
TEST_F(ClickRateRounds, ABurstAtARoundsEndAndTheNextsStartIsOneBurst) {
  int64_t t0 = redis_now();
  run_round(1);
  ASSERT_EQ(granted("g1:1", 10, {"alice", "10"}), 10);
  run_round(2);  // the boundary passes
  auto [round, r] = call("g2:1", 10, {"alice", "10", "bob", "10"});
  int64_t t1 = redis_now();
  EXPECT_EQ(round, 2);
  EXPECT_LE(10 + r[0].second, bound(10, t0, t1)) << "2 bursts across the boundary";
  EXPECT_EQ(r[1].second, 10) << "a player new in round 2 has a full bucket";
  EXPECT_EQ(cmd({"HGET", keys_.partition(0, 1).rate(1), ""}).str, "2")
      << "round 1's hash knows round 2's exists";
  EXPECT_EQ(cmd({"HGET", keys_.partition(0, 1).rate(2), ""}).str, "1");
}

// Rounds shorter than the bucket's 1 s refill: a player absent from the previous round's hash may
// have clicked just before it began, so its bucket holds only what refilled since then.
TEST_F(ClickRateRounds, WithRoundsShorterThanTheRefillSkippingARoundGivesNoFreshBurst) {
  constexpr int64_t kShort = 300;
  int64_t t0 = redis_now();
  int64_t epoch = t0 - 10;
  write_schedule(epoch, kShort);
  // Round 1's predecessor was short too: even the first burst is only what a bucket could
  // have refilled since it began.
  auto first = call("g1:1", 10, {"alice", "10"});
  int64_t g1 = first.second.at(0).second;
  EXPECT_GE(g1, 3);
  int64_t round_1 = first.first;
  // Sit out the next round; click as soon as the one after it starts.
  int64_t target = epoch + (round_1 + 1) * kShort;  // the start of round_1 + 2
  while (redis_now() < target) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  auto second = call("g1:2", 10, {"alice", "10"});
  int64_t t1 = redis_now();
  EXPECT_GE(second.first, round_1 + 2);
  EXPECT_LE(g1 + second.second.at(0).second, bound(10, t0, t1))
      << "round " << second.first << " after round " << round_1 << ", " << (t1 - t0) << " ms";
}

// Redis's clock steps back over a boundary into a round not sealed yet: the buckets written in
// the later round's hash still count, whether the earlier round's hash exists (alice) or not
// (bob).
TEST_F(ClickRateRounds, AClockStepBackOverABoundaryRefillsNothing) {
  int64_t t0 = redis_now();
  run_round(1);
  ASSERT_EQ(granted("g1:1", 10, {"alice", "5"}), 5);
  run_round(2);
  auto in_2 = call("g1:2", 10, {"alice", "100", "bob", "10"});
  ASSERT_EQ(in_2.first, 2);
  run_round(1);  // the step back
  auto back = call("g1:3", 10, {"alice", "100", "bob", "100"});
  int64_t t1 = redis_now();
  EXPECT_EQ(back.first, 1);
  EXPECT_LE(5 + in_2.second[0].second + back.second[0].second, bound(10, t0, t1)) << "alice";
  EXPECT_LE(in_2.second[1].second + back.second[1].second, bound(10, t0, t1)) << "bob";
  EXPECT_EQ(cmd({"HGET", keys_.partition(0, 1).rate(1), ""}).str, "2");
}

// Round 1's hash is created while round 2's already exists (nobody clicked in round 1 before the
// step back): it is marked at once, so later calls in round 1 keep reading round 2's buckets.
TEST_F(ClickRateRounds, AHashCreatedAfterTheNextRoundsKeepsReadingIt) {
  int64_t t0 = redis_now();
  run_round(2);
  ASSERT_EQ(granted("g1:1", 10, {"alice", "10"}), 10);
  run_round(1);
  EXPECT_EQ(granted("g1:2", 10, {"carol", "1"}), 1);  // creates round 1's hash
  EXPECT_EQ(cmd({"HGET", keys_.partition(0, 1).rate(1), ""}).str, "2");
  int64_t g = granted("g1:3", 10, {"alice", "100"});
  EXPECT_LE(10 + g, bound(10, t0, redis_now()));
}

// One call with many players (more than the script's 1,000-name chunk) whose buckets are in
// round 2's hash, in round 1's, or nowhere, one of them twice: each pair gets exactly what its
// bucket holds. Buckets stamped an hour ahead hold still (no refill), so grants are exact.
TEST_F(ClickRateRounds, ManyPlayersInOneCallEachGetTheirOwnBucket) {
  run_round(2);
  const int kRate = 8;
  std::string ahead = "," + std::to_string(redis_now() + 3'600'000);
  std::vector<std::string> pairs;
  std::map<std::string, int64_t> tokens;  // what each bucket holds before the call
  std::vector<std::string> seed_cur{"HSET", keys_.partition(0, 1).rate(2)},
      seed_prev{"HSET", keys_.partition(0, 1).rate(1)};
  for (int i = 0; i < 1500; ++i) {
    std::string name = "p" + std::to_string(i);
    int64_t held = i % 9;  // 0..8 tokens
    if (i % 3 == 0) {
      seed_cur.insert(seed_cur.end(), {name, std::to_string(held * 1000) + ahead});
    } else if (i % 3 == 1) {
      seed_prev.insert(seed_prev.end(), {name, std::to_string(held * 1000) + ahead});
      // A stale bucket of the same player in round 2's hash would be read first: none.
    } else {
      held = kRate;  // no bucket: full
    }
    tokens[name] = held;
    pairs.insert(pairs.end(), {name, std::to_string(1 + i % 11)});
  }
  pairs.insert(pairs.end(), {"p0", "1", "p2", "5"});  // repeated names share their bucket
  cmd(seed_cur);
  cmd(seed_prev);
  auto [round, r] = call("g1:1", kRate, pairs);
  ASSERT_EQ(round, 2);
  ASSERT_EQ(r.size(), pairs.size() / 2);
  std::map<std::string, int64_t> left = tokens, score;
  int64_t sum = 0;
  for (size_t k = 0; k < r.size(); ++k) {
    const std::string& name = pairs[2 * k];
    int64_t want = std::min<int64_t>(std::stoll(pairs[2 * k + 1]), left[name]);
    left[name] -= want;
    score[name] += want;
    sum += want;
    EXPECT_EQ(r[k].second, want) << name << " (pair " << k << ")";
    if (want > 0) EXPECT_EQ(r[k].first, score[name]) << name;
  }
  EXPECT_EQ(cmd({"GET", keys_.total(2)}).str, std::to_string(sum));
  EXPECT_EQ(cmd({"HGET", keys_.partition(0, 1).rate(2), "p2"})
                .str.rfind(std::to_string(left["p2"] * 1000) + ",", 0),
            0u);
  EXPECT_EQ(cmd({"HLEN", keys_.partition(0, 1).rate(2)}).integer, 1501)
      << "every player once, and the marker";
}

// Two gateways' calls for the same player back to back (MULTI: the same millisecond as a rule),
// then four connections racing: one bucket serves them all.
TEST_F(ClickRateRounds, CallsOfSeveralGatewaysShareThePlayersBucket) {
  int64_t t0 = redis_now();
  run_round(1);
  auto pk = keys_.partition(0, 1);
  cmd({"MULTI"});
  click_on(pk, "gA:1", 10, 1, 1, {"alice", "7"});
  click_on(pk, "gB:1", 10, 1, 1, {"alice", "7", "bob", "1"});
  Reply both = cmd({"EXEC"});
  int64_t t1 = redis_now();
  ASSERT_EQ(both.elements.size(), 2u) << both.str;
  int64_t a = both.elements[0].elements.at(2).integer, b = both.elements[1].elements.at(2).integer;
  EXPECT_EQ(a, 7);
  EXPECT_LE(a + b, bound(10, t0, t1));
  EXPECT_GE(a + b, 10) << "the second gets what is left";

  int64_t s0 = redis_now();
  std::atomic<int64_t> total{0};
  std::vector<std::thread> gateways;
  for (int g = 0; g < 4; ++g) {
    gateways.emplace_back([&, g] {
      RedisSync conn(server_->port());
      for (int i = 0; i < 40; ++i) {
        std::string id = "race" + std::to_string(g) + ":" + std::to_string(i);
        std::vector<std::string> args{id, "10", "1", "1", "carol", "2"};
        auto keys = click_keys(pk, id, 1);
        std::vector<std::string> a{"EVAL", bus::lua::click, std::to_string(keys.size())};
        a.insert(a.end(), keys.begin(), keys.end());
        a.insert(a.end(), args.begin(), args.end());
        Reply r = conn.cmd(a);
        if (r.elements.size() == 3) total += r.elements[2].integer;
      }
    });
  }
  for (auto& t : gateways) t.join();
  int64_t s1 = redis_now();
  EXPECT_LE(total.load(), bound(10, s0, s1)) << (s1 - s0) << " ms";
  EXPECT_GE(total.load(), 10);
}

}  // namespace
}  // namespace clickrace::test
