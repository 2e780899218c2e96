#pragma once
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <memory>
#include <string>
#include <vector>

#include "clickrace/bus/keys.hpp"
#include "clickrace/bus/lua_scripts.hpp"
#include "redis_server.hpp"

// One real redis-server per test suite; each test gets its own key prefix, so tests stay apart
// without restarting Redis. The scripts run with EVAL: this tests the real Lua on a real server.
namespace clickrace::test {

class BusTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new RedisServer(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    static int n = 0;
    keys_ = bus::Keys("t" + std::to_string(++n) + ":");
    redis_ = std::make_unique<RedisSync>(server_->port());
    ASSERT_TRUE(redis_->ok());
  }

  Reply cmd(const std::vector<std::string>& args) { return redis_->cmd(args); }

  Reply eval(const char* script, const std::vector<std::string>& keys,
             const std::vector<std::string>& args) {
    std::vector<std::string> a{"EVAL", script, std::to_string(keys.size())};
    a.insert(a.end(), keys.begin(), keys.end());
    a.insert(a.end(), args.begin(), args.end());
    return cmd(a);
  }

  // Redis TIME in ms: the clock every script uses.
  int64_t redis_now() {
    Reply t = cmd({"TIME"});
    return std::stoll(t.elements.at(0).str) * 1000 + std::stoll(t.elements.at(1).str) / 1000;
  }

  // click.lua's KEYS for a batch on partition `pk` whose caller guesses round r is running
  // (docs/bus.md "Scripts"): 11 keys, the token buckets in the rate hashes of rounds r-1..r+2.
  static std::vector<std::string> click_keys(const bus::PartitionKeys& pk, const std::string& batch,
                                             int64_t r) {
    return {pk.schedule(), pk.sealed(),      pk.click_batch(batch), pk.scores(r),
            pk.total(r),   pk.scores(r + 1), pk.total(r + 1),       pk.rate(r - 1),
            pk.rate(r),    pk.rate(r + 1),   pk.rate(r + 2)};
  }
  // One click.lua call on partition `pk` of `partitions`, with the round guess r.
  Reply click_on(const bus::PartitionKeys& pk, const std::string& batch, int rate, int partitions,
                 int64_t r, const std::vector<std::string>& pairs) {
    std::vector<std::string> args{batch, std::to_string(rate), std::to_string(partitions),
                                  std::to_string(r)};
    args.insert(args.end(), pairs.begin(), pairs.end());
    return eval(bus::lua::click, click_keys(pk, batch, r), args);
  }
  // A batch as the gateway sends it: on partition k of S, the round guessed 0 at first, then
  // resent at once with the round a STALEROUND answer names.
  Reply click(const std::string& batch, int rate, const std::vector<std::string>& pairs, int k = 0,
              int partitions = 1) {
    bus::PartitionKeys pk = keys_.partition(k, partitions);
    Reply r = click_on(pk, batch, rate, partitions, 0, pairs);
    if (r.is_error() && r.str.rfind("STALEROUND ", 0) == 0) {
      r = click_on(pk, batch, rate, partitions, std::stoll(r.str.substr(11)), pairs);
    }
    return r;
  }

  void write_schedule(int64_t epoch, int64_t len, int64_t base = 1) {
    cmd({"HSET", keys_.schedule(), "epoch", std::to_string(epoch), "len", std::to_string(len),
         "base", std::to_string(base)});
  }

  static inline RedisServer* server_ = nullptr;
  bus::Keys keys_;
  std::unique_ptr<RedisSync> redis_;
};

// A SUBSCRIBE connection. drain() returns the messages that arrive before a quiet period; the
// connection is spent afterwards (hiredis 0.14 marks a timed-out context as failed).
class Subscriber {
 public:
  Subscriber(int port, const std::string& channel) {
    timeval tv{2, 0};
    ctx_ = redisConnectWithTimeout("127.0.0.1", port, tv);
    auto* r = static_cast<redisReply*>(redisCommand(ctx_, "SUBSCRIBE %s", channel.c_str()));
    if (r != nullptr) freeReplyObject(r);
  }
  ~Subscriber() {
    if (ctx_ != nullptr) redisFree(ctx_);
  }
  Subscriber(const Subscriber&) = delete;
  Subscriber& operator=(const Subscriber&) = delete;

  std::vector<std::string> drain(int quiet_ms = 300) {
    timeval tv{0, quiet_ms * 1000};
    redisSetTimeout(ctx_, tv);
    std::vector<std::string> out;
    while (true) {
      void* raw = nullptr;
      if (redisGetReply(ctx_, &raw) != REDIS_OK || raw == nullptr) break;
      auto* r = static_cast<redisReply*>(raw);
      if (r->type == REDIS_REPLY_ARRAY && r->elements == 3) {
        out.emplace_back(r->element[2]->str, r->element[2]->len);
      }
      freeReplyObject(r);
    }
    return out;
  }

 private:
  redisContext* ctx_ = nullptr;
};

}  // namespace clickrace::test
