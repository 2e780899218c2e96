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
