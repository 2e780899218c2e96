// click.lua on the partitioned layout (docs/bus.md "Partitions"): one call touches one partition's
// keys, all of them declared (so a Redis Cluster can redirect a call before it runs), refuses a
// caller whose partition count or round guess is off with nothing written, and guards each
// partition by its own sealed mark. Real Redis, real script.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "bus_fixture.hpp"
#include "clickrace/bus/partitions.hpp"

namespace clickrace::test {
namespace {

constexpr int64_t kLong = 1'000'000;  // no boundary passes mid-test
constexpr int kS = 4;

class ClickPartitions : public BusTest {
 protected:
  // The schedule and its copy in every partition, as the leader writes them (round 6 runs).
  void write_partitioned_schedule(int partitions = kS, int64_t base = 1) {
    int64_t epoch = redis_now() - 5 * kLong - kLong / 2;
    write_schedule(epoch, kLong, base);
    cmd({"HSET", keys_.schedule(), "partitions", std::to_string(partitions)});
    for (int k = 0; k < partitions; ++k) {
      cmd({"HSET", keys_.partition(k, partitions).schedule(), "epoch", std::to_string(epoch), "len",
           std::to_string(kLong), "base", std::to_string(base), "partitions",
           std::to_string(partitions)});
    }
  }
  // Every key under the test's prefix (a partition's prefix drops the braces, not the name).
  std::set<std::string> all_keys() {
    std::set<std::string> out;
    std::string untagged = keys_.prefix();
    untagged.erase(std::remove(untagged.begin(), untagged.end(), '{'), untagged.end());
    untagged.erase(std::remove(untagged.begin(), untagged.end(), '}'), untagged.end());
    for (const auto& k : cmd({"KEYS", untagged + "*"}).elements) out.insert(k.str);
    return out;
  }
  // A player that falls in partition k of S.
  static std::string player_in(int k, int partitions, const std::string& stem = "player") {
    for (int i = 0;; ++i) {
      std::string name = stem + std::to_string(i);
      if (bus::partition_of(name, partitions) == k) return name;
    }
  }
};

TEST_F(ClickPartitions, ABatchWritesOnlyItsPartitionsKeys) {
  write_partitioned_schedule();
  std::string alice = player_in(2, kS, "alice"), bob = player_in(2, kS, "bob");
  auto before = all_keys();
  auto pk = keys_.partition(2, kS);
  Reply r = click_on(pk, "gw:1", 10, kS, 6, {alice, "3", bob, "2"});
  ASSERT_EQ(r.type, REDIS_REPLY_ARRAY) << r.str;
  EXPECT_EQ(r.elements.at(0).integer, 6);
  EXPECT_EQ(cmd({"ZSCORE", pk.scores(6), alice}).str, "3");
  EXPECT_EQ(cmd({"GET", pk.total(6)}).str, "5");
  std::set<std::string> written;
  for (const auto& k : all_keys()) {
    if (!before.count(k)) written.insert(k);
  }
  EXPECT_EQ(written,
            (std::set<std::string>{pk.scores(6), pk.total(6), pk.click_batch("gw:1"), pk.rate(6)}));
  EXPECT_EQ(cmd({"EXISTS", keys_.scores(6)}).integer, 0) << "the global layout is untouched";
  // Each partition's keys carry its own tag: another partition of the same round is apart.
  auto other = keys_.partition(1, kS);
  EXPECT_NE(other.prefix(), pk.prefix());
  std::string carol = player_in(1, kS, "carol");
  Reply o = click_on(other, "gw:2", 10, kS, 6, {carol, "1"});
  ASSERT_EQ(o.type, REDIS_REPLY_ARRAY) << o.str;
  EXPECT_EQ(cmd({"GET", other.total(6)}).str, "1");
  EXPECT_EQ(cmd({"GET", pk.total(6)}).str, "5");
}

// The caller grouped the batch by another partition count than the schedule's: refused with the
// stored count and nothing written, so the caller may regroup the clicks under new batch ids.
TEST_F(ClickPartitions, AnotherPartitionCountIsRefusedWithTheStoredOne) {
  write_partitioned_schedule();
  auto before = all_keys();
  // A gateway that still thinks S = 1 calls the global layout, whose schedule says 4.
  Reply one = click_on(keys_.partition(0, 1), "gw:1", 10, 1, 6, {"alice", "1"});
  ASSERT_TRUE(one.is_error());
  EXPECT_EQ(one.str, "PARTITIONS 4");
  Reply eight = click_on(keys_.partition(0, kS), "gw:1", 10, 8, 6, {"alice", "1"});
  EXPECT_EQ(eight.str, "PARTITIONS 4");
  // A copy without the field is one partition.
  cmd({"HDEL", keys_.partition(3, kS).schedule(), "partitions"});
  Reply absent = click_on(keys_.partition(3, kS), "gw:1", 10, kS, 6, {"alice", "1"});
  EXPECT_EQ(absent.str, "PARTITIONS 1");
  EXPECT_EQ(all_keys(), before) << "nothing written, not even the player's bucket";
  // Regrouped under the stored count and a fresh id, it counts.
  std::string alice = player_in(0, kS, "alice");
  Reply ok = click_on(keys_.partition(0, kS), "gw:2", 10, kS, 6, {alice, "1"});
  ASSERT_EQ(ok.type, REDIS_REPLY_ARRAY) << ok.str;
  EXPECT_EQ(ok.elements.at(1).integer, 1);
}

// The caller's round guess is neither the running round nor the one before it: refused with the
// running round and nothing written; resent with that round (same id), it counts once.
TEST_F(ClickPartitions, AStaleRoundGuessIsRefusedAndTheResendCounts) {
  write_partitioned_schedule();  // round 6
  auto pk = keys_.partition(0, kS);
  std::string p = player_in(0, kS);
  auto before = all_keys();
  for (int64_t r : {0, 3, 4, 7, 100}) {
    Reply stale = click_on(pk, "gw:1", 10, kS, r, {p, "2"});
    ASSERT_TRUE(stale.is_error()) << r;
    EXPECT_EQ(stale.str, "STALEROUND 6") << r;
  }
  EXPECT_EQ(all_keys(), before) << "nothing written, not even the player's bucket";
  // r = 5 (the round ended a moment ago by the caller's view) counts in r + 1 = 6.
  Reply late = click_on(pk, "gw:1", 10, kS, 5, {p, "2"});
  ASSERT_EQ(late.type, REDIS_REPLY_ARRAY) << late.str;
  EXPECT_EQ(late.elements.at(0).integer, 6);
  EXPECT_EQ(cmd({"ZSCORE", pk.scores(6), p}).str, "2");
  // A resend of the same id with yet another guess gets the stored reply: counted once.
  Reply again = click_on(pk, "gw:1", 10, kS, 6, {p, "2"});
  EXPECT_EQ(again.elements.at(1).integer, 2);
  EXPECT_EQ(again.elements.at(2).integer, 2);
  Reply exact = click_on(pk, "gw:3", 10, kS, 6, {p, "1"});
  EXPECT_EQ(exact.elements.at(1).integer, 3);
  EXPECT_EQ(cmd({"GET", pk.total(6)}).str, "3");
  EXPECT_EQ(cmd({"EXISTS", pk.scores(5), pk.total(5), pk.scores(7), pk.total(7)}).integer, 0);
}

TEST_F(ClickPartitions, APartitionWithoutItsCopyAnswersNoRound) {
  write_partitioned_schedule();
  cmd({"DEL", keys_.partition(1, kS).schedule()});
  auto before = all_keys();
  Reply r = click_on(keys_.partition(1, kS), "gw:1", 0, kS, 6, {player_in(1, kS), "1"});
  ASSERT_TRUE(r.is_error());
  EXPECT_EQ(r.str.rfind("NOROUND", 0), 0u) << r.str;
  EXPECT_EQ(all_keys(), before);
}

// Each partition is guarded by its own sealed mark: a partition sealed for the running round
// (its close has begun) counts in the next round; an unsealed one still counts in this one.
TEST_F(ClickPartitions, EachPartitionIsGuardedByItsOwnSealedMark) {
  write_partitioned_schedule();  // round 6
  auto sealed = keys_.partition(2, kS), open = keys_.partition(3, kS);
  cmd({"SET", sealed.sealed(), "6"});
  cmd({"SET", keys_.closed(), "9"});  // the global mark is the leader's, not click.lua's guard
  Reply s = click_on(sealed, "gw:1", 0, kS, 6, {player_in(2, kS), "1"});
  ASSERT_EQ(s.type, REDIS_REPLY_ARRAY) << s.str;
  EXPECT_EQ(s.elements.at(0).integer, 7);
  EXPECT_EQ(cmd({"EXISTS", sealed.scores(6)}).integer, 0);
  Reply o = click_on(open, "gw:2", 0, kS, 6, {player_in(3, kS), "1"});
  EXPECT_EQ(o.elements.at(0).integer, 6);
  // Sealed far ahead (a clock step back after the close): the guess must name sealed + 1.
  cmd({"SET", sealed.sealed(), "20"});
  Reply far = click_on(sealed, "gw:3", 0, kS, 6, {player_in(2, kS), "1"});
  EXPECT_EQ(far.str, "STALEROUND 21");
  Reply moved = click_on(sealed, "gw:3", 0, kS, 21, {player_in(2, kS), "1"});
  EXPECT_EQ(moved.elements.at(0).integer, 21);
}

// Exactly once per partition: a resend (lost answer) of each partition's batch changes nothing.
TEST_F(ClickPartitions, ResendsAreCountedOncePerPartition) {
  write_partitioned_schedule();
  for (int k = 0; k < kS; ++k) {
    std::string id = "gw:" + std::to_string(k);
    std::string p = player_in(k, kS);
    for (int send = 0; send < 3; ++send) {
      Reply r = click_on(keys_.partition(k, kS), id, 0, kS, 6, {p, "5"});
      ASSERT_EQ(r.type, REDIS_REPLY_ARRAY) << r.str;
      EXPECT_EQ(r.elements.at(1).integer, 5);
    }
    EXPECT_EQ(cmd({"GET", keys_.partition(k, kS).total(6)}).str, "5");
  }
}

// A MONITOR connection: every command Redis runs, scripts' included ("[0 lua] ...").
class Monitor {
 public:
  explicit Monitor(int port) {
    timeval tv{2, 0};
    ctx_ = redisConnectWithTimeout("127.0.0.1", port, tv);
    auto* r = static_cast<redisReply*>(redisCommand(ctx_, "MONITOR"));
    if (r != nullptr) freeReplyObject(r);
  }
  ~Monitor() { redisFree(ctx_); }
  Monitor(const Monitor&) = delete;
  Monitor& operator=(const Monitor&) = delete;
  // The lines received until a quiet period.
  std::vector<std::string> drain(int quiet_ms = 300) {
    timeval tv{0, quiet_ms * 1000};
    redisSetTimeout(ctx_, tv);
    std::vector<std::string> out;
    void* raw = nullptr;
    while (redisGetReply(ctx_, &raw) == REDIS_OK && raw != nullptr) {
      auto* r = static_cast<redisReply*>(raw);
      if (r->type == REDIS_REPLY_STATUS) out.emplace_back(r->str, r->len);
      freeReplyObject(r);
      raw = nullptr;
    }
    return out;
  }

 private:
  redisContext* ctx_ = nullptr;
};

// The quoted arguments of a MONITOR line: `123.4 [0 lua] "ZINCRBY" "key" "1" "alice"`.
std::vector<std::string> monitor_args(const std::string& line) {
  std::vector<std::string> out;
  for (std::size_t i = line.find('"'); i != std::string::npos; i = line.find('"', i + 1)) {
    std::string arg;
    for (++i; i < line.size() && line[i] != '"'; ++i) {
      if (line[i] == '\\' && i + 1 < line.size()) ++i;
      arg += line[i];
    }
    out.push_back(arg);
  }
  return out;
}

// What a Redis Cluster relies on to redirect a call before it runs: every key the script reads
// or writes is one of its declared KEYS, on every path (first run with a token bucket, resend,
// sealed-mark move, refusals).
TEST_F(ClickPartitions, TheScriptTouchesOnlyItsDeclaredKeys) {
  write_partitioned_schedule();
  auto pk = keys_.partition(1, kS);
  std::string a = player_in(1, kS, "a"), b = player_in(1, kS, "b");
  struct Call {
    std::string id;
    int64_t r;
    int partitions;
  };
  std::vector<Call> calls = {{"m:1", 6, kS}, {"m:1", 6, kS},  {"m:2", 3, kS},
                             {"m:3", 6, 1},  {"m:4", 20, kS}, {"m:5", 21, kS}};
  Monitor monitor(server_->port());  // drained once: hiredis fails a context after a timeout
  std::set<std::string> declared;
  for (std::size_t i = 0; i < calls.size(); ++i) {
    if (i == 4) cmd({"SET", pk.sealed(), "20"});
    const auto& c = calls[i];
    std::vector<std::string> pairs{a, "2", b, "1"};
    for (const auto& k : click_keys(pk, c.id, c.r)) declared.insert(k);
    click_on(pk, c.id, 5, c.partitions, c.r, pairs);
  }
  int script_commands = 0;
  std::set<std::string> verbs;
  for (const auto& line : monitor.drain()) {
    if (line.find("lua]") == std::string::npos) continue;
    auto args = monitor_args(line);
    ASSERT_FALSE(args.empty()) << line;
    std::string verb = args[0];
    std::transform(verb.begin(), verb.end(), verb.begin(), ::toupper);
    verbs.insert(verb);
    ++script_commands;
    if (verb == "TIME") continue;
    ASSERT_GE(args.size(), 2u) << line;
    EXPECT_TRUE(declared.count(args[1])) << "undeclared key in: " << line;
  }
  EXPECT_GT(script_commands, 10);
  for (const char* v :
       {"GET", "PTTL", "PEXPIRE", "HMGET", "SET", "ZINCRBY", "INCRBY", "HSET", "PEXPIREAT"}) {
    EXPECT_TRUE(verbs.count(v)) << v << " path not exercised";
  }
}

// The buckets cost O(1) commands per call, and none with rate 0 (unlimited): MONITOR counts the
// script's commands on the bucket hashes for calls of 1 player and of 50.
TEST_F(ClickPartitions, BucketCommandsPerCallDoNotGrowWithPlayersAndRateZeroHasNone) {
  write_partitioned_schedule();
  auto pk = keys_.partition(3, kS);
  std::vector<std::string> one{player_in(3, kS, "solo"), "1"}, many, many_again;
  for (int i = 0; many.size() < 100; ++i) {
    many.insert(many.end(), {player_in(3, kS, "m" + std::to_string(i) + "x"), "2"});
  }
  Monitor monitor(server_->port());
  click_on(pk, "z:0", 0, kS, 6, many);  // rate 0
  cmd({"ECHO", "mark:rate"});
  click_on(pk, "z:1", 5, kS, 6, one);  // creates round 6's hash
  cmd({"ECHO", "mark:one"});
  click_on(pk, "z:2", 5, kS, 6, one);
  cmd({"ECHO", "mark:many"});
  click_on(pk, "z:3", 5, kS, 6, many);  // their first call of the round
  cmd({"ECHO", "mark:again"});
  click_on(pk, "z:4", 5, kS, 6, many);
  cmd({"ECHO", "mark:end"});
  std::map<std::string, int> per_phase;  // script commands on a rate hash, by the phase before
  std::string phase = "zero";
  for (const auto& line : monitor.drain()) {
    auto args = monitor_args(line);
    if (args.size() == 2 && args[0] == "ECHO") phase = args[1];
    if (line.find("lua]") == std::string::npos || args.size() < 2) continue;
    if (args[1].find(":rate") != std::string::npos) ++per_phase[phase];
  }
  EXPECT_EQ(per_phase["zero"], 0) << "rate 0 touches no bucket";
  EXPECT_EQ(per_phase["mark:one"], 2) << "one HMGET and one HSET";
  EXPECT_EQ(per_phase["mark:many"], 3) << "50 players new in the round: and round 5's HMGET";
  EXPECT_EQ(per_phase["mark:again"], 2) << "the same as for one player";
  EXPECT_GE(per_phase["mark:rate"], 2);
  EXPECT_LE(per_phase["mark:rate"], 6) << "a round's first call reads round 5's and 7's hashes";
}

}  // namespace
}  // namespace clickrace::test
